"""PostgreSQL storage, ratings: one member's, a guild's (arrays for the recommender), imports."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import numpy as np

from bot.domain.models import ImportCounts
from bot.domain.scores import check_score
from bot.domain.watchlist import MAX_WATCHLIST

from ..errors import UnknownMovieError
from ..models import MOVIE_COLUMNS, RatedMovie, RatingArrays
from ..sql.common import MAX_SQL_INT, movie_from_row
from . import bulk as pg_bulk
from .base import PostgresBase, _count, _lock_watchlists, _visible


class PostgresRatings(PostgresBase):
    """Ratings: one member's, a guild's (arrays for the recommender), imports."""

    async def upsert_rating(
        self, guild_id: int, user_id: int, movie_id: int, score: int, *, unwatch: bool = False
    ) -> int | None:
        score = check_score(score)
        if not -MAX_SQL_INT <= movie_id <= MAX_SQL_INT:
            raise UnknownMovieError(f"movie #{movie_id} is not in this server's catalog")
        async with self._tx() as conn:
            visible = await conn.fetchrow(
                f"SELECT 1 FROM movies m WHERE m.id = $1 AND {_visible(2)}", movie_id, guild_id)
            if visible is None:
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

    async def delete_rating(self, guild_id: int, user_id: int, movie_id: int) -> bool:
        return await self._execute(
            "DELETE FROM ratings WHERE guild_id = $1 AND user_id = $2 AND movie_id = $3",
            guild_id, user_id, movie_id) > 0

    async def delete_member_ratings(self, guild_id: int, user_id: int) -> int:
        return await self._execute(
            "DELETE FROM ratings WHERE guild_id = $1 AND user_id = $2", guild_id, user_id)

    async def get_rating(self, guild_id: int, user_id: int, movie_id: int) -> int | None:
        value = await self._value(
            "SELECT score FROM ratings WHERE guild_id = $1 AND user_id = $2 AND movie_id = $3",
            guild_id, user_id, movie_id)
        return int(value) if value is not None else None

    async def member_ratings(
        self, guild_id: int, user_id: int, limit: int | None = None, offset: int = 0
    ) -> list[RatedMovie]:
        rows = await self._fetch(
            f"SELECT {MOVIE_COLUMNS}, r.score, r.updated_at FROM ratings r "
            "JOIN movies m ON m.id = r.movie_id WHERE r.guild_id = $1 AND r.user_id = $2 "
            "ORDER BY r.updated_at DESC, r.movie_id DESC LIMIT $3 OFFSET $4",
            guild_id, user_id, None if limit is None else max(limit, 0), max(offset, 0))
        return [RatedMovie(movie_from_row(row), int(row[8]), datetime.fromtimestamp(row[9], UTC))
                for row in rows]

    async def member_rating_arrays(self, guild_id: int,
                                   user_id: int) -> tuple[np.ndarray, np.ndarray]:
        rows = await self._fetch(
            "SELECT movie_id, score FROM ratings WHERE guild_id = $1 AND user_id = $2 "
            "ORDER BY movie_id", guild_id, user_id)
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        scores = np.fromiter((r[1] for r in rows), dtype=np.float32, count=len(rows))
        return ids, scores

    async def count_member_ratings(self, guild_id: int, user_id: int) -> int:
        return int(await self._value(
            "SELECT count(*) FROM ratings WHERE guild_id = $1 AND user_id = $2",
            guild_id, user_id))

    async def guild_has_ratings(self, guild_id: int) -> bool:
        return await self._row("SELECT 1 FROM ratings WHERE guild_id = $1 LIMIT 1",
                               guild_id) is not None

    async def movie_stats(self, guild_id: int, movie_id: int) -> tuple[float | None, int]:
        row = await self._row(
            "SELECT avg(score)::float8, count(*) FROM ratings WHERE guild_id = $1 "
            "AND movie_id = $2", guild_id, movie_id)
        return (float(row[0]) if row[0] is not None else None, int(row[1]))

    async def score_counts(self, guild_id: int, movie_ids: Iterable[int]) -> dict[int, int]:
        ids = sorted({int(m) for m in movie_ids})
        if not ids:
            return {}
        rows = await self._fetch(
            "SELECT score, count(*) FROM ratings WHERE guild_id = $1 "
            "AND movie_id = ANY($2::bigint[]) GROUP BY score", guild_id, ids)
        return {int(row[0]): int(row[1]) for row in rows}

    async def score_totals(self, guild_id: int) -> dict[int, tuple[int, int]]:
        rows = await self._fetch(
            "SELECT movie_id, sum(score), count(*) FROM ratings WHERE guild_id = $1 "
            "GROUP BY movie_id", guild_id)
        return {int(row[0]): (int(row[1]), int(row[2])) for row in rows}

    async def guild_score_total(self, guild_id: int) -> tuple[int, int]:
        row = await self._row(
            "SELECT COALESCE(sum(score), 0), count(*) FROM ratings WHERE guild_id = $1",
            guild_id)
        return int(row[0]), int(row[1])

    async def guild_ratings(self, guild_id: int) -> RatingArrays:
        """All of the guild's ratings: one binary COPY, parsed by numpy (`pg_bulk`)."""
        async with self._pool.acquire() as conn:
            arrays, _version = await pg_bulk.read_guild_ratings(conn, guild_id)
        return arrays

    async def ratings_version(self, guild_id: int) -> tuple[int, int]:
        row = await self._row(pg_bulk.VERSION_SQL, guild_id)
        return (int(row[0]), int(row[1])) if row else (0, 0)

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
