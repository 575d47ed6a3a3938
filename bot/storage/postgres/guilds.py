"""PostgreSQL storage, guild lifecycle and privacy (left, joined, purge), names, the
summary, backup."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from ..errors import StorageError
from ..models import DatabaseSummary, GuildActivity, GuildName
from ..sql.common import BUSIEST_SQL, GUILD_TABLES, epoch, sql_name
from .base import PostgresBase, _count
from .migrations import schema_version


class PostgresGuilds(PostgresBase):
    """Guild lifecycle and privacy (left, joined, purge), names, the summary, backup."""

    async def mark_guild_left(
        self, guild_id: int, at: datetime | float | None = None
    ) -> None:
        await self._execute(
            "INSERT INTO guild_settings (guild_id, left_at) VALUES ($1, $2) "
            "ON CONFLICT (guild_id) DO UPDATE SET "
            "left_at = COALESCE(guild_settings.left_at, excluded.left_at)",
            guild_id, epoch(at))

    async def guilds_with_data(self) -> set[int]:
        rows = await self._fetch(
            "SELECT guild_id FROM ratings UNION SELECT guild_id FROM guild_settings "
            "UNION SELECT guild_id FROM movies WHERE guild_id IS NOT NULL "
            "UNION SELECT guild_id FROM model_state")
        return {int(row[0]) for row in rows}

    async def save_guild_names(self, guilds: Iterable[GuildName]) -> None:
        rows = [(g.guild_id, g.name, g.member_count, time.time()) for g in guilds]
        if not rows:
            return
        async with self._tx() as conn:
            await conn.executemany(
                "INSERT INTO guild_names (guild_id, name, member_count, updated_at) "
                "VALUES ($1, $2, $3, $4) ON CONFLICT (guild_id) DO UPDATE SET "
                "name = excluded.name, member_count = excluded.member_count, "
                "updated_at = excluded.updated_at", rows)

    async def mark_guild_joined(self, guild_id: int) -> None:
        await self._execute("UPDATE guild_settings SET left_at = NULL WHERE guild_id = $1",
                            guild_id)

    async def guilds_left_before(self, cutoff: datetime | float) -> list[int]:
        rows = await self._fetch(
            "SELECT guild_id FROM guild_settings WHERE left_at IS NOT NULL AND left_at < $1 "
            "ORDER BY guild_id", epoch(cutoff))
        return [int(row[0]) for row in rows]

    async def member_tables(self) -> dict[str, tuple[str, ...]]:
        rows = await self._fetch(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name IN (SELECT table_name "
            "FROM information_schema.columns WHERE table_schema = current_schema() AND "
            "column_name = 'user_id') ORDER BY table_name, ordinal_position")
        tables: dict[str, tuple[str, ...]] = {}
        for table, column in rows:
            tables[str(table)] = (*tables.get(str(table), ()), str(column))
        return tables

    async def forget_member_rows(self, guild_id: int, user_id: int,
                                 tables: Sequence[str]) -> dict[str, int]:
        deleted: dict[str, int] = {}
        async with self._tx() as conn:
            for table in tables:
                deleted[table] = _count(await conn.execute(
                    f"DELETE FROM {sql_name(table)} WHERE guild_id = $1 AND user_id = $2",
                    guild_id, user_id))
        return deleted

    async def purge_guild(self, guild_id: int,
                          member_tables: Sequence[str] | None = None) -> int:
        if member_tables is None:
            member_tables = list(await self.member_tables())
        total = 0
        async with self._tx() as conn:
            for table in (*member_tables, *GUILD_TABLES):
                total += _count(await conn.execute(
                    f"DELETE FROM {sql_name(table)} WHERE guild_id = $1", guild_id))
        return total

    async def summary(self, busiest: int = 5) -> DatabaseSummary:
        week_ago = time.time() - 7 * 86400
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT (SELECT count(*) FROM movies WHERE guild_id IS NULL), "
                "(SELECT count(*) FROM movies WHERE guild_id IS NOT NULL), "
                "(SELECT count(*) FROM ratings), "
                "(SELECT count(*) FROM ratings WHERE updated_at >= $1), "
                "(SELECT max(updated_at) FROM ratings), "
                "(SELECT count(*) FROM (SELECT DISTINCT guild_id, user_id FROM ratings) d), "
                "(SELECT count(*) FROM model_state), "
                "(SELECT count(*) FROM prior_state), "
                "(SELECT count(*) FROM guild_settings WHERE left_at IS NOT NULL)", week_ago)
            version = await schema_version(conn)
            rows = await conn.fetch(BUSIEST_SQL, busiest)

        def when(value: float | None) -> datetime | None:
            return datetime.fromtimestamp(value, UTC) if value is not None else None

        return DatabaseSummary(
            schema_version=version, catalog_movies=int(row[0]),
            guild_movies=int(row[1]), guilds=len(await self.guilds_with_data()),
            guilds_left=int(row[8]), members=int(row[5]), ratings=int(row[2]),
            ratings_last_week=int(row[3]), last_rating_at=when(row[4]),
            saved_models=int(row[6]), prior_installed=bool(row[7]),
            busiest=tuple(GuildActivity(int(r[0]), int(r[1]), int(r[2]), when(r[3]), r[4])
                          for r in rows))

    async def backup(self, dest_path: str | os.PathLike[str]) -> Path:
        raise StorageError("this bot stores its data in PostgreSQL: back it up with "
                           "pg_dump -Fc (see the README's 'Scaling out: PostgreSQL')")
