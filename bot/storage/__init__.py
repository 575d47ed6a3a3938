"""Storage: the only place with SQL (SQLite via aiosqlite, or PostgreSQL via asyncpg).

`open_storage(settings)` picks the backend: PostgreSQL when `settings.database_url` (`[storage]
url`, `MOVIEBOT_DATABASE_URL`) is set, else the SQLite file `settings.database`. Both honour
one contract (docs/architecture.md).
"""

from typing import TYPE_CHECKING

from .errors import (
    DuplicateMovieError,
    GuildMovieCapError,
    MigrationError,
    SchemaTooNewError,
    StorageError,
    UnknownMovieError,
    WatchlistCapError,
)
from .models import BulkResult, GuildSettings, Movie, MovieRow, RatedMovie, RatingArrays
from .repository import Storage

if TYPE_CHECKING:
    from bot.config import Settings


def database_target(settings: "Settings") -> str:
    """The database a settings object names: its PostgreSQL URL, else the SQLite path."""
    url = getattr(settings, "database_url", "") or ""
    return url if url else str(settings.database)


async def open_storage(settings: "Settings") -> Storage:
    """Open the configured database (applying migrations): PostgreSQL or SQLite."""
    url = getattr(settings, "database_url", "") or ""
    if url:
        from .postgres import PostgresStorage

        return await PostgresStorage.open(url)
    return await Storage.open(settings.database)


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
    "WatchlistCapError",
    "database_target",
    "open_storage",
]
