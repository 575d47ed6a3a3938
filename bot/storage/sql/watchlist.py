"""Watchlists, written once for both backends. A write that checks a cap before it inserts
holds the guild's watchlist lock (PostgreSQL; SQLite's writer runs alone)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime

from bot.domain.models import WatchlistEntry
from bot.domain.watchlist import MAX_WATCHLIST

from ..errors import WatchlistCapError
from ..models import MOVIE_COLUMNS
from .common import MAX_SQL_INT, WATCHLIST_LOCK, movie_from_row, require_visible
from .executor import SqlStorage


class WatchlistQueries(SqlStorage):
    """Watchlists (see the contract for each method's meaning)."""

    async def watchlist_add(self, guild_id: int, user_id: int, movie_id: int, *,
                            cap: int = MAX_WATCHLIST) -> bool:
        async with self._db.transaction() as tx:
            await tx.lock(WATCHLIST_LOCK, str(guild_id))
            await require_visible(tx, guild_id, movie_id)
            present = await tx.fetchone(
                "SELECT 1 FROM watchlist WHERE guild_id = $1 AND user_id = $2 "
                "AND movie_id = $3", guild_id, user_id, movie_id)
            if present is not None:
                return False
            count = await tx.fetchval(
                "SELECT count(*) FROM watchlist WHERE guild_id = $1 AND user_id = $2",
                guild_id, user_id)
            if int(count) >= cap:
                raise WatchlistCapError(cap)
            return await tx.execute(
                "INSERT INTO watchlist (guild_id, user_id, movie_id, added_at) "
                "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                guild_id, user_id, movie_id, time.time()) > 0

    async def watchlist_add_members(self, guild_id: int, user_ids: Iterable[int],
                                    movie_id: int, *, cap: int = MAX_WATCHLIST) -> int:
        added = 0
        now = time.time()
        async with self._db.transaction() as tx:
            await tx.lock(WATCHLIST_LOCK, str(guild_id))
            for user_id in sorted({int(u) for u in user_ids}):
                added += await tx.execute(
                    "INSERT INTO watchlist (guild_id, user_id, movie_id, added_at) "
                    "SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM ratings "
                    "WHERE guild_id = $1 AND user_id = $2 AND movie_id = $3) "
                    "AND (SELECT count(*) FROM watchlist WHERE guild_id = $1 AND user_id = $2) "
                    "< $5 ON CONFLICT DO NOTHING", guild_id, user_id, movie_id, now, cap)
        return added

    async def watchlist_remove(self, guild_id: int, user_id: int,
                               movie_ids: Iterable[int]) -> int:
        ids = sorted({int(m) for m in movie_ids if -MAX_SQL_INT - 1 <= int(m) <= MAX_SQL_INT})
        if not ids:
            return 0
        return await self._db.execute(
            "DELETE FROM watchlist WHERE guild_id = $1 AND user_id = $2 "
            f"AND {self._db.any_of('movie_id', 3)}", guild_id, user_id, self._db.values(ids))

    async def watchlist(self, guild_id: int, user_id: int, limit: int | None = None,
                        offset: int = 0) -> list[WatchlistEntry]:
        rows = await self._db.fetchall(
            f"SELECT {MOVIE_COLUMNS}, w.added_at FROM watchlist w "
            "JOIN movies m ON m.id = w.movie_id WHERE w.guild_id = $1 AND w.user_id = $2 "
            "ORDER BY w.added_at DESC, w.movie_id DESC LIMIT $3 OFFSET $4", guild_id, user_id,
            self._db.no_limit if limit is None else max(limit, 0), max(offset, 0))
        return [WatchlistEntry(movie_from_row(row), datetime.fromtimestamp(row[8], UTC))
                for row in rows]

    async def count_watchlist(self, guild_id: int, user_id: int) -> int:
        return int(await self._db.fetchval(
            "SELECT count(*) FROM watchlist WHERE guild_id = $1 AND user_id = $2",
            guild_id, user_id))

    async def watchlist_counts(self, guild_id: int,
                               user_ids: Iterable[int]) -> dict[int, int]:
        members = sorted({int(u) for u in user_ids})
        rows = await self._db.fetchall(
            "SELECT movie_id, count(*) FROM watchlist WHERE guild_id = $1 "
            f"AND {self._db.any_of('user_id', 2)} GROUP BY movie_id",
            guild_id, self._db.values(members))
        return {int(r[0]): int(r[1]) for r in rows}

    async def delete_member_watchlist(self, guild_id: int, user_id: int) -> int:
        return await self._db.execute(
            "DELETE FROM watchlist WHERE guild_id = $1 AND user_id = $2", guild_id, user_id)
