"""SQLite storage, movies: adding (one, in bulk), looking up, genres, counts, TMDB details."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence

from bot.domain.genres import join_genres, split_genres
from bot.domain.models import MovieDetails
from bot.domain.stored_text import clean_optional
from bot.domain.title_forms import display_title, normalize, search_text, skeleton
from bot.domain.titles import MAX_TITLE_LENGTH

from ..errors import DuplicateMovieError, GuildMovieCapError
from ..models import MOVIE_COLUMNS, BulkResult, Movie, MovieRow
from ..sql.common import movie_from_row
from .base import _IN_CHUNK, _VISIBLE, SqliteBase


class SqliteMovies(SqliteBase):
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
        """Add one movie (guild_id None = shared catalog) and return it.

        Raises DuplicateMovieError(existing) when a movie with the same normalised title and
        year is already visible in that guild, or one that looks the same (the same
        `search.skeleton`: "Аlien" with a Cyrillic А and "Alien"), or one with the same
        MovieLens id; ValueError for
        an empty or overlong title, and GuildMovieCapError when the guild already has
        `guild_cap` movies of its own (checked inside the insert's transaction, so concurrent
        adds cannot overshoot the cap).
        """
        title = display_title(title.strip())
        norm = normalize(title)
        if not norm or len(title) > MAX_TITLE_LENGTH:
            raise ValueError("a movie title must have letters or digits and at most "
                             f"{MAX_TITLE_LENGTH} characters")
        skel = skeleton(title)
        genres_text = join_genres(genres)
        async with self._transaction() as conn:
            existing = await self._fetchone(
                f"SELECT {MOVIE_COLUMNS} FROM movies m WHERE (m.norm_title = ? "
                "OR m.skeleton = ?) "
                f"AND IFNULL(m.year, 0) = IFNULL(?, 0) AND {_VISIBLE} "
                "ORDER BY m.norm_title != ?, m.guild_id IS NULL LIMIT 1",
                (norm, skel, year, guild_id, norm),
            )
            if existing is None and movielens_id is not None:
                existing = await self._fetchone(
                    f"SELECT {MOVIE_COLUMNS} FROM movies m WHERE m.movielens_id = ?",
                    (movielens_id,),
                )
            if existing is not None:
                raise DuplicateMovieError(movie_from_row(existing))
            if guild_cap is not None and guild_id is not None:
                count = await self._fetchone(
                    "SELECT count(*) FROM movies WHERE guild_id = ?", (guild_id,))
                if int(count[0]) >= guild_cap:
                    raise GuildMovieCapError(guild_cap)
            cursor = await conn.execute(
                "INSERT INTO movies (title, year, genres, guild_id, movielens_id, imdb_id, "
                "tmdb_id, norm_title, search_text, skeleton) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (title, year, genres_text, guild_id, movielens_id, imdb_id, tmdb_id, norm,
                 search_text(title, alt_title), skel),
            )
            movie_id = cursor.lastrowid
            await cursor.close()
        assert movie_id is not None
        return Movie(movie_id, title, year, split_genres(genres_text),
                     guild_id, movielens_id, imdb_id, tmdb_id)

    async def add_movies_bulk(self, rows: Sequence[MovieRow]) -> BulkResult:
        """Insert catalog movies (guild_id NULL) in one transaction; existing ones are skipped.

        A row is "existing" when a catalog movie has the same normalised title and year or
        the same MovieLens id. Missing MovieLens/IMDb/TMDb ids and empty genres of an
        existing movie are filled in from the row. Rows with an empty title count as existing.
        """
        params = []
        for row in rows:
            title = display_title(row.title.strip())
            norm = normalize(title)
            if not norm:
                continue
            params.append((title, row.year, join_genres(row.genres), row.movielens_id,
                           row.imdb_id, row.tmdb_id, norm, search_text(title, row.alt_title),
                           skeleton(title)))
        async with self._transaction() as conn:
            # Counted, not total_changes: the FTS triggers' own inserts count there too.
            count_sql = "SELECT count(*) FROM movies WHERE guild_id IS NULL"
            before = (await self._fetchone(count_sql))[0]
            await conn.executemany(
                "INSERT INTO movies (title, year, genres, movielens_id, imdb_id, tmdb_id, "
                "norm_title, search_text, skeleton) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                params,
            )
            added = (await self._fetchone(count_sql))[0] - before
            before = conn.total_changes
            fill = [(p[3], p[4], p[5], p[2], p[6], p[1]) for p in params
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
        return BulkResult(added=added, existing=len(rows) - added, updated_ids=updated)

    async def get_movie(self, guild_id: int | None, movie_id: int) -> Movie | None:
        """The movie with this id if it is visible in the guild, else None."""
        row = await self._fetchone(
            f"SELECT {MOVIE_COLUMNS} FROM movies m WHERE m.id = ? AND {_VISIBLE}",
            (movie_id, guild_id),
        )
        return movie_from_row(row) if row else None

    async def get_movies(self, guild_id: int | None, ids: Iterable[int]) -> dict[int, Movie]:
        """The visible movies among `ids`, by id (invisible or unknown ids are left out)."""
        wanted = sorted({int(i) for i in ids})
        if not wanted:
            return {}
        rows = await self._fetchall(
            f"SELECT {MOVIE_COLUMNS} FROM movies m "
            f"WHERE m.id IN (SELECT value FROM json_each(?)) AND {_VISIBLE}",
            (json.dumps(wanted), guild_id),
        )
        return {row[0]: movie_from_row(row) for row in rows}

    async def movie_ids_with_genre(self, guild_id: int | None, genre: str) -> set[int]:
        """Ids of visible movies tagged with `genre` (case-insensitive, whole genre)."""
        genre = genre.strip()
        if not genre or "|" in genre:
            return set()
        rows = await self._fetchall(
            f"SELECT m.id FROM movies m WHERE {_VISIBLE} "
            "AND ('|' || m.genres || '|') LIKE ? ESCAPE '\\'",
            (guild_id, "%|" + re.sub(r"([%_\\])", r"\\\1", genre) + "|%"),
        )
        return {row[0] for row in rows}

    async def genres(self, guild_id: int | None) -> list[str]:
        """The distinct genres of the visible movies, sorted."""
        rows = await self._fetchall(
            f"SELECT DISTINCT m.genres FROM movies m WHERE {_VISIBLE} AND m.genres != ''",
            (guild_id,),
        )
        found = {g for row in rows for g in row[0].split("|") if g}
        return sorted(found, key=str.casefold)

    async def count_guild_movies(self, guild_id: int) -> int:
        """How many movies this guild added (the catalog is not counted)."""
        row = await self._fetchone("SELECT count(*) FROM movies WHERE guild_id = ?", (guild_id,))
        return int(row[0])

    async def movie_count(self) -> int:
        """All movies in the database (catalog and every guild's)."""
        row = await self._fetchone("SELECT count(*) FROM movies")
        return int(row[0])

    async def catalog_count(self) -> int:
        """Movies in the shared catalog (guild_id NULL)."""
        row = await self._fetchone("SELECT count(*) FROM movies WHERE guild_id IS NULL")
        return int(row[0])

    async def movies_by_imdb(self, guild_id: int, imdb_ids: Iterable[str]) -> dict[str, Movie]:
        """{IMDb id ("tt0114709"): movie} for the ids visible in the guild (its own first)."""
        ids = sorted({i for i in imdb_ids if i})
        found: dict[str, Movie] = {}
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start:start + _IN_CHUNK]
            rows = await self._fetchall(
                f"SELECT {MOVIE_COLUMNS} FROM movies m WHERE m.imdb_id IN "
                f"({', '.join('?' * len(chunk))}) AND {_VISIBLE} "
                "ORDER BY m.guild_id IS NULL, m.id", (*chunk, guild_id))
            for row in rows:
                found.setdefault(row[6], movie_from_row(row))
        return found

    async def movies_by_title(self, guild_id: int,
                              norm_titles: Iterable[str]) -> dict[str, list[Movie]]:
        """{normalised title: the visible movies with it (the guild's own first)}."""
        titles = sorted({t for t in norm_titles if t})
        found: dict[str, list[Movie]] = {}
        for start in range(0, len(titles), _IN_CHUNK):
            chunk = titles[start:start + _IN_CHUNK]
            rows = await self._fetchall(
                f"SELECT {MOVIE_COLUMNS}, m.norm_title FROM movies m WHERE m.norm_title IN "
                f"({', '.join('?' * len(chunk))}) AND {_VISIBLE} "
                "ORDER BY m.guild_id IS NULL, m.id", (*chunk, guild_id))
            for row in rows:
                found.setdefault(row[8], []).append(movie_from_row(row))
        return found

    async def movie_details(self, movie_ids: Iterable[int]) -> dict[int, MovieDetails]:
        """The cached TMDB details of these movies (whatever their age)."""
        ids = sorted({int(m) for m in movie_ids})
        found: dict[int, MovieDetails] = {}
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start:start + _IN_CHUNK]
            rows = await self._fetchall(
                "SELECT movie_id, tmdb_id, fetched_at, poster_url, overview, runtime, "
                f"original_title FROM movie_details WHERE movie_id IN "
                f"({', '.join('?' * len(chunk))})", chunk)
            for row in rows:
                found[int(row[0])] = MovieDetails(*row)
        return found

    async def link_movie_ids(self, movie_id: int, tmdb_id: int | None,
                             imdb_id: str | None) -> None:
        """Record a movie's TMDB and IMDb ids where it has none yet (a guild-added movie
        found on TMDB), so later imports match it by IMDb id."""
        await self._write(
            "UPDATE movies SET tmdb_id = IFNULL(tmdb_id, ?), imdb_id = IFNULL(imdb_id, ?) "
            "WHERE id = ?", (tmdb_id, imdb_id, movie_id))

    async def save_movie_details(self, details: MovieDetails) -> None:
        """Cache (or refresh) one movie's TMDB details; a movie gone meanwhile is skipped."""
        await self._write(
            "INSERT INTO movie_details (movie_id, tmdb_id, fetched_at, poster_url, overview, "
            "runtime, original_title) SELECT ?, ?, ?, ?, ?, ?, ? "
            "WHERE EXISTS (SELECT 1 FROM movies WHERE id = ?) "
            "ON CONFLICT (movie_id) DO UPDATE SET tmdb_id = excluded.tmdb_id, "
            "fetched_at = excluded.fetched_at, poster_url = excluded.poster_url, "
            "overview = excluded.overview, runtime = excluded.runtime, "
            "original_title = excluded.original_title",
            (details.movie_id, details.tmdb_id, details.fetched_at,
             clean_optional(details.poster_url), clean_optional(details.overview, newlines=True),
             details.runtime, clean_optional(details.original_title), details.movie_id))
