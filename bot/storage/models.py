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
