"""SQLite storage, movies a member hid from their picks."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime

from bot.domain.models import NotInterested
from bot.domain.not_interested import MAX_NOT_INTERESTED

from ..errors import UnknownMovieError
from ..models import MOVIE_COLUMNS
from ..sql.common import movie_from_row
from .base import _VISIBLE, SqliteBase


class SqliteNotInterested(SqliteBase):
    """Movies a member hid from their picks."""

    async def not_interested_add(self, guild_id: int, user_id: int, movie_id: int, *,
                                 cap: int = MAX_NOT_INTERESTED) -> bool:
        """Hide a visible movie from the member's picks; False if it already was hidden.
        UnknownMovieError when the movie is not visible in the guild. At `cap` entries the
        oldest is forgotten (in the same transaction)."""
        async with self._transaction() as conn:
            visible = await self._fetchone(
                f"SELECT 1 FROM movies m WHERE m.id = ? AND {_VISIBLE}", (movie_id, guild_id))
            if visible is None:
                raise UnknownMovieError(f"movie #{movie_id} is not in this server's catalog")
            cursor = await conn.execute(
                "INSERT OR IGNORE INTO not_interested (guild_id, user_id, movie_id, since) "
                "VALUES (?, ?, ?, ?)", (guild_id, user_id, movie_id, time.time()))
            added = cursor.rowcount > 0
            await cursor.close()
            if added:
                await conn.execute(
                    "DELETE FROM not_interested WHERE guild_id = ? AND user_id = ? AND "
                    "movie_id IN (SELECT movie_id FROM not_interested WHERE guild_id = ? AND "
                    "user_id = ? ORDER BY since DESC, movie_id DESC LIMIT -1 OFFSET ?)",
                    (guild_id, user_id, guild_id, user_id, max(cap, 1)))
        return added

    async def not_interested_remove(self, guild_id: int, user_id: int,
                                    movie_ids: Iterable[int]) -> int:
        """Show movies in the member's picks again; returns how many were hidden."""
        ids = [(guild_id, user_id, int(m)) for m in set(movie_ids)]
        if not ids:
            return 0
        async with self._transaction() as conn:
            before = self._conn.total_changes
            await conn.executemany(
                "DELETE FROM not_interested WHERE guild_id = ? AND user_id = ? "
                "AND movie_id = ?", ids)
            return self._conn.total_changes - before

    async def not_interested_ids(self, guild_id: int, user_id: int) -> list[int]:
        rows = await self._fetchall(
            "SELECT movie_id FROM not_interested WHERE guild_id = ? AND user_id = ? "
            "ORDER BY movie_id", (guild_id, user_id))
        return [int(row[0]) for row in rows]

    async def not_interested(self, guild_id: int, user_id: int, limit: int | None = None,
                             offset: int = 0) -> list[NotInterested]:
        """The movies the member hid from their picks in the guild, newest first."""
        rows = await self._fetchall(
            f"SELECT {MOVIE_COLUMNS}, n.since FROM not_interested n "
            "JOIN movies m ON m.id = n.movie_id WHERE n.guild_id = ? AND n.user_id = ? "
            "ORDER BY n.since DESC, n.movie_id DESC LIMIT ? OFFSET ?",
            (guild_id, user_id, -1 if limit is None else max(limit, 0), max(offset, 0)))
        return [NotInterested(movie_from_row(row), datetime.fromtimestamp(row[8], UTC))
                for row in rows]

    async def count_not_interested(self, guild_id: int, user_id: int) -> int:
        row = await self._fetchone(
            "SELECT count(*) FROM not_interested WHERE guild_id = ? AND user_id = ?",
            (guild_id, user_id))
        return int(row[0])

    async def delete_member_not_interested(self, guild_id: int, user_id: int) -> int:
        """Forget every movie the member hid in the guild; returns how many there were."""
        return await self._write(
            "DELETE FROM not_interested WHERE guild_id = ? AND user_id = ?",
            (guild_id, user_id))
