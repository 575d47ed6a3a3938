"""PostgreSQL storage, ratings: one member's, a guild's (arrays for the recommender), imports."""

from __future__ import annotations

import time
from collections.abc import Sequence

from bot.domain.models import ImportCounts
from bot.domain.scores import check_score
from bot.domain.watchlist import MAX_WATCHLIST

from ..errors import UnknownMovieError
from ..models import RatingArrays
from ..sql.common import MAX_SQL_INT, visible
from ..sql.ratings import RatingQueries
from . import bulk as pg_bulk
from .base import PostgresBase, _count, _lock_watchlists


class PostgresRatings(RatingQueries, PostgresBase):
    """Ratings: one member's, a guild's (arrays for the recommender), imports."""

    async def upsert_rating(
        self, guild_id: int, user_id: int, movie_id: int, score: int, *, unwatch: bool = False
    ) -> int | None:
        score = check_score(score)
        if not -MAX_SQL_INT <= movie_id <= MAX_SQL_INT:
            raise UnknownMovieError(f"movie #{movie_id} is not in this server's catalog")
        async with self._tx() as conn:
            shown = await conn.fetchrow(
                f"SELECT 1 FROM movies m WHERE m.id = $1 AND {visible(2)}", movie_id, guild_id)
            if shown is None:
                raise UnknownMovieError(f"movie #{movie_id} is not in this server's catalog")
            previous = await conn.fetchval(
                "SELECT score FROM ratings WHERE guild_id = $1 AND user_id = $2 "
                "AND movie_id = $3 FOR UPDATE", guild_id, user_id, movie_id)
            await conn.execute(
                "INSERT INTO ratings (guild_id, user_id, movie_id, score, updated_at) "
                "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (guild_id, user_id, movie_id) "
                "DO UPDATE SET score = excluded.score, updated_at = excluded.updated_at, "
                "source = 'member'",  # the member's own now: a sync never overwrites it
                guild_id, user_id, movie_id, score, time.time())
            if unwatch:
                await conn.execute(
                    "DELETE FROM watchlist WHERE guild_id = $1 AND user_id = $2 "
                    "AND movie_id = $3", guild_id, user_id, movie_id)
        return int(previous) if previous is not None else None

    async def guild_ratings(self, guild_id: int) -> RatingArrays:
        """All of the guild's ratings: one binary COPY, parsed by numpy (`pg_bulk`)."""
        async with self._pool.acquire() as conn:
            arrays, _version = await pg_bulk.read_guild_ratings(conn, guild_id)
        return arrays

    async def import_history(self, guild_id: int, user_id: int,
                             ratings: Sequence[tuple[int, int]],
                             watchlist: Sequence[int] = (), *,
                             watchlist_cap: int = MAX_WATCHLIST) -> ImportCounts:
        rows = [(int(m), check_score(s)) for m, s in dict(ratings).items()]
        movies = [m for m, _ in rows]
        now = time.time()
        async with self._tx() as conn:
            await _lock_watchlists(conn, guild_id)
            existing = {int(r[0]): int(r[1]) for r in await conn.fetch(
                "SELECT movie_id, score FROM ratings WHERE guild_id = $1 AND user_id = $2 "
                "FOR UPDATE", guild_id, user_id)}
            await conn.execute(
                "INSERT INTO ratings AS r (guild_id, user_id, movie_id, score, updated_at) "
                "SELECT $1, $2, v.movie_id, v.score, $5 "
                "FROM unnest($3::bigint[], $4::smallint[]) AS v(movie_id, score) "
                "ON CONFLICT (guild_id, user_id, movie_id) DO UPDATE SET score = excluded.score, "
                "updated_at = excluded.updated_at, source = 'member' "
                "WHERE r.score <> excluded.score OR r.source <> 'member'",
                guild_id, user_id, movies, [s for _, s in rows], now)
            await conn.execute(
                "DELETE FROM watchlist WHERE guild_id = $1 AND user_id = $2 "
                "AND movie_id = ANY($3::bigint[])", guild_id, user_id, movies)
            listed = {int(r[0]) for r in await conn.fetch(
                "SELECT movie_id FROM watchlist WHERE guild_id = $1 AND user_id = $2",
                guild_id, user_id)}
            rated = existing.keys() | set(movies)
            wanted = [m for m in dict.fromkeys(int(w) for w in watchlist)
                      if m not in rated and m not in listed]
            room = max(watchlist_cap - len(listed), 0)
            watchlisted = _count(await conn.execute(
                "INSERT INTO watchlist (guild_id, user_id, movie_id, added_at) "
                "SELECT $1, $2, v, $4 FROM unnest($3::bigint[]) AS v "
                "ON CONFLICT DO NOTHING", guild_id, user_id, wanted[:room], now))
        added = sum(1 for m, _ in rows if m not in existing)
        changed = sum(1 for m, s in rows if m in existing and existing[m] != s)
        return ImportCounts(added, changed, len(rows) - added - changed, watchlisted,
                            max(len(wanted) - room, 0))
