"""PostgreSQL storage, movies: the bulk insert of catalog rows (one `unnest` insert, then the
fill-in of existing movies' missing ids and genres); the rest is the shared `sql/movies.py`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..sql.common import ADD_MOVIE_LOCK
from ..sql.movies import CatalogValues, MovieQueries
from .base import PostgresBase, _count


class PostgresMovies(MovieQueries, PostgresBase):
    """Movies' PostgreSQL parts."""

    async def _insert_catalog(self, values: Sequence[CatalogValues]) -> tuple[int, int]:
        cols: list[list[Any]] = [list(c) for c in zip(*values, strict=True)] or [[]] * 9
        _titles, years, genres, ml_ids, imdb_ids, tmdb_ids, norms, _texts, _skels = cols
        async with self._tx() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock($1)", ADD_MOVIE_LOCK)
            status = await conn.execute(
                "INSERT INTO movies (title, year, genres, movielens_id, imdb_id, tmdb_id, "
                "norm_title, search_text, skeleton) "
                "SELECT * FROM unnest($1::text[], $2::integer[], $3::text[], $4::bigint[], "
                "$5::text[], $6::bigint[], $7::text[], $8::text[], $9::text[]) "
                "ON CONFLICT DO NOTHING", *cols)
            added = _count(status)
            # Existing catalog movies missing an id or genres the rows have: fill them in,
            # one row at a time (a movielens id must stay unique), only where needed.
            candidates = await conn.fetch(
                "SELECT v.i FROM unnest($1::text[], $2::integer[], $3::bigint[], $4::text[], "
                "$5::bigint[], $6::text[]) WITH ORDINALITY AS v(norm, year, ml, imdb, tmdb, "
                "genres, i) JOIN movies m ON m.guild_id IS NULL AND m.norm_title = v.norm "
                "AND COALESCE(m.year, 0) = COALESCE(v.year, 0) "
                "WHERE (m.movielens_id IS NULL AND v.ml IS NOT NULL) "
                "OR (m.imdb_id IS NULL AND v.imdb IS NOT NULL) "
                "OR (m.tmdb_id IS NULL AND v.tmdb IS NOT NULL) "
                "OR (m.genres = '' AND v.genres != '') ORDER BY v.i",
                norms, years, ml_ids, imdb_ids, tmdb_ids, genres)
            updated = 0
            for (index,) in candidates:
                i = int(index) - 1
                updated += _count(await conn.execute(
                    """
                    UPDATE movies SET
                        movielens_id = CASE WHEN movielens_id IS NULL AND NOT EXISTS
                            (SELECT 1 FROM movies o WHERE o.movielens_id = $1::bigint)
                            THEN $1::bigint ELSE movielens_id END,
                        imdb_id = COALESCE(imdb_id, $2::text),
                        tmdb_id = COALESCE(tmdb_id, $3::bigint),
                        genres = CASE WHEN genres = '' THEN $4::text ELSE genres END
                    WHERE guild_id IS NULL AND norm_title = $5::text
                      AND COALESCE(year, 0) = COALESCE($6::integer, 0)
                      AND ((movielens_id IS NULL AND $1::bigint IS NOT NULL)
                           OR (imdb_id IS NULL AND $2::text IS NOT NULL)
                           OR (tmdb_id IS NULL AND $3::bigint IS NOT NULL)
                           OR (genres = '' AND $4::text != ''))
                    """,
                    ml_ids[i], imdb_ids[i], tmdb_ids[i], genres[i], norms[i], years[i]))
        return added, updated
