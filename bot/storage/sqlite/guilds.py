"""SQLite storage, guild lifecycle and privacy (left, joined, purge), names, the
summary, backup."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from ..errors import StorageError
from ..models import DatabaseSummary, GuildActivity, GuildName
from ..sql.common import BUSIEST_SQL, GUILD_TABLES, epoch, sql_name
from .base import SqliteBase, _prepare_backup


class SqliteGuilds(SqliteBase):
    """Guild lifecycle and privacy (left, joined, purge), names, the summary, backup."""

    async def mark_guild_left(
        self, guild_id: int, at: datetime | float | None = None
    ) -> None:
        """Record that the bot left (was removed from) the guild at `at` (default: now); an
        earlier record stands, so the grace period is never restarted."""
        await self._write(
            "INSERT INTO guild_settings (guild_id, left_at) VALUES (?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET "
            "left_at = COALESCE(guild_settings.left_at, excluded.left_at)",
            (guild_id, epoch(at)),
        )

    async def guilds_with_data(self) -> set[int]:
        """Every guild that has ratings, added movies, settings or a saved model here."""
        rows = await self._fetchall(
            "SELECT guild_id FROM ratings UNION SELECT guild_id FROM guild_settings "
            "UNION SELECT guild_id FROM movies WHERE guild_id IS NOT NULL "
            "UNION SELECT guild_id FROM model_state")
        return {int(row[0]) for row in rows}

    async def save_guild_names(self, guilds: Iterable[GuildName]) -> None:
        """Remember each server's name and member count (for `stats`), replacing older ones."""
        rows = [(g.guild_id, g.name, g.member_count, time.time()) for g in guilds]
        if not rows:
            return
        async with self._transaction() as conn:
            await conn.executemany(
                "INSERT INTO guild_names (guild_id, name, member_count, updated_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (guild_id) DO UPDATE SET "
                "name = excluded.name, member_count = excluded.member_count, "
                "updated_at = excluded.updated_at", rows)

    async def mark_guild_joined(self, guild_id: int) -> None:
        """The bot is (back) in the guild: cancel a pending purge."""
        await self._write("UPDATE guild_settings SET left_at = NULL WHERE guild_id = ?",
                          (guild_id,))

    async def guilds_left_before(self, cutoff: datetime | float) -> list[int]:
        """Guilds the bot left before `cutoff` (candidates for purge_guild)."""
        rows = await self._fetchall(
            "SELECT guild_id FROM guild_settings WHERE left_at IS NOT NULL AND left_at < ? "
            "ORDER BY guild_id",
            (epoch(cutoff),),
        )
        return [row[0] for row in rows]

    async def member_tables(self) -> dict[str, tuple[str, ...]]:
        """The tables of the schema with a `user_id` column (members' rows): {name: columns}."""
        rows = await self._fetchall(
            "SELECT m.name, c.name FROM sqlite_master m JOIN pragma_table_info(m.name) c "
            "WHERE m.type = 'table' AND m.name IN (SELECT t.name FROM sqlite_master t "
            "JOIN pragma_table_info(t.name) u WHERE u.name = 'user_id') ORDER BY m.name, c.cid")
        tables: dict[str, tuple[str, ...]] = {}
        for table, column in rows:
            tables[str(table)] = (*tables.get(str(table), ()), str(column))
        return tables

    async def forget_member_rows(self, guild_id: int, user_id: int,
                                 tables: Sequence[str]) -> dict[str, int]:
        """Delete a member's rows in a guild from each of `tables` (keyed by guild_id and
        user_id: the member-data registry's), all in one transaction; {table: rows deleted}."""
        deleted: dict[str, int] = {}
        async with self._transaction() as conn:
            for table in tables:
                cursor = await conn.execute(
                    f"DELETE FROM {sql_name(table)} WHERE guild_id = ? AND user_id = ?",
                    (guild_id, user_id))
                deleted[table] = max(cursor.rowcount, 0)
                await cursor.close()
        return deleted

    async def purge_guild(self, guild_id: int,
                          member_tables: Sequence[str] | None = None) -> int:
        """Delete everything a guild stored: members' rows (`member_tables`, the member-data
        registry's; None: every table with a `user_id` column), its movies, settings, model.

        Returns the number of rows deleted (all tables together). The shared catalog stays.
        """
        if member_tables is None:
            member_tables = list(await self.member_tables())
        total = 0
        async with self._transaction() as conn:
            for table in (*member_tables, *GUILD_TABLES):
                cursor = await conn.execute(f"DELETE FROM {sql_name(table)} WHERE guild_id = ?",
                                            (guild_id,))
                total += max(cursor.rowcount, 0)
                await cursor.close()
        return total

    async def summary(self, busiest: int = 5) -> DatabaseSummary:
        """The database in a few numbers (`python -m bot stats`); reads only."""
        week_ago = time.time() - 7 * 86400
        row = await self._fetchone(
            "SELECT (SELECT count(*) FROM movies WHERE guild_id IS NULL), "
            "(SELECT count(*) FROM movies WHERE guild_id IS NOT NULL), "
            "(SELECT count(*) FROM ratings), "
            "(SELECT count(*) FROM ratings WHERE updated_at >= ?), "
            "(SELECT max(updated_at) FROM ratings), "
            "(SELECT count(*) FROM (SELECT DISTINCT guild_id, user_id FROM ratings)), "
            "(SELECT count(*) FROM model_state), "
            "(SELECT count(*) FROM prior_state), "
            "(SELECT count(*) FROM guild_settings WHERE left_at IS NOT NULL)",
            (week_ago,))
        version = await self._fetchone("PRAGMA user_version")
        rows = await self._fetchall(BUSIEST_SQL.replace("$1", "?"), (busiest,))

        def when(value: float | None) -> datetime | None:
            return datetime.fromtimestamp(value, UTC) if value is not None else None

        return DatabaseSummary(
            schema_version=int(version[0]), catalog_movies=int(row[0]),
            guild_movies=int(row[1]), guilds=len(await self.guilds_with_data()),
            guilds_left=int(row[8]), members=int(row[5]), ratings=int(row[2]),
            ratings_last_week=int(row[3]), last_rating_at=when(row[4]),
            saved_models=int(row[6]), prior_installed=bool(row[7]),
            busiest=tuple(GuildActivity(int(r[0]), int(r[1]), int(r[2]), when(r[3]), r[4])
                          for r in rows))

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
