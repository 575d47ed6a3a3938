"""The storage contract: every query the bot makes, behind one small async API.

`Storage` is abstract (Red-DiscordBot's `BaseDriver` is the model): services and cogs depend on
it alone, and each backend implements all of it — `sqlite.SqliteStorage` (one file, aiosqlite)
and `postgres.PostgresStorage` (asyncpg), composed from one mixin per data area. The contract
tests in `tests/storage` run on both. `open_storage(settings)` (in `bot.storage`) picks the
backend; `Storage.open(path)` opens an SQLite file.

Guild scoping is part of the contract: a movie is *visible* in guild G when `movies.guild_id
IS NULL` (the shared catalog) or `movies.guild_id = G` (added by G). Methods taking a guild id
never return, rate or resolve a movie that is not visible in that guild.
"""

from __future__ import annotations

import os
from abc import abstractmethod
from pathlib import Path
from types import TracebackType
from typing import ClassVar, Self

from .contracts.catalog import CatalogContract
from .contracts.media import MediaContract
from .contracts.members import MemberContract
from .errors import StorageError
from .migration import Migration


class Storage(CatalogContract, MemberContract, MediaContract):
    """The bot's storage (see the module docstring and docs/architecture.md)."""

    path: Path  # the SQLite file; for PostgreSQL the URL without its password (messages only)
    database: str  # what a refit job opens (`bot.storage.bulk.connect`): a path or a URL

    # The backend `Storage.open(path)` opens a file with (set by `bot.storage`: the contract
    # knows no backend).
    file_backend: ClassVar[type[Storage] | None] = None

    # ----------------------------------------------------------------- lifecycle
    @classmethod
    async def open(
        cls, path: str | os.PathLike[str], *, migrations: list[Migration] | None = None
    ) -> Storage:
        """Open the SQLite database at `path` (creating it and its folder), set pragmas,
        apply migrations. A `postgresql://` URL is refused (StorageError): `open_storage`
        picks the backend."""
        backend = Storage.file_backend
        if backend is None or backend is cls:
            raise StorageError("no storage backend opens files")
        return await backend.open(path, migrations=migrations)

    @abstractmethod
    async def close(self) -> None:
        """Close every connection."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        await self.close()
