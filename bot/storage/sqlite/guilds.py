"""SQLite storage, guilds: what differs from the shared `sql/guilds.py` (the schema's
catalog, the schema version, the online backup)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path

from ..errors import StorageError
from ..sql.guilds import GuildQueries
from .base import SqliteBase, _prepare_backup


class SqliteGuilds(GuildQueries, SqliteBase):
    """Guilds' SQLite parts, and the backup."""

    MEMBER_COLUMNS_SQL = (
        "SELECT m.name, c.name FROM sqlite_master m JOIN pragma_table_info(m.name) c "
        "WHERE m.type = 'table' AND m.name IN (SELECT t.name FROM sqlite_master t "
        "JOIN pragma_table_info(t.name) u WHERE u.name = 'user_id') ORDER BY m.name, c.cid")

    async def _schema_version(self) -> int:
        return int(await self._db.fetchval("PRAGMA user_version"))

    async def backup(self, dest_path: str | os.PathLike[str]) -> Path:
        """Copy the database to `dest_path` with SQLite's online backup API.

        Written to a temporary file next to the destination, then renamed, so a failed
        backup never leaves a half-written file under the final name.
        """
        dest = Path(dest_path)
        partial = await asyncio.to_thread(_prepare_backup, dest, self.path)
        try:
            target = await asyncio.to_thread(sqlite3.connect, str(partial),
                                             check_same_thread=False)
            try:
                await self._conn.backup(target)
                target.execute("PRAGMA journal_mode = DELETE")
            finally:
                target.close()
            os.replace(partial, dest)
        except (OSError, sqlite3.Error) as error:
            reason = getattr(error, "strerror", None) or str(error)
            raise StorageError(f"cannot write the backup to {dest}: {reason}") from error
        finally:  # nothing half-written is left behind
            for leftover in (partial, partial.with_name(partial.name + "-journal")):
                leftover.unlink(missing_ok=True)
        return dest
