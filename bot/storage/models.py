"""Plain dataclasses returned by the storage layer (no SQL, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, NamedTuple

import numpy as np

AddMoviePermission = Literal["manage_guild", "everyone"]
ADD_MOVIE_PERMISSIONS: tuple[str, ...] = ("manage_guild", "everyone")


@dataclass(frozen=True, slots=True)
class Movie:
    """One catalog (guild_id None) or guild-added movie."""

    id: int
    title: str
    year: int | None
    genres: tuple[str, ...] = ()
    guild_id: int | None = None
    movielens_id: int | None = None
    imdb_id: str | None = None
    tmdb_id: int | None = None

    @property
    def label(self) -> str:
        """"Title (Year)", or just the title when the year is unknown."""
        return f"{self.title} ({self.year})" if self.year else self.title


@dataclass(frozen=True, slots=True)
class RatedMovie:
    """A member's rating of a movie, as listed by `Storage.member_ratings`."""

    movie: Movie
    score: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class RatingArrays:
    """A guild's ratings as parallel numpy columns (row i = one rating)."""

    user_ids: np.ndarray  # int64[n]
    movie_ids: np.ndarray  # int64[n]
    scores: np.ndarray  # float32[n]

    def __len__(self) -> int:
        return int(self.scores.shape[0])


@dataclass(frozen=True, slots=True)
class GuildSettings:
    """Per-guild settings; None means "use the config default"."""

    guild_id: int
    add_movie_permission: AddMoviePermission = "manage_guild"
    ratings_visible: bool = True
    min_ratings_for_personal: int | None = None
    features: int | None = None
    regularization: float | None = None


class MovieRow(NamedTuple):
    """One movie to insert in bulk (what the catalog importers produce)."""

    title: str
    year: int | None
    genres: tuple[str, ...] = ()
    movielens_id: int | None = None
    imdb_id: str | None = None
    tmdb_id: int | None = None
    alt_title: str | None = None


@dataclass(frozen=True, slots=True)
class BulkResult:
    """What `Storage.add_movies_bulk` did with a batch."""

    added: int
    existing: int
    updated_ids: int = 0


class PriorMovie(NamedTuple):
    """One movie of the dataset a taste prior was learned from (what linking needs)."""

    key: int  # the dataset's movie id (MovieLens movieId, or the ML-100K item id)
    title: str  # as written in the dataset, e.g. "Seven (a.k.a. Se7en) (1995)"
    year: int | None
    imdb_id: str | None = None
    tmdb_id: int | None = None
    n_ratings: int = 0  # ratings of this movie in the dataset


class CatalogLinkRow(NamedTuple):
    """A catalog movie as linking sees it."""

    id: int
    title: str
    year: int | None
    movielens_id: int | None
    imdb_id: str | None
    tmdb_id: int | None
    search_text: str  # "norm|alt norm" (see search.search_text)


class PriorLink(NamedTuple):
    """Catalog movie `movie_id` is the prior's movie `key`, found by `method`."""

    movie_id: int
    key: int
    method: str  # one of PRIOR_LINK_METHODS


PRIOR_LINK_METHODS: tuple[str, ...] = (
    "movielens", "imdb", "tmdb", "title", "title_year1", "title_noyear", "subtitle")


@dataclass(frozen=True, slots=True)
class PriorStatus:
    """What `Storage.prior_status` reports about the installed taste prior."""

    source: str  # dataset name and where it came from
    id_kind: str  # "movielens" (keys are MovieLens movieIds) or "ml-100k"
    built_at: datetime
    linked_at: datetime  # last (re)link: compare it to notice new links
    dataset_movies: int
    dataset_users: int
    dataset_ratings: int
    stored_movies: int  # movies in the blob
    blob_bytes: int
    linked_movies: int  # catalog movies linked to a stored prior movie
    linked_ratings: int  # the dataset's ratings of those movies


__all__ = [
    "ADD_MOVIE_PERMISSIONS", "AddMoviePermission", "BulkResult", "GuildSettings", "Movie",
    "MovieRow", "RatedMovie", "RatingArrays",
]
