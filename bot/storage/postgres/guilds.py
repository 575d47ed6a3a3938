"""PostgreSQL storage, guilds: what differs from the shared `sql/guilds.py` (the schema's
catalog, the schema version; backups are pg_dump's)."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import StorageError
from ..sql.guilds import GuildQueries
from .base import PostgresBase
from .migrations import schema_version


class PostgresGuilds(GuildQueries, PostgresBase):
    """Guilds' PostgreSQL parts."""

    MEMBER_COLUMNS_SQL = (
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name IN (SELECT table_name "
        "FROM information_schema.columns WHERE table_schema = current_schema() AND "
        "column_name = 'user_id') ORDER BY table_name, ordinal_position")

    async def _schema_version(self) -> int:
        async with self._pool.acquire() as conn:
            return await schema_version(conn)

    async def backup(self, dest_path: str | os.PathLike[str]) -> Path:
        raise StorageError("this bot stores its data in PostgreSQL: back it up with "
                           "pg_dump -Fc (see the README's 'Scaling out: PostgreSQL')")
