"""PostgreSQL storage, movies: adding (one, in bulk), looking up, genres, counts, TMDB details."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from bot.domain.genres import join_genres, split_genres
from bot.domain.models import MovieDetails
from bot.domain.stored_text import clean_optional
from bot.domain.title_forms import display_title, normalize, search_text, skeleton
from bot.domain.titles import MAX_TITLE_LENGTH

from ..errors import DuplicateMovieError, GuildMovieCapError
from ..models import MOVIE_COLUMNS, BulkResult, Movie, MovieRow
from ..sql.common import MAX_SQL_INT, movie_from_row
from .base import ADD_MOVIE_LOCK, PostgresBase, _count, _visible


class PostgresMovies(PostgresBase):
    """Movies: adding (one, in bulk), looking up, genres, counts, TMDB details."""

    async def add_movie(
        self,
        title: str,
        year: int | None,
        genres: Iterable[str] = (),
        *,
        guild_id: int | None = None,
        movielens_id: int | None = None,
        imdb_id: str | None = None,
        tmdb_id: int | None = None,
        alt_title: str | None = None,
        guild_cap: int | None = None,
    ) -> Movie:
        title = display_title(title.strip())
        norm = normalize(title)
        if not norm or len(title) > MAX_TITLE_LENGTH:
            raise ValueError("a movie title must have letters or digits and at most "
                             f"{MAX_TITLE_LENGTH} characters")
        skel = skeleton(title)
        genres_text = join_genres(genres)
        async with self._tx() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock($1)", ADD_MOVIE_LOCK)
            existing = await conn.fetchrow(
                f"SELECT {MOVIE_COLUMNS} FROM movies m WHERE (m.norm_title = $1 "
                "OR m.skeleton = $2) AND COALESCE(m.year, 0) = COALESCE($3::integer, 0) "
                f"AND {_visible(4)} ORDER BY m.norm_title != $1, m.guild_id IS NULL LIMIT 1",
                norm, skel, year, guild_id)
            if existing is None and movielens_id is not None:
                existing = await conn.fetchrow(
                    f"SELECT {MOVIE_COLUMNS} FROM movies m WHERE m.movielens_id = $1",
                    movielens_id)
            if existing is not None:
                raise DuplicateMovieError(movie_from_row(existing))
            if guild_cap is not None and guild_id is not None:
                count = await conn.fetchval(
                    "SELECT count(*) FROM movies WHERE guild_id = $1", guild_id)
                if int(count) >= guild_cap:
                    raise GuildMovieCapError(guild_cap)
            movie_id = await conn.fetchval(
                "INSERT INTO movies (title, year, genres, guild_id, movielens_id, imdb_id, "
                "tmdb_id, norm_title, search_text, skeleton) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                title, year, genres_text, guild_id, movielens_id, imdb_id, tmdb_id, norm,
                search_text(title, alt_title), skel)
        return Movie(int(movie_id), title, year, split_genres(genres_text),
                     guild_id, movielens_id, imdb_id, tmdb_id)

    async def add_movies_bulk(self, rows: Sequence[MovieRow]) -> BulkResult:
        cols: tuple[list[Any], ...] = ([], [], [], [], [], [], [], [], [])
        for row in rows:
            title = display_title(row.title.strip())
            norm = normalize(title)
            if not norm:
                continue
            values = (title, row.year, join_genres(row.genres), row.movielens_id,
                      row.imdb_id, row.tmdb_id, norm, search_text(title, row.alt_title),
                      skeleton(title))
            for column, value in zip(cols, values, strict=True):
                column.append(value)
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
        return BulkResult(added=added, existing=len(rows) - added, updated_ids=updated)

    async def get_movie(self, guild_id: int | None, movie_id: int) -> Movie | None:
        if not -MAX_SQL_INT <= movie_id <= MAX_SQL_INT:
            return None
        row = await self._row(
            f"SELECT {MOVIE_COLUMNS} FROM movies m WHERE m.id = $1 AND {_visible(2)}",
            movie_id, guild_id)
        return movie_from_row(row) if row else None

    async def get_movies(self, guild_id: int | None, ids: Iterable[int]) -> dict[int, Movie]:
        wanted = sorted({int(i) for i in ids if -MAX_SQL_INT <= int(i) <= MAX_SQL_INT})
        if not wanted:
            return {}
        rows = await self._fetch(
            f"SELECT {MOVIE_COLUMNS} FROM movies m WHERE m.id = ANY($1::bigint[]) "
            f"AND {_visible(2)}", wanted, guild_id)
        return {int(row[0]): movie_from_row(row) for row in rows}

    async def movie_ids_with_genre(self, guild_id: int | None, genre: str) -> set[int]:
        genre = genre.strip()
        if not genre or "|" in genre:
            return set()
        rows = await self._fetch(
            f"SELECT m.id FROM movies m WHERE {_visible(1)} "
            "AND lower('|' || m.genres || '|') LIKE lower($2) ESCAPE '\\'",
            guild_id, "%|" + re.sub(r"([%_\\])", r"\\\1", genre) + "|%")
        return {int(row[0]) for row in rows}

    async def genres(self, guild_id: int | None) -> list[str]:
        rows = await self._fetch(
            f"SELECT DISTINCT m.genres FROM movies m WHERE {_visible(1)} AND m.genres != ''",
            guild_id)
        found = {g for row in rows for g in row[0].split("|") if g}
        return sorted(found, key=str.casefold)

    async def count_guild_movies(self, guild_id: int) -> int:
        return int(await self._value("SELECT count(*) FROM movies WHERE guild_id = $1",
                                     guild_id))

    async def movie_count(self) -> int:
        return int(await self._value("SELECT count(*) FROM movies"))

    async def catalog_count(self) -> int:
        return int(await self._value("SELECT count(*) FROM movies WHERE guild_id IS NULL"))

    async def movies_by_imdb(self, guild_id: int, imdb_ids: Iterable[str]) -> dict[str, Movie]:
        ids = sorted({i for i in imdb_ids if i})
        rows = await self._fetch(
            f"SELECT {MOVIE_COLUMNS} FROM movies m WHERE m.imdb_id = ANY($1::text[]) "
            f"AND {_visible(2)} ORDER BY m.guild_id IS NULL, m.id", ids, guild_id)
        found: dict[str, Movie] = {}
        for row in rows:
            found.setdefault(row[6], movie_from_row(row))
        return found

    async def movies_by_title(self, guild_id: int,
                              norm_titles: Iterable[str]) -> dict[str, list[Movie]]:
        titles = sorted({t for t in norm_titles if t})
        rows = await self._fetch(
            f"SELECT {MOVIE_COLUMNS}, m.norm_title FROM movies m "
            f"WHERE m.norm_title = ANY($1::text[]) AND {_visible(2)} "
            "ORDER BY m.guild_id IS NULL, m.id", titles, guild_id)
        found: dict[str, list[Movie]] = {}
        for row in rows:
            found.setdefault(row[8], []).append(movie_from_row(row))
        return found

    async def movie_details(self, movie_ids: Iterable[int]) -> dict[int, MovieDetails]:
        rows = await self._fetch(
            "SELECT movie_id, tmdb_id, fetched_at, poster_url, overview, runtime, "
            "original_title FROM movie_details WHERE movie_id = ANY($1::bigint[])",
            sorted({int(m) for m in movie_ids}))
        return {int(row[0]): MovieDetails(*row) for row in rows}

    async def link_movie_ids(self, movie_id: int, tmdb_id: int | None,
                             imdb_id: str | None) -> None:
        await self._execute(
            "UPDATE movies SET tmdb_id = COALESCE(tmdb_id, $1), imdb_id = COALESCE(imdb_id, $2) "
            "WHERE id = $3", tmdb_id, imdb_id, movie_id)

    async def save_movie_details(self, details: MovieDetails) -> None:
        await self._execute(
            "INSERT INTO movie_details (movie_id, tmdb_id, fetched_at, poster_url, overview, "
            "runtime, original_title) SELECT $1, $2, $3, $4, $5, $6, $7 "
            "WHERE EXISTS (SELECT 1 FROM movies WHERE id = $1) "
            "ON CONFLICT (movie_id) DO UPDATE SET tmdb_id = excluded.tmdb_id, "
            "fetched_at = excluded.fetched_at, poster_url = excluded.poster_url, "
            "overview = excluded.overview, runtime = excluded.runtime, "
            "original_title = excluded.original_title",
            details.movie_id, details.tmdb_id, details.fetched_at,
            clean_optional(details.poster_url), clean_optional(details.overview, newlines=True),
            details.runtime, clean_optional(details.original_title))
