"""SQLite storage, watchlists."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime

from bot.domain.models import WatchlistEntry
from bot.domain.watchlist import MAX_WATCHLIST

from ..errors import UnknownMovieError, WatchlistCapError
from ..models import MOVIE_COLUMNS
from ..sql.common import movie_from_row
from .base import _IN_CHUNK, _VISIBLE, SqliteBase


class SqliteWatchlist(SqliteBase):
    """Watchlists."""

    async def watchlist_add(self, guild_id: int, user_id: int, movie_id: int, *,
                            cap: int = MAX_WATCHLIST) -> bool:
        """Put a visible movie on the member's watchlist; False if it already was there.
        UnknownMovieError when the movie is not visible in the guild, WatchlistCapError when
        the watchlist already holds `cap` movies (checked in the insert's transaction)."""
        async with self._transaction() as conn:
            visible = await self._fetchone(
                f"SELECT 1 FROM movies m WHERE m.id = ? AND {_VISIBLE}", (movie_id, guild_id))
            if visible is None:
                raise UnknownMovieError(f"movie #{movie_id} is not in this server's catalog")
            present = await self._fetchone(
                "SELECT 1 FROM watchlist WHERE guild_id = ? AND user_id = ? AND movie_id = ?",
                (guild_id, user_id, movie_id))
            if present is not None:
                return False
            count = await self._fetchone(
                "SELECT count(*) FROM watchlist WHERE guild_id = ? AND user_id = ?",
                (guild_id, user_id))
            if int(count[0]) >= cap:
                raise WatchlistCapError(cap)
            cursor = await conn.execute(
                "INSERT OR IGNORE INTO watchlist (guild_id, user_id, movie_id, added_at) "
                "VALUES (?, ?, ?, ?)", (guild_id, user_id, movie_id, time.time()))
            added = cursor.rowcount > 0
            await cursor.close()
        return added

    async def watchlist_add_members(self, guild_id: int, user_ids: Iterable[int],
                                    movie_id: int, *, cap: int = MAX_WATCHLIST) -> int:
        """Put one movie on several members' watchlists (those who have not rated it and
        whose watchlist holds fewer than `cap` movies); returns how many watchlists gained
        it."""
        members = sorted({int(u) for u in user_ids})
        async with self._transaction() as conn:
            before = self._conn.total_changes
            await conn.executemany(
                "INSERT OR IGNORE INTO watchlist (guild_id, user_id, movie_id, added_at) "
                "SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM ratings WHERE guild_id = ? "
                "AND user_id = ? AND movie_id = ?) AND (SELECT count(*) FROM watchlist "
                "WHERE guild_id = ? AND user_id = ?) < ?",
                [(guild_id, u, movie_id, time.time(), guild_id, u, movie_id, guild_id, u, cap)
                 for u in members])
            return self._conn.total_changes - before

    async def watchlist_remove(self, guild_id: int, user_id: int,
                               movie_ids: Iterable[int]) -> int:
        """Take movies off the member's watchlist; returns how many were on it."""
        ids = [(guild_id, user_id, int(m)) for m in set(movie_ids)]
        if not ids:
            return 0
        async with self._transaction() as conn:
            before = self._conn.total_changes
            await conn.executemany(
                "DELETE FROM watchlist WHERE guild_id = ? AND user_id = ? AND movie_id = ?", ids)
            return self._conn.total_changes - before

    async def watchlist(self, guild_id: int, user_id: int, limit: int | None = None,
                        offset: int = 0) -> list[WatchlistEntry]:
        """The member's watchlist in the guild, newest first."""
        rows = await self._fetchall(
            f"SELECT {MOVIE_COLUMNS}, w.added_at FROM watchlist w "
            "JOIN movies m ON m.id = w.movie_id WHERE w.guild_id = ? AND w.user_id = ? "
            "ORDER BY w.added_at DESC, w.movie_id DESC LIMIT ? OFFSET ?",
            (guild_id, user_id, -1 if limit is None else max(limit, 0), max(offset, 0)))
        return [WatchlistEntry(movie_from_row(row), datetime.fromtimestamp(row[8], UTC))
                for row in rows]

    async def count_watchlist(self, guild_id: int, user_id: int) -> int:
        row = await self._fetchone(
            "SELECT count(*) FROM watchlist WHERE guild_id = ? AND user_id = ?",
            (guild_id, user_id))
        return int(row[0])

    async def watchlist_counts(self, guild_id: int,
                               user_ids: Iterable[int]) -> dict[int, int]:
        """{movie id: how many of these members have it on their watchlist}."""
        members = sorted({int(u) for u in user_ids})
        counts: dict[int, int] = {}
        for start in range(0, len(members), _IN_CHUNK):
            chunk = members[start:start + _IN_CHUNK]
            rows = await self._fetchall(
                "SELECT movie_id, count(*) FROM watchlist WHERE guild_id = ? AND user_id IN "
                f"({', '.join('?' * len(chunk))}) GROUP BY movie_id", (guild_id, *chunk))
            for movie_id, count in rows:
                counts[int(movie_id)] = counts.get(int(movie_id), 0) + int(count)
        return counts

    async def delete_member_watchlist(self, guild_id: int, user_id: int) -> int:
        """Empty the member's watchlist in the guild; returns how many entries it had."""
        return await self._write(
            "DELETE FROM watchlist WHERE guild_id = ? AND user_id = ?", (guild_id, user_id))
