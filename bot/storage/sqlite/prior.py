"""SQLite storage, the taste prior: its blob, dataset movies and catalog links."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

import aiosqlite
import numpy as np

from bot.domain.stored_text import clean_text

from ..models import CatalogLinkRow, PriorLink, PriorMovie, PriorStatus
from .base import SqliteBase


class SqlitePrior(SqliteBase):
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
        """Install (replace) the taste prior in one transaction.

        `blob` is `TastePrior.to_bytes()`; `movies` the dataset's whole movie list;
        `stored_keys` the movies whose factors the blob holds; `links` the catalog movies
        linked to them (ones naming an unknown movie or an unstored key are dropped).
        """
        stored = {int(k) for k in stored_keys}
        now = time.time()
        rows = [(int(m.key), clean_text(m.title), m.year, m.imdb_id, m.tmdb_id, int(m.n_ratings),
                 int(int(m.key) in stored)) for m in movies]
        async with self._transaction() as conn:
            for table in ("prior_links", "prior_movies", "prior_state"):
                await conn.execute(f"DELETE FROM {table}")
            await conn.execute(
                "INSERT INTO prior_state (id, blob, source, id_kind, built_at, linked_at, "
                "dataset_movies, dataset_users, dataset_ratings) "
                "VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)",
                (bytes(blob), source, id_kind, now, now, sum(1 for r in rows if r[5] > 0),
                 int(dataset_users), int(dataset_ratings)))
            await conn.executemany(
                "INSERT INTO prior_movies (key, title, year, imdb_id, tmdb_id, n_ratings, "
                "stored) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            await self._insert_prior_links(conn, links)

    @staticmethod
    async def _insert_prior_links(conn: aiosqlite.Connection,
                                  links: Sequence[PriorLink]) -> None:
        await conn.executemany(
            "INSERT OR IGNORE INTO prior_links (movie_id, key, method) SELECT ?1, ?2, ?3 "
            "WHERE EXISTS (SELECT 1 FROM prior_movies WHERE key = ?2 AND stored = 1) "
            "AND EXISTS (SELECT 1 FROM movies WHERE id = ?1)",
            [(int(link.movie_id), int(link.key), link.method) for link in links])

    async def replace_prior_links(self, links: Sequence[PriorLink]) -> bool:
        """Replace every catalog link of the installed prior (and stamp `linked_at`).

        False (nothing written) when no prior is installed.
        """
        async with self._transaction() as conn:
            cursor = await conn.execute("UPDATE prior_state SET linked_at = ?", (time.time(),))
            installed = cursor.rowcount > 0
            await cursor.close()
            if installed:
                await conn.execute("DELETE FROM prior_links")
                await self._insert_prior_links(conn, links)
        return installed

    async def has_prior(self) -> bool:
        """True when a taste prior is installed."""
        return await self._fetchone("SELECT 1 FROM prior_state") is not None

    async def prior_stamp(self) -> tuple[float, float] | None:
        """(built_at, linked_at) of the installed prior, or None: a change means refits."""
        row = await self._fetchone("SELECT built_at, linked_at FROM prior_state")
        return (float(row[0]), float(row[1])) if row else None

    async def load_prior(self) -> bytes | None:
        """The installed prior's blob (`TastePrior.from_bytes`), or None (bulk connection)."""
        async with self._bulk.execute("SELECT blob FROM prior_state") as cursor:
            row = await cursor.fetchone()
        return bytes(row[0]) if row else None

    async def prior_links(self) -> tuple[np.ndarray, np.ndarray]:
        """(catalog movie ids int64, prior keys int64) of the links, by movie id; both empty
        when no prior is installed. Feed them to `TastePrior.for_movies(ids, keys)`."""
        rows = await self._fetchall("SELECT movie_id, key FROM prior_links ORDER BY movie_id")
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        keys = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
        return ids, keys

    async def prior_status(self) -> PriorStatus | None:
        """What is installed (source, dates, sizes, link counts), or None."""
        row = await self._fetchone(
            "SELECT source, id_kind, built_at, linked_at, dataset_movies, dataset_users, "
            "dataset_ratings, length(blob), "
            "(SELECT count(*) FROM prior_movies WHERE stored = 1), "
            "(SELECT count(*) FROM prior_links), "
            "(SELECT IFNULL(sum(p.n_ratings), 0) FROM prior_links l "
            " JOIN prior_movies p ON p.key = l.key) "
            "FROM prior_state")
        if row is None:
            return None
        return PriorStatus.from_row(row)

    async def prior_movies(self, *, stored_only: bool = False) -> list[PriorMovie]:
        """The installed prior's dataset movies (only those in the blob if `stored_only`)."""
        rows = await self._fetchall(
            "SELECT key, title, year, imdb_id, tmdb_id, n_ratings FROM prior_movies"
            + (" WHERE stored = 1" if stored_only else "") + " ORDER BY key")
        return [PriorMovie(*row) for row in rows]

    async def prior_stored_keys(self) -> set[int]:
        """Keys of the prior movies whose factors the blob holds."""
        rows = await self._fetchall("SELECT key FROM prior_movies WHERE stored = 1")
        return {int(row[0]) for row in rows}

    async def catalog_link_rows(self) -> list[CatalogLinkRow]:
        """Every shared-catalog movie with what linking compares (ids, title, year)."""
        rows = await self._fetchall(
            "SELECT id, title, year, movielens_id, imdb_id, tmdb_id, search_text FROM movies "
            "WHERE guild_id IS NULL ORDER BY id")
        return [CatalogLinkRow(*row) for row in rows]

    async def delete_prior(self) -> bool:
        """Remove the taste prior (blob, movie list, links); True if one was installed."""
        async with self._transaction() as conn:
            for table in ("prior_links", "prior_movies"):
                await conn.execute(f"DELETE FROM {table}")
            cursor = await conn.execute("DELETE FROM prior_state")
            removed = cursor.rowcount > 0
            await cursor.close()
        return removed
