"""Guild lifecycle and privacy (left, joined, purge), names and the summary, written once for
both backends. Dialect hooks: `_schema_version` and `MEMBER_COLUMNS_SQL` (the schema's
catalog differs); `backup` is each backend's own."""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from ..models import DatabaseSummary, GuildActivity, GuildName
from .common import BUSIEST_SQL, GUILD_TABLES, epoch, sql_name
from .executor import SqlStorage


def _when(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


class GuildQueries(SqlStorage):
    """Guilds (see the contract for each method's meaning)."""

    # (table, column) of every column of the tables that have a `user_id` column, by table
    # and column order.
    MEMBER_COLUMNS_SQL: str

    @abstractmethod
    async def _schema_version(self) -> int:
        """The schema version the database is at."""

    async def mark_guild_left(
        self, guild_id: int, at: datetime | float | None = None
    ) -> None:
        await self._db.execute(
            "INSERT INTO guild_settings (guild_id, left_at) VALUES ($1, $2) "
            "ON CONFLICT (guild_id) DO UPDATE SET "
            "left_at = COALESCE(guild_settings.left_at, excluded.left_at)",
            guild_id, epoch(at))

    async def guilds_with_data(self) -> set[int]:
        rows = await self._db.fetchall(
            "SELECT guild_id FROM ratings UNION SELECT guild_id FROM guild_settings "
            "UNION SELECT guild_id FROM movies WHERE guild_id IS NOT NULL "
            "UNION SELECT guild_id FROM model_state")
        return {int(row[0]) for row in rows}

    async def save_guild_names(self, guilds: Iterable[GuildName]) -> None:
        rows = [(g.guild_id, g.name, g.member_count, time.time()) for g in guilds]
        if rows:
            await self._db.executemany(
                "INSERT INTO guild_names (guild_id, name, member_count, updated_at) "
                "VALUES ($1, $2, $3, $4) ON CONFLICT (guild_id) DO UPDATE SET "
                "name = excluded.name, member_count = excluded.member_count, "
                "updated_at = excluded.updated_at", rows)

    async def mark_guild_joined(self, guild_id: int) -> None:
        await self._db.execute("UPDATE guild_settings SET left_at = NULL WHERE guild_id = $1",
                               guild_id)

    async def guilds_left_before(self, cutoff: datetime | float) -> list[int]:
        rows = await self._db.fetchall(
            "SELECT guild_id FROM guild_settings WHERE left_at IS NOT NULL AND left_at < $1 "
            "ORDER BY guild_id", epoch(cutoff))
        return [int(row[0]) for row in rows]

    async def member_tables(self) -> dict[str, tuple[str, ...]]:
        tables: dict[str, tuple[str, ...]] = {}
        for table, column in await self._db.fetchall(self.MEMBER_COLUMNS_SQL):
            tables[str(table)] = (*tables.get(str(table), ()), str(column))
        return tables

    async def forget_member_rows(self, guild_id: int, user_id: int,
                                 tables: Sequence[str]) -> dict[str, int]:
        deleted: dict[str, int] = {}
        async with self._db.transaction() as tx:
            for table in tables:
                deleted[table] = await tx.execute(
                    f"DELETE FROM {sql_name(table)} WHERE guild_id = $1 AND user_id = $2",
                    guild_id, user_id)
        return deleted

    async def purge_guild(self, guild_id: int,
                          member_tables: Sequence[str] | None = None) -> int:
        if member_tables is None:
            member_tables = list(await self.member_tables())
        total = 0
        async with self._db.transaction() as tx:
            for table in (*member_tables, *GUILD_TABLES):
                total += await tx.execute(
                    f"DELETE FROM {sql_name(table)} WHERE guild_id = $1", guild_id)
        return total

    async def summary(self, busiest: int = 5) -> DatabaseSummary:
        row = await self._db.fetchone(
            "SELECT (SELECT count(*) FROM movies WHERE guild_id IS NULL), "
            "(SELECT count(*) FROM movies WHERE guild_id IS NOT NULL), "
            "(SELECT count(*) FROM ratings), "
            "(SELECT count(*) FROM ratings WHERE updated_at >= $1), "
            "(SELECT max(updated_at) FROM ratings), "
            "(SELECT count(*) FROM (SELECT DISTINCT guild_id, user_id FROM ratings) d), "
            "(SELECT count(*) FROM model_state), "
            "(SELECT count(*) FROM prior_state), "
            "(SELECT count(*) FROM guild_settings WHERE left_at IS NOT NULL)",
            time.time() - 7 * 86400)
        version = await self._schema_version()
        rows = await self._db.fetchall(BUSIEST_SQL, busiest)
        return DatabaseSummary(
            schema_version=version, catalog_movies=int(row[0]),
            guild_movies=int(row[1]), guilds=len(await self.guilds_with_data()),
            guilds_left=int(row[8]), members=int(row[5]), ratings=int(row[2]),
            ratings_last_week=int(row[3]), last_rating_at=_when(row[4]),
            saved_models=int(row[6]), prior_installed=bool(row[7]),
            busiest=tuple(GuildActivity(int(r[0]), int(r[1]), int(r[2]), _when(r[3]), r[4])
                          for r in rows))
