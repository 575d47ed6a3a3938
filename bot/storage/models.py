"""Plain dataclasses returned by the storage layer (no SQL, no I/O).

The domain values (`Movie`, `RatedMovie`, `GuildSettings`) live in `bot.domain.models` and are
re-exported here; the array and bulk types are storage's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import numpy as np

from bot.domain.models import (
    ADD_MOVIE_PERMISSIONS,
    AddMoviePermission,
    GuildSettings,
    Movie,
    RatedMovie,
)

# The movie columns a `Movie` is read from, in order (both backends' bulk reads).
MOVIE_COLUMNS = "m.id, m.title, m.year, m.genres, m.guild_id, m.movielens_id, m.imdb_id, m.tmdb_id"


@dataclass(frozen=True, slots=True)
class SavedModel:
    """A guild's saved model: its blob (None after a forget), the ratings version it was
    trained on and the model settings it was trained with."""

    blob: bytes | None
    ratings_version: int
    settings_key: str


@dataclass(frozen=True, slots=True)
class PriorRows:
    """The installed prior as stored: its stamp (build and link times), blob and links."""

    stamp: tuple[float, float]
    blob: bytes
    movie_ids: np.ndarray
    keys: np.ndarray


@dataclass(frozen=True, slots=True)
class RatingArrays:
    """A guild's ratings as parallel numpy columns (row i = one rating)."""

    user_ids: np.ndarray  # int64[n]
    movie_ids: np.ndarray  # int64[n]
    scores: np.ndarray  # float32[n]

    def __len__(self) -> int:
        return int(self.scores.shape[0])


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
    dataset_movies: int  # movies with ratings in the dataset
    dataset_users: int
    dataset_ratings: int
    stored_movies: int  # movies in the blob
    blob_bytes: int
    linked_movies: int  # catalog movies linked to a stored prior movie
    linked_ratings: int  # the dataset's ratings of those movies

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> PriorStatus:
        """From the status query both backends run (same columns, same order)."""
        return cls(
            source=row[0], id_kind=row[1], built_at=datetime.fromtimestamp(row[2], UTC),
            linked_at=datetime.fromtimestamp(row[3], UTC), dataset_movies=int(row[4]),
            dataset_users=int(row[5]), dataset_ratings=int(row[6]), blob_bytes=int(row[7]),
            stored_movies=int(row[8]), linked_movies=int(row[9]), linked_ratings=int(row[10]))


@dataclass(frozen=True, slots=True)
class GuildActivity:
    """One guild's share of the database (for `python -m bot stats`)."""

    guild_id: int
    ratings: int
    members: int
    last_rating_at: datetime | None
    name: str | None = None  # the server's name when the bot last saw it (None: not known)


@dataclass(frozen=True, slots=True)
class GuildName:
    """A server's name (already cleaned for display) and member count, for `stats`."""

    guild_id: int
    name: str
    member_count: int | None


@dataclass(frozen=True, slots=True)
class DatabaseSummary:
    """What `Storage.summary` reports: the whole database in a few numbers."""

    schema_version: int
    catalog_movies: int
    guild_movies: int
    guilds: int  # guilds with ratings, added movies, settings or a saved model
    guilds_left: int  # guilds the bot has left whose data waits for the purge
    members: int  # distinct (guild, member) pairs with at least one rating
    ratings: int
    ratings_last_week: int
    last_rating_at: datetime | None
    saved_models: int
    prior_installed: bool
    busiest: tuple[GuildActivity, ...]  # guilds with the most ratings, most first


__all__ = [
    "ADD_MOVIE_PERMISSIONS", "AddMoviePermission", "BulkResult", "GuildSettings", "Movie",
    "MovieRow", "RatedMovie", "RatingArrays",
]
