"""PostgreSQL storage, the taste prior: its blob, dataset movies and catalog links."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

import asyncpg
import numpy as np

from bot.domain.stored_text import clean_text

from ..models import CatalogLinkRow, PriorLink, PriorMovie, PriorStatus
from . import bulk as pg_bulk
from .base import PostgresBase, _count


class PostgresPrior(PostgresBase):
    """The taste prior: its blob, dataset movies and catalog links."""

    async def save_prior(
        self,
        blob: bytes,
        *,
        source: str,
        id_kind: str,
        movies: Sequence[PriorMovie],
        stored_keys: Iterable[int],
        links: Sequence[PriorLink],
        dataset_users: int,
        dataset_ratings: int,
    ) -> None:
        stored = {int(k) for k in stored_keys}
        now = time.time()
        async with self._tx() as conn:
            for table in ("prior_links", "prior_movies", "prior_state"):
                await conn.execute(f"DELETE FROM {table}")
            await conn.execute(
                "INSERT INTO prior_state (id, blob, source, id_kind, built_at, linked_at, "
                "dataset_movies, dataset_users, dataset_ratings) "
                "VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8)",
                bytes(blob), source, id_kind, now, now,
                sum(1 for m in movies if int(m.n_ratings) > 0),
                int(dataset_users), int(dataset_ratings))
            await conn.execute(
                "INSERT INTO prior_movies (key, title, year, imdb_id, tmdb_id, n_ratings, "
                "stored) SELECT * FROM unnest($1::bigint[], $2::text[], $3::integer[], "
                "$4::text[], $5::bigint[], $6::bigint[], $7::boolean[])",
                [int(m.key) for m in movies], [clean_text(m.title) for m in movies],
                [m.year for m in movies], [m.imdb_id for m in movies],
                [m.tmdb_id for m in movies], [int(m.n_ratings) for m in movies],
                [int(m.key) in stored for m in movies])
            await self._insert_prior_links_pg(conn, links)

    @staticmethod
    async def _insert_prior_links_pg(conn: asyncpg.Connection,
                                     links: Sequence[PriorLink]) -> None:
        await conn.execute(
            "INSERT INTO prior_links (movie_id, key, method) SELECT l.movie_id, l.key, l.method "
            "FROM unnest($1::bigint[], $2::bigint[], $3::text[]) "
            "WITH ORDINALITY AS l(movie_id, key, method, i) "
            "WHERE EXISTS (SELECT 1 FROM prior_movies p WHERE p.key = l.key AND p.stored) "
            "AND EXISTS (SELECT 1 FROM movies m WHERE m.id = l.movie_id) "
            "ORDER BY l.i ON CONFLICT DO NOTHING",
            [int(link.movie_id) for link in links], [int(link.key) for link in links],
            [link.method for link in links])

    async def replace_prior_links(self, links: Sequence[PriorLink]) -> bool:
        async with self._tx() as conn:
            installed = _count(await conn.execute("UPDATE prior_state SET linked_at = $1",
                                                  time.time())) > 0
            if installed:
                await conn.execute("DELETE FROM prior_links")
                await self._insert_prior_links_pg(conn, links)
        return installed

    async def has_prior(self) -> bool:
        return await self._row("SELECT 1 FROM prior_state") is not None

    async def prior_stamp(self) -> tuple[float, float] | None:
        async with self._pool.acquire() as conn:
            return await pg_bulk.prior_stamp(conn)

    async def load_prior(self) -> bytes | None:
        blob = await self._value("SELECT blob FROM prior_state")
        return bytes(blob) if blob is not None else None

    async def prior_links(self) -> tuple[np.ndarray, np.ndarray]:
        rows = await self._fetch("SELECT movie_id, key FROM prior_links ORDER BY movie_id")
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        keys = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
        return ids, keys

    async def prior_status(self) -> PriorStatus | None:
        row = await self._row(
            "SELECT source, id_kind, built_at, linked_at, dataset_movies, dataset_users, "
            "dataset_ratings, octet_length(blob), "
            "(SELECT count(*) FROM prior_movies WHERE stored), "
            "(SELECT count(*) FROM prior_links), "
            "(SELECT COALESCE(sum(p.n_ratings), 0) FROM prior_links l "
            " JOIN prior_movies p ON p.key = l.key) "
            "FROM prior_state")
        if row is None:
            return None
        return PriorStatus.from_row(row)

    async def prior_movies(self, *, stored_only: bool = False) -> list[PriorMovie]:
        rows = await self._fetch(
            "SELECT key, title, year, imdb_id, tmdb_id, n_ratings FROM prior_movies"
            + (" WHERE stored" if stored_only else "") + " ORDER BY key")
        return [PriorMovie(int(r[0]), r[1], r[2], r[3], r[4], int(r[5])) for r in rows]

    async def prior_stored_keys(self) -> set[int]:
        rows = await self._fetch("SELECT key FROM prior_movies WHERE stored")
        return {int(row[0]) for row in rows}

    async def catalog_link_rows(self) -> list[CatalogLinkRow]:
        rows = await self._fetch(
            "SELECT id, title, year, movielens_id, imdb_id, tmdb_id, search_text FROM movies "
            "WHERE guild_id IS NULL ORDER BY id")
        return [CatalogLinkRow(*row) for row in rows]

    async def delete_prior(self) -> bool:
        async with self._tx() as conn:
            for table in ("prior_links", "prior_movies"):
                await conn.execute(f"DELETE FROM {table}")
            removed = _count(await conn.execute("DELETE FROM prior_state")) > 0
        return removed
