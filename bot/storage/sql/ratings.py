"""Ratings, written once for both backends: a member's, a movie's, a guild's totals.

Dialect hooks stay in the backends' `ratings.py`: `upsert_rating` (SQLite coalesces concurrent
/rate writes into one transaction, `rating_batch.py`), `import_history` (executemany vs
`unnest`) and `guild_ratings` (packed strings parsed by numpy vs one binary COPY).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import numpy as np

from ..models import MOVIE_COLUMNS, RatedMovie
from .common import movie_from_row
from .executor import SqlStorage

VERSION_SQL = "SELECT ratings_version, ratings_count FROM guild_versions WHERE guild_id = $1"
# A guild's (sum of scores, number of ratings), kept by the ratings triggers (migration 21):
# one row, where summing the ratings read all of a guild's (26 ms of CPU at 10^6 ratings).
GUILD_TOTAL_SQL = ("SELECT ratings_sum, ratings_count FROM guild_versions "
                   "WHERE guild_id = $1")


class RatingQueries(SqlStorage):
    """Ratings (see the contract for each method's meaning)."""

    async def delete_rating(self, guild_id: int, user_id: int, movie_id: int) -> bool:
        return await self._db.execute(
            "DELETE FROM ratings WHERE guild_id = $1 AND user_id = $2 AND movie_id = $3",
            guild_id, user_id, movie_id) > 0

    async def delete_member_ratings(self, guild_id: int, user_id: int) -> int:
        return await self._db.execute(
            "DELETE FROM ratings WHERE guild_id = $1 AND user_id = $2", guild_id, user_id)

    async def get_rating(self, guild_id: int, user_id: int, movie_id: int) -> int | None:
        value = await self._db.fetchval(
            "SELECT score FROM ratings WHERE guild_id = $1 AND user_id = $2 AND movie_id = $3",
            guild_id, user_id, movie_id)
        return int(value) if value is not None else None

    async def member_ratings(
        self, guild_id: int, user_id: int, limit: int | None = None, offset: int = 0
    ) -> list[RatedMovie]:
        rows = await self._db.fetchall(
            f"SELECT {MOVIE_COLUMNS}, r.score, r.updated_at FROM ratings r "
            "JOIN movies m ON m.id = r.movie_id WHERE r.guild_id = $1 AND r.user_id = $2 "
            "ORDER BY r.updated_at DESC, r.movie_id DESC LIMIT $3 OFFSET $4", guild_id, user_id,
            self._db.no_limit if limit is None else max(limit, 0), max(offset, 0))
        return [RatedMovie(movie_from_row(row), int(row[8]), datetime.fromtimestamp(row[9], UTC))
                for row in rows]

    async def member_rating_arrays(self, guild_id: int,
                                   user_id: int) -> tuple[np.ndarray, np.ndarray]:
        rows = await self._db.fetchall(
            "SELECT movie_id, score FROM ratings WHERE guild_id = $1 AND user_id = $2 "
            "ORDER BY movie_id", guild_id, user_id)
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        scores = np.fromiter((r[1] for r in rows), dtype=np.float32, count=len(rows))
        return ids, scores

    async def count_member_ratings(self, guild_id: int, user_id: int) -> int:
        return int(await self._db.fetchval(
            "SELECT count(*) FROM ratings WHERE guild_id = $1 AND user_id = $2",
            guild_id, user_id))

    async def guild_has_ratings(self, guild_id: int) -> bool:
        return await self._db.fetchone(
            "SELECT 1 FROM ratings WHERE guild_id = $1 LIMIT 1", guild_id) is not None

    async def movie_stats(self, guild_id: int, movie_id: int) -> tuple[float | None, int]:
        row = await self._db.fetchone(
            f"SELECT avg(score), count(*) FROM {self._db.ratings_by_movie} "
            "WHERE guild_id = $1 AND movie_id = $2", guild_id, movie_id)
        return (float(row[0]) if row[0] is not None else None, int(row[1]))

    async def score_counts(self, guild_id: int, movie_ids: Iterable[int]) -> dict[int, int]:
        ids = sorted({int(m) for m in movie_ids})
        if not ids:
            return {}
        rows = await self._db.fetchall(
            f"SELECT score, count(*) FROM {self._db.ratings_by_movie} WHERE guild_id = $1 "
            f"AND {self._db.any_of('movie_id', 2)} GROUP BY score",
            guild_id, self._db.values(ids))
        return {int(row[0]): int(row[1]) for row in rows}

    async def score_totals(self, guild_id: int) -> dict[int, tuple[int, int]]:
        rows = await self._db.fetchall(
            "SELECT movie_id, sum(score), count(*) FROM ratings WHERE guild_id = $1 "
            "GROUP BY movie_id", guild_id)
        return {int(row[0]): (int(row[1]), int(row[2])) for row in rows}

    async def guild_score_total(self, guild_id: int) -> tuple[int, int]:
        row = await self._db.fetchone(GUILD_TOTAL_SQL, guild_id)
        return (int(row[0]), int(row[1])) if row else (0, 0)

    async def ratings_version(self, guild_id: int) -> tuple[int, int]:
        row = await self._db.fetchone(VERSION_SQL, guild_id)
        return (int(row[0]), int(row[1])) if row else (0, 0)
