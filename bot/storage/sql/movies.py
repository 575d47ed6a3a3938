"""Movies, written once for both backends: adding one (duplicate and cap checks), looking up,
genres, counts, imports' lookups by IMDb id and title, TMDB details.

Dialect hook: `_insert_catalog` (the bulk insert of catalog rows: executemany vs `unnest`).
`add_movie` checks then inserts under `ADD_MOVIE_LOCK` (PostgreSQL's advisory lock; SQLite's
writer already runs alone).
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Iterable, Sequence

from bot.domain.genres import join_genres, split_genres
from bot.domain.models import MovieDetails, MovieFacts
from bot.domain.stored_text import clean_optional
from bot.domain.title_forms import display_title, normalize, search_text, skeleton
from bot.domain.titles import MAX_TITLE_LENGTH
from bot.domain.watch import certifications_from_json, providers_from_json, to_json

from ..errors import DuplicateMovieError, GuildMovieCapError
from ..models import MOVIE_COLUMNS, BulkResult, Movie, MovieRow
from .common import ADD_MOVIE_LOCK, MAX_SQL_INT, movie_from_row, visible
from .executor import SqlStorage

# (title, year, genres, movielens_id, imdb_id, tmdb_id, norm_title, search_text, skeleton)
CatalogValues = tuple[str, int | None, str, int | None, str | None, int | None, str, str, str]


def _in_range(value: int) -> bool:
    return -MAX_SQL_INT - 1 <= value <= MAX_SQL_INT


class MovieQueries(SqlStorage):
    """Movies (see the contract for each method's meaning)."""

    @abstractmethod
    async def _insert_catalog(self, values: Sequence[CatalogValues]) -> tuple[int, int]:
        """Insert catalog rows (existing ones skipped, their missing ids and genres filled in)
        in one transaction: (movies added, existing movies updated)."""

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
        async with self._db.transaction() as tx:
            await tx.lock(ADD_MOVIE_LOCK)
            existing = await tx.fetchone(
                f"SELECT {MOVIE_COLUMNS} FROM movies m WHERE (m.norm_title = $1 "
                "OR m.skeleton = $2) AND COALESCE(m.year, 0) = COALESCE($3, 0) "
                f"AND {visible(4)} ORDER BY m.norm_title != $1, m.guild_id IS NULL LIMIT 1",
                norm, skel, year, guild_id)
            if existing is None and movielens_id is not None:
                existing = await tx.fetchone(
                    f"SELECT {MOVIE_COLUMNS} FROM movies m WHERE m.movielens_id = $1",
                    movielens_id)
            if existing is not None:
                raise DuplicateMovieError(movie_from_row(existing))
            if guild_cap is not None and guild_id is not None:
                count = await tx.fetchval(
                    "SELECT count(*) FROM movies WHERE guild_id = $1", guild_id)
                if int(count) >= guild_cap:
                    raise GuildMovieCapError(guild_cap)
            movie_id = await tx.fetchval(
                "INSERT INTO movies (title, year, genres, guild_id, movielens_id, imdb_id, "
                "tmdb_id, norm_title, search_text, skeleton) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                title, year, genres_text, guild_id, movielens_id, imdb_id, tmdb_id, norm,
                search_text(title, alt_title), skel)
        return Movie(int(movie_id), title, year, split_genres(genres_text),
                     guild_id, movielens_id, imdb_id, tmdb_id)

    async def add_movies_bulk(self, rows: Sequence[MovieRow]) -> BulkResult:
        values: list[CatalogValues] = []
        for row in rows:
            title = display_title(row.title.strip())
            norm = normalize(title)
            if norm:
                values.append((title, row.year, join_genres(row.genres), row.movielens_id,
                               row.imdb_id, row.tmdb_id, norm,
                               search_text(title, row.alt_title), skeleton(title)))
        added, updated = await self._insert_catalog(values)
        return BulkResult(added=added, existing=len(rows) - added, updated_ids=updated)

    async def get_movie(self, guild_id: int | None, movie_id: int) -> Movie | None:
        if not _in_range(movie_id):
            return None
        row = await self._db.fetchone(
            f"SELECT {MOVIE_COLUMNS} FROM movies m WHERE m.id = $1 AND {visible(2)}",
            movie_id, guild_id)
        return movie_from_row(row) if row else None

    async def get_movies(self, guild_id: int | None, ids: Iterable[int]) -> dict[int, Movie]:
        wanted = sorted({int(i) for i in ids if _in_range(int(i))})
        if not wanted:
            return {}
        rows = await self._db.fetchall(
            f"SELECT {MOVIE_COLUMNS} FROM movies m WHERE {self._db.any_of('m.id', 1)} "
            f"AND {visible(2)}", self._db.values(wanted), guild_id)
        return {int(row[0]): movie_from_row(row) for row in rows}

    async def movie_ids_with_genre(self, guild_id: int | None, genre: str) -> set[int]:
        genre = genre.strip()
        if not genre or "|" in genre:
            return set()
        rows = await self._db.fetchall(
            f"SELECT m.id FROM movies m WHERE {visible(1)} "
            "AND lower('|' || m.genres || '|') LIKE lower($2) ESCAPE '\\'",
            guild_id, "%|" + re.sub(r"([%_\\])", r"\\\1", genre) + "|%")
        return {int(row[0]) for row in rows}

    async def genres(self, guild_id: int | None) -> list[str]:
        rows = await self._db.fetchall(
            f"SELECT DISTINCT m.genres FROM movies m WHERE {visible(1)} AND m.genres != ''",
            guild_id)
        found = {g for row in rows for g in row[0].split("|") if g}
        return sorted(found, key=str.casefold)

    async def count_guild_movies(self, guild_id: int) -> int:
        return int(await self._db.fetchval(
            "SELECT count(*) FROM movies WHERE guild_id = $1", guild_id))

    async def movie_count(self) -> int:
        return int(await self._db.fetchval("SELECT count(*) FROM movies"))

    async def catalog_count(self) -> int:
        return int(await self._db.fetchval(
            "SELECT count(*) FROM movies WHERE guild_id IS NULL"))

    async def movies_by_imdb(self, guild_id: int, imdb_ids: Iterable[str]) -> dict[str, Movie]:
        ids = sorted({i for i in imdb_ids if i})
        rows = await self._db.fetchall(
            f"SELECT {MOVIE_COLUMNS} FROM movies m WHERE "
            f"{self._db.any_of('m.imdb_id', 1, 'text')} AND {visible(2)} "
            "ORDER BY m.guild_id IS NULL, m.id", self._db.values(ids), guild_id)
        found: dict[str, Movie] = {}
        for row in rows:
            found.setdefault(row[6], movie_from_row(row))
        return found

    async def movies_by_title(self, guild_id: int,
                              norm_titles: Iterable[str]) -> dict[str, list[Movie]]:
        titles = sorted({t for t in norm_titles if t})
        rows = await self._db.fetchall(
            f"SELECT {MOVIE_COLUMNS}, m.norm_title FROM movies m WHERE "
            f"{self._db.any_of('m.norm_title', 1, 'text')} AND {visible(2)} "
            "ORDER BY m.guild_id IS NULL, m.id", self._db.values(titles), guild_id)
        found: dict[str, list[Movie]] = {}
        for row in rows:
            found.setdefault(row[8], []).append(movie_from_row(row))
        return found

    async def movie_facts(self, guild_id: int) -> list[MovieFacts]:
        rows = await self._db.fetchall(
            "SELECT m.id, m.year, m.genres, d.runtime, d.original_language, d.certifications, "
            "d.providers, d.movie_id IS NOT NULL FROM movies m "
            f"LEFT JOIN movie_details d ON d.movie_id = m.id WHERE {visible(1)} ORDER BY m.id",
            guild_id)
        return [MovieFacts(int(r[0]), r[1], r[2] or "", r[3], r[4], r[5], r[6], bool(r[7]))
                for r in rows]

    async def movie_details(self, movie_ids: Iterable[int]) -> dict[int, MovieDetails]:
        ids = sorted({int(m) for m in movie_ids if _in_range(int(m))})
        rows = await self._db.fetchall(
            "SELECT movie_id, tmdb_id, fetched_at, poster_url, overview, runtime, "
            "original_title, collection_id, original_language, certifications, providers "
            f"FROM movie_details WHERE {self._db.any_of('movie_id', 1)}", self._db.values(ids))
        return {int(row[0]): MovieDetails(
            int(row[0]), row[1], row[2], row[3], row[4], row[5], row[6],
            collection_id=row[7], original_language=row[8],
            certifications=certifications_from_json(row[9]),
            providers=providers_from_json(row[10])) for row in rows}

    async def link_movie_ids(self, movie_id: int, tmdb_id: int | None,
                             imdb_id: str | None) -> None:
        await self._db.execute(
            "UPDATE movies SET tmdb_id = COALESCE(tmdb_id, $1), imdb_id = COALESCE(imdb_id, $2) "
            "WHERE id = $3", tmdb_id, imdb_id, movie_id)

    async def save_movie_details(self, details: MovieDetails) -> None:
        await self._db.execute(
            "INSERT INTO movie_details (movie_id, tmdb_id, fetched_at, poster_url, overview, "
            "runtime, original_title, collection_id, original_language, certifications, "
            "providers) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 "
            "WHERE EXISTS (SELECT 1 FROM movies WHERE id = $1) "
            "ON CONFLICT (movie_id) DO UPDATE SET tmdb_id = excluded.tmdb_id, "
            "fetched_at = excluded.fetched_at, poster_url = excluded.poster_url, "
            "overview = excluded.overview, runtime = excluded.runtime, "
            "original_title = excluded.original_title, collection_id = excluded.collection_id, "
            "original_language = excluded.original_language, "
            "certifications = excluded.certifications, providers = excluded.providers",
            details.movie_id, details.tmdb_id, details.fetched_at,
            clean_optional(details.poster_url), clean_optional(details.overview, newlines=True),
            details.runtime, clean_optional(details.original_title), details.collection_id,
            clean_optional(details.original_language), to_json(details.certifications),
            to_json(details.providers))
