"""PostgreSQL storage, watchlists."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime

from bot.domain.models import WatchlistEntry
from bot.domain.watchlist import MAX_WATCHLIST

from ..errors import UnknownMovieError, WatchlistCapError
from ..models import MOVIE_COLUMNS
from ..sql.common import MAX_SQL_INT, movie_from_row
from .base import PostgresBase, _count, _lock_watchlists, _visible


class PostgresWatchlist(PostgresBase):
    """Watchlists."""

    async def watchlist_add(self, guild_id: int, user_id: int, movie_id: int, *,
                            cap: int = MAX_WATCHLIST) -> bool:
        if not -MAX_SQL_INT <= movie_id <= MAX_SQL_INT:
            raise UnknownMovieError(f"movie #{movie_id} is not in this server's catalog")
        async with self._tx() as conn:
            await _lock_watchlists(conn, guild_id)
            visible = await conn.fetchrow(
                f"SELECT 1 FROM movies m WHERE m.id = $1 AND {_visible(2)}", movie_id, guild_id)
            if visible is None:
                raise UnknownMovieError(f"movie #{movie_id} is not in this server's catalog")
            present = await conn.fetchval(
                "SELECT 1 FROM watchlist WHERE guild_id = $1 AND user_id = $2 "
                "AND movie_id = $3", guild_id, user_id, movie_id)
            if present is not None:
                return False
            count = await conn.fetchval(
                "SELECT count(*) FROM watchlist WHERE guild_id = $1 AND user_id = $2",
                guild_id, user_id)
            if int(count) >= cap:
                raise WatchlistCapError(cap)
            return _count(await conn.execute(
                "INSERT INTO watchlist (guild_id, user_id, movie_id, added_at) "
                "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                guild_id, user_id, movie_id, time.time())) > 0

    async def watchlist_add_members(self, guild_id: int, user_ids: Iterable[int],
                                    movie_id: int, *, cap: int = MAX_WATCHLIST) -> int:
        members = sorted({int(u) for u in user_ids})
        async with self._tx() as conn:
            await _lock_watchlists(conn, guild_id)
            return _count(await conn.execute(
                "INSERT INTO watchlist (guild_id, user_id, movie_id, added_at) "
                "SELECT $1, u, $3, $4 FROM unnest($2::bigint[]) AS u WHERE NOT EXISTS "
                "(SELECT 1 FROM ratings r WHERE r.guild_id = $1 AND r.user_id = u "
                "AND r.movie_id = $3) AND (SELECT count(*) FROM watchlist w "
                "WHERE w.guild_id = $1 AND w.user_id = u) < $5 ON CONFLICT DO NOTHING",
                guild_id, members, movie_id, time.time(), cap))

    async def watchlist_remove(self, guild_id: int, user_id: int,
                               movie_ids: Iterable[int]) -> int:
        ids = sorted({int(m) for m in movie_ids})
        if not ids:
            return 0
        return await self._execute(
            "DELETE FROM watchlist WHERE guild_id = $1 AND user_id = $2 "
            "AND movie_id = ANY($3::bigint[])", guild_id, user_id, ids)

    async def watchlist(self, guild_id: int, user_id: int, limit: int | None = None,
                        offset: int = 0) -> list[WatchlistEntry]:
        rows = await self._fetch(
            f"SELECT {MOVIE_COLUMNS}, w.added_at FROM watchlist w "
            "JOIN movies m ON m.id = w.movie_id WHERE w.guild_id = $1 AND w.user_id = $2 "
            "ORDER BY w.added_at DESC, w.movie_id DESC LIMIT $3 OFFSET $4",
            guild_id, user_id, None if limit is None else max(limit, 0), max(offset, 0))
        return [WatchlistEntry(movie_from_row(row), datetime.fromtimestamp(row[8], UTC))
                for row in rows]

    async def count_watchlist(self, guild_id: int, user_id: int) -> int:
        return int(await self._value(
            "SELECT count(*) FROM watchlist WHERE guild_id = $1 AND user_id = $2",
            guild_id, user_id))

    async def watchlist_counts(self, guild_id: int,
                               user_ids: Iterable[int]) -> dict[int, int]:
        rows = await self._fetch(
            "SELECT movie_id, count(*) FROM watchlist WHERE guild_id = $1 "
            "AND user_id = ANY($2::bigint[]) GROUP BY movie_id",
            guild_id, sorted({int(u) for u in user_ids}))
        return {int(r[0]): int(r[1]) for r in rows}

    async def delete_member_watchlist(self, guild_id: int, user_id: int) -> int:
        return await self._execute(
            "DELETE FROM watchlist WHERE guild_id = $1 AND user_id = $2", guild_id, user_id)
