"""Storage: the only place with SQL (SQLite via aiosqlite). See docs/architecture.md."""

from .errors import (
    DuplicateMovieError,
    GuildMovieCapError,
    MigrationError,
    SchemaTooNewError,
    StorageError,
    UnknownMovieError,
)
from .models import BulkResult, GuildSettings, Movie, MovieRow, RatedMovie, RatingArrays
from .repository import Storage

__all__ = [
    "BulkResult",
    "DuplicateMovieError",
    "GuildMovieCapError",
    "GuildSettings",
    "MigrationError",
    "Movie",
    "MovieRow",
    "RatedMovie",
    "RatingArrays",
    "SchemaTooNewError",
    "Storage",
    "StorageError",
    "UnknownMovieError",
]
