"""Storage: the only place with SQL (SQLite via aiosqlite, or PostgreSQL via asyncpg).

`Storage` is the contract (`contract.py`) every service depends on; `sqlite/` and `postgres/`
are its two backends side by side, each split by data area. `open_storage(settings)` picks the
backend: PostgreSQL when `settings.database_url` (`[storage] url`, `MOVIEBOT_DATABASE_URL`) is
set, else the SQLite file `settings.database` (docs/architecture.md). Code outside this package
imports only the names listed here (and `bulk` for refit workers, `models` for row types).
"""

from typing import TYPE_CHECKING

from .contract import Storage
from .errors import (
    DuplicateMovieError,
    GuildMovieCapError,
    MigrationError,
    SchemaTooNewError,
    StorageError,
    UnknownMovieError,
    WatchlistCapError,
)
from .migration import Migration
from .models import BulkResult, GuildSettings, Movie, MovieRow, RatedMovie, RatingArrays
from .postgres import PostgresStorage
from .postgres.migrations import PG_MIGRATIONS
from .sqlite import SqliteStorage
from .sqlite.migrations import LATEST_VERSION, MIGRATIONS
from .urls import display_url, is_postgres_url

if TYPE_CHECKING:
    from bot.config import Settings

Storage.file_backend = SqliteStorage  # what `Storage.open(path)` opens a file with


def database_target(settings: "Settings") -> str:
    """The database a settings object names: its PostgreSQL URL, else the SQLite path."""
    url = getattr(settings, "database_url", "") or ""
    return url if url else str(settings.database)


async def open_storage(settings: "Settings") -> Storage:
    """Open the configured database (applying migrations): PostgreSQL or SQLite."""
    url = getattr(settings, "database_url", "") or ""
    if url:
        return await PostgresStorage.open(url)
    return await SqliteStorage.open(settings.database)


__all__ = [
    "LATEST_VERSION",
    "MIGRATIONS",
    "PG_MIGRATIONS",
    "BulkResult",
    "DuplicateMovieError",
    "GuildMovieCapError",
    "GuildSettings",
    "Migration",
    "MigrationError",
    "Movie",
    "MovieRow",
    "PostgresStorage",
    "RatedMovie",
    "RatingArrays",
    "SchemaTooNewError",
    "SqliteStorage",
    "Storage",
    "StorageError",
    "UnknownMovieError",
    "WatchlistCapError",
    "database_target",
    "display_url",
    "is_postgres_url",
    "open_storage",
]
