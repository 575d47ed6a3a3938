"""The taste prior, written once for both backends: its blob, dataset movies and catalog links.

Dialect hooks: `_insert_prior_movies` and `_insert_prior_links` (SQLite: executemany;
PostgreSQL: one `unnest` insert), and `load_prior` (SQLite reads the blob on its bulk
connection).
"""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Iterable, Sequence

import numpy as np

from bot.domain.stored_text import clean_text

from ..models import CatalogLinkRow, PriorLink, PriorMovie, PriorStatus
from .executor import Executor, SqlStorage

PriorMovieValues = tuple[int, str, int | None, str | None, int | None, int, bool]


class PriorQueries(SqlStorage):
    """The taste prior (see the contract for each method's meaning)."""

    @abstractmethod
    async def _insert_prior_movies(self, tx: Executor,
                                   rows: Sequence[PriorMovieValues]) -> None:
        """Insert (key, title, year, imdb_id, tmdb_id, n_ratings, stored) rows."""

    @abstractmethod
    async def _insert_prior_links(self, tx: Executor, links: Sequence[PriorLink]) -> None:
        """Insert the links naming a stored prior movie and an existing catalog movie."""

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
        rows = [(int(m.key), clean_text(m.title), m.year, m.imdb_id, m.tmdb_id, int(m.n_ratings),
                 int(m.key) in stored) for m in movies]
        async with self._db.transaction() as tx:
            for table in ("prior_links", "prior_movies", "prior_state"):
                await tx.execute(f"DELETE FROM {table}")
            await tx.execute(
                "INSERT INTO prior_state (id, blob, source, id_kind, built_at, linked_at, "
                "dataset_movies, dataset_users, dataset_ratings) "
                "VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8)",
                bytes(blob), source, id_kind, now, now, sum(1 for r in rows if r[5] > 0),
                int(dataset_users), int(dataset_ratings))
            await self._insert_prior_movies(tx, rows)
            await self._insert_prior_links(tx, links)

    async def replace_prior_links(self, links: Sequence[PriorLink]) -> bool:
        async with self._db.transaction() as tx:
            installed = await tx.execute("UPDATE prior_state SET linked_at = $1",
                                         time.time()) > 0
            if installed:
                await tx.execute("DELETE FROM prior_links")
                await self._insert_prior_links(tx, links)
        return installed

    async def has_prior(self) -> bool:
        return await self._db.fetchone("SELECT 1 FROM prior_state") is not None

    async def prior_stamp(self) -> tuple[float, float] | None:
        row = await self._db.fetchone("SELECT built_at, linked_at FROM prior_state")
        return (float(row[0]), float(row[1])) if row else None

    async def prior_links(self) -> tuple[np.ndarray, np.ndarray]:
        rows = await self._db.fetchall("SELECT movie_id, key FROM prior_links ORDER BY movie_id")
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        keys = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
        return ids, keys

    async def prior_status(self) -> PriorStatus | None:
        row = await self._db.fetchone(
            "SELECT source, id_kind, built_at, linked_at, dataset_movies, dataset_users, "
            "dataset_ratings, length(blob), "
            "(SELECT count(*) FROM prior_movies WHERE stored), "
            "(SELECT count(*) FROM prior_links), "
            "(SELECT COALESCE(sum(p.n_ratings), 0) FROM prior_links l "
            " JOIN prior_movies p ON p.key = l.key) "
            "FROM prior_state")
        return None if row is None else PriorStatus.from_row(row)

    async def prior_movies(self, *, stored_only: bool = False) -> list[PriorMovie]:
        rows = await self._db.fetchall(
            "SELECT key, title, year, imdb_id, tmdb_id, n_ratings FROM prior_movies"
            + (" WHERE stored" if stored_only else "") + " ORDER BY key")
        return [PriorMovie(int(r[0]), r[1], r[2], r[3], r[4], int(r[5])) for r in rows]

    async def prior_stored_keys(self) -> set[int]:
        rows = await self._db.fetchall("SELECT key FROM prior_movies WHERE stored")
        return {int(row[0]) for row in rows}

    async def catalog_link_rows(self) -> list[CatalogLinkRow]:
        rows = await self._db.fetchall(
            "SELECT id, title, year, movielens_id, imdb_id, tmdb_id, search_text FROM movies "
            "WHERE guild_id IS NULL ORDER BY id")
        return [CatalogLinkRow(*row) for row in rows]

    async def delete_prior(self) -> bool:
        async with self._db.transaction() as tx:
            for table in ("prior_links", "prior_movies"):
                await tx.execute(f"DELETE FROM {table}")
            return await tx.execute("DELETE FROM prior_state") > 0


