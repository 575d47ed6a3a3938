"""PostgreSQL storage, the taste prior: what differs from the shared `sql/prior.py` (one
`unnest` insert for the movies and for the links)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..models import PriorLink
from ..sql.executor import Executor
from ..sql.prior import PriorMovieValues, PriorQueries
from .base import PostgresBase


class PostgresPrior(PriorQueries, PostgresBase):
    """The taste prior's PostgreSQL parts."""

    async def _insert_prior_movies(self, tx: Executor,
                                   rows: Sequence[PriorMovieValues]) -> None:
        columns: list[list[Any]] = [list(c) for c in zip(*rows, strict=True)] or [[]] * 7
        await tx.execute(
            "INSERT INTO prior_movies (key, title, year, imdb_id, tmdb_id, n_ratings, "
            "stored) SELECT * FROM unnest($1::bigint[], $2::text[], $3::integer[], "
            "$4::text[], $5::bigint[], $6::bigint[], $7::boolean[])",
            *columns)

    async def _insert_prior_links(self, tx: Executor, links: Sequence[PriorLink]) -> None:
        await tx.execute(
            "INSERT INTO prior_links (movie_id, key, method) SELECT l.movie_id, l.key, l.method "
            "FROM unnest($1::bigint[], $2::bigint[], $3::text[]) "
            "WITH ORDINALITY AS l(movie_id, key, method, i) "
            "WHERE EXISTS (SELECT 1 FROM prior_movies p WHERE p.key = l.key AND p.stored) "
            "AND EXISTS (SELECT 1 FROM movies m WHERE m.id = l.movie_id) "
            "ORDER BY l.i ON CONFLICT DO NOTHING",
            [int(link.movie_id) for link in links], [int(link.key) for link in links],
            [link.method for link in links])

    async def load_prior(self) -> bytes | None:
        blob = await self._db.fetchval("SELECT blob FROM prior_state")
        return bytes(blob) if blob is not None else None
