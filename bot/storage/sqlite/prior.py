"""SQLite storage, the taste prior: what differs from the shared `sql/prior.py` (the bulk
inserts, and the blob read on the bulk connection)."""

from __future__ import annotations

from collections.abc import Sequence

from ..models import PriorLink
from ..sql.executor import Executor
from ..sql.prior import PriorMovieValues, PriorQueries
from .base import SqliteBase


class SqlitePrior(PriorQueries, SqliteBase):
    """The taste prior's SQLite parts."""

    async def _insert_prior_movies(self, tx: Executor,
                                   rows: Sequence[PriorMovieValues]) -> None:
        await tx.executemany(
            "INSERT INTO prior_movies (key, title, year, imdb_id, tmdb_id, n_ratings, "
            "stored) VALUES ($1, $2, $3, $4, $5, $6, $7)", rows)

    async def _insert_prior_links(self, tx: Executor, links: Sequence[PriorLink]) -> None:
        await tx.executemany(
            "INSERT OR IGNORE INTO prior_links (movie_id, key, method) SELECT $1, $2, $3 "
            "WHERE EXISTS (SELECT 1 FROM prior_movies WHERE key = $2 AND stored = 1) "
            "AND EXISTS (SELECT 1 FROM movies WHERE id = $1)",
            [(int(link.movie_id), int(link.key), link.method) for link in links])

    async def load_prior(self) -> bytes | None:
        """The installed prior's blob, read on the bulk connection."""
        async with self._bulk.execute("SELECT blob FROM prior_state") as cursor:
            row = await cursor.fetchone()
        return bytes(row[0]) if row else None
