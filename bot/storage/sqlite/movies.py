"""SQLite storage, movies: the bulk insert of catalog rows; the rest is the shared
`sql/movies.py`."""

from __future__ import annotations

from collections.abc import Sequence

from ..sql.movies import CatalogValues, MovieQueries
from .base import SqliteBase


class SqliteMovies(MovieQueries, SqliteBase):
    """Movies' SQLite parts."""

    async def _insert_catalog(self, values: Sequence[CatalogValues]) -> tuple[int, int]:
        async with self._transaction() as conn:
            # Counted, not total_changes: the FTS triggers' own inserts count there too.
            count_sql = "SELECT count(*) FROM movies WHERE guild_id IS NULL"
            before = (await self._fetchone(count_sql))[0]
            await conn.executemany(
                "INSERT INTO movies (title, year, genres, movielens_id, imdb_id, tmdb_id, "
                "norm_title, search_text, skeleton) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                values,
            )
            added = (await self._fetchone(count_sql))[0] - before
            before = conn.total_changes
            fill = [(p[3], p[4], p[5], p[2], p[6], p[1]) for p in values
                    if p[3] is not None or p[4] is not None or p[5] is not None or p[2]]
            await conn.executemany(
                """
                UPDATE movies SET
                    movielens_id = CASE WHEN movielens_id IS NULL AND NOT EXISTS
                        (SELECT 1 FROM movies o WHERE o.movielens_id = ?1)
                        THEN ?1 ELSE movielens_id END,
                    imdb_id = IFNULL(imdb_id, ?2),
                    tmdb_id = IFNULL(tmdb_id, ?3),
                    genres = CASE WHEN genres = '' THEN ?4 ELSE genres END
                WHERE guild_id IS NULL AND norm_title = ?5 AND IFNULL(year, 0) = IFNULL(?6, 0)
                  AND ((movielens_id IS NULL AND ?1 IS NOT NULL)
                       OR (imdb_id IS NULL AND ?2 IS NOT NULL)
                       OR (tmdb_id IS NULL AND ?3 IS NOT NULL)
                       OR (genres = '' AND ?4 != ''))
                """,
                fill,
            )
            updated = conn.total_changes - before
        return added, updated
