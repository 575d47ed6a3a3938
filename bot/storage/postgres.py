"""PostgreSQL storage: the same contract as the SQLite `Storage`, over an asyncpg pool.

`await PostgresStorage.open(url)` connects a pool, applies migrations (`pg_migrations`, under
an advisory lock) and fills what Python computes (title skeletons). Every public method of
`Storage` is overridden here with the same meaning (the contract tests in `tests/storage` run
on both); what differs is how:

* parameters are `$n`; id lists are `= ANY($1::bigint[])`; bulk inserts `unnest` arrays;
  new ids come from `RETURNING`;
* title search pulls candidates through `pg_trgm` GIN indexes (substring `LIKE`, then word
  similarity with the threshold lowered to `TRGM_THRESHOLD` so one-letter typos match:
  "matirx" vs "matrix" is 0.27, under pg_trgm's default 0.3) and a `COLLATE "C"` prefix range,
  then ranks them with the same `search.Scorer` as SQLite;
* `guild_ratings` is one binary `COPY ... TO STDOUT` parsed by numpy (`pg_bulk`);
* writes that check then insert (a movie's duplicates, a guild's cap, a watchlist's cap) hold
  a transaction-level advisory lock, where SQLite relies on its single writer;
* the ratings versions are kept by PL/pgSQL triggers, model blobs are `bytea` under the same
  generation guard as SQLite's.

Backups: `pg_dump -Fc` (see the README); `backup()` refuses with that hint.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import numpy as np

from bot.domain.genres import join_genres, split_genres
from bot.domain.guild_settings import check_changes, settings_from_row
from bot.domain.models import ImportCounts, MovieDetails, NotInterested, WatchlistEntry
from bot.domain.not_interested import MAX_NOT_INTERESTED
from bot.domain.scores import check_score
from bot.domain.stored_text import clean_optional, clean_text
from bot.domain.titles import MAX_TITLE_LENGTH
from bot.domain.watchlist import MAX_WATCHLIST

from . import bulk, pg_bulk
from .errors import (
    DuplicateMovieError,
    GuildMovieCapError,
    StorageError,
    UnknownMovieError,
    WatchlistCapError,
)
from .migrations import Migration
from .models import (
    BulkResult,
    CatalogLinkRow,
    DatabaseSummary,
    GuildActivity,
    GuildName,
    GuildSettings,
    Movie,
    MovieRow,
    PriorLink,
    PriorMovie,
    PriorStatus,
    RatedMovie,
    RatingArrays,
)
from .pg_media import PgMediaStore
from .pg_migrations import apply_pg_migrations, schema_version
from .repository import (
    _ID_RE,
    _MOVIE_COLUMNS,
    _TOP_CHAR,
    BUSIEST_SQL,
    FUZZY_BELOW,
    GUILD_TABLES,
    MAX_QUERY_LENGTH,
    MAX_SQL_INT,
    MIN_SEARCH_SCORE,
    PREFIX_CANDIDATES,
    SEARCH_CANDIDATES,
    Storage,
    _epoch,
    _movie,
    sql_name,
)
from .search import (
    Scorer,
    display_title,
    normalize,
    parse_query,
    parse_title,
    search_text,
    skeleton,
)

POOL_MIN = 1
POOL_MAX = 10
ADD_MOVIE_LOCK = 0x6D6F7661  # advisory lock: one movie insert (check + insert) at a time
WATCHLIST_LOCK = 0x77617463  # advisory lock class: one watchlist write per guild at a time
URL_SCHEMES = ("postgresql://", "postgres://")

_VISIBLE = "(m.guild_id IS NULL OR m.guild_id = $%d)"


def is_postgres_url(value: object) -> bool:
    """Whether `value` names a PostgreSQL database (rather than an SQLite file)."""
    return isinstance(value, str) and value.startswith(URL_SCHEMES)


def display_url(url: str) -> str:
    """The URL without its password, for logs and messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=user + host))


def _visible(n: int) -> str:
    return _VISIBLE % n


def _count(status: str) -> int:
    """The row count of a command status ("UPDATE 3", "INSERT 0 1")."""
    try:
        return int(status.rsplit(" ", 1)[-1])
    except (ValueError, IndexError):
        return 0


async def _lock_watchlists(conn: asyncpg.Connection, guild_id: int) -> None:
    """Hold the guild's watchlist lock to the end of the transaction (taken first in any
    transaction that takes it): a cap check and its insert are not raced."""
    await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2::text))",
                       WATCHLIST_LOCK, str(guild_id))


def _like_word(word: str) -> str:
    return "%" + re.sub(r"([%_\\])", r"\\\1", word) + "%"


TRGM_THRESHOLD = pg_bulk.TRGM_THRESHOLD  # typo candidates: pg_trgm (word) similarity
SERVER_SETTINGS = pg_bulk.SERVER_SETTINGS  # those thresholds for every connection


async def connect_pool(url: str, *, min_size: int = POOL_MIN,
                       max_size: int = POOL_MAX) -> asyncpg.Pool:
    """An asyncpg pool; a StorageError with one clear line when the server is unreachable."""
    try:
        pool = await asyncpg.create_pool(url, min_size=min_size, max_size=max_size,
                                         server_settings=SERVER_SETTINGS,
                                         command_timeout=300)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as error:
        raise StorageError(f"cannot connect to PostgreSQL at {display_url(url)}: "
                           f"{error}") from error
    assert pool is not None
    return pool


async def _fill_skeletons(conn: asyncpg.Connection) -> None:
    rows = await conn.fetch("SELECT id, title FROM movies WHERE skeleton IS NULL")
    if rows:
        await conn.execute(
            "UPDATE movies m SET skeleton = v.skeleton FROM unnest($1::bigint[], $2::text[]) "
            "AS v(id, skeleton) WHERE m.id = v.id",
            [r[0] for r in rows], [skeleton(r[1]) for r in rows])


class PostgresStorage(PgMediaStore, Storage):
    """`Storage` on PostgreSQL (see the module docstring and docs/architecture.md)."""

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:  # no super(): no SQLite here
        self._pool = pool
        self.url = url
        self.database = url
        self.path = Path(display_url(url))  # for messages only; never opened as a file

    # ----------------------------------------------------------------- lifecycle
    @classmethod
    async def open(
        cls, url: str | os.PathLike[str], *, migrations: list[Migration] | None = None,
        min_size: int = POOL_MIN, max_size: int = POOL_MAX,
    ) -> PostgresStorage:
        """Connect, apply pending migrations (SchemaTooNewError for a newer schema)."""
        url = str(url)
        pool = await connect_pool(url, min_size=min_size, max_size=max_size)
        try:
            async with pool.acquire() as conn:
                await apply_pg_migrations(conn, migrations, label=display_url(url))
                if await schema_version(conn) >= 5:
                    await _fill_skeletons(conn)
        except BaseException:
            await pool.close()
            raise
        return cls(pool, url)

    async def close(self) -> None:
        await self._pool.close()

    async def __aenter__(self) -> PostgresStorage:
        return self

    @property
    def connection(self) -> Any:
        """The pool, for tests and tools; cogs must use the methods."""
        return self._pool

    @property
    def pool(self) -> asyncpg.Pool:
        return self._pool

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[asyncpg.Connection]:
        async with self._pool.acquire() as conn, conn.transaction():
            yield conn

    async def _execute(self, sql: str, *args: Any) -> int:
        return _count(await self._pool.execute(sql, *args))

    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        return list(await self._pool.fetch(sql, *args))

    async def _row(self, sql: str, *args: Any) -> Any:
        return await self._pool.fetchrow(sql, *args)

    async def _value(self, sql: str, *args: Any) -> Any:
        return await self._pool.fetchval(sql, *args)

    # -------------------------------------------------------------------- movies
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
                f"SELECT {_MOVIE_COLUMNS} FROM movies m WHERE (m.norm_title = $1 "
                "OR m.skeleton = $2) AND COALESCE(m.year, 0) = COALESCE($3::integer, 0) "
                f"AND {_visible(4)} ORDER BY m.norm_title != $1, m.guild_id IS NULL LIMIT 1",
                norm, skel, year, guild_id)
            if existing is None and movielens_id is not None:
                existing = await conn.fetchrow(
                    f"SELECT {_MOVIE_COLUMNS} FROM movies m WHERE m.movielens_id = $1",
                    movielens_id)
            if existing is not None:
                raise DuplicateMovieError(_movie(existing))
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
            f"SELECT {_MOVIE_COLUMNS} FROM movies m WHERE m.id = $1 AND {_visible(2)}",
            movie_id, guild_id)
        return _movie(row) if row else None

    async def get_movies(self, guild_id: int | None, ids: Iterable[int]) -> dict[int, Movie]:
        wanted = sorted({int(i) for i in ids if -MAX_SQL_INT <= int(i) <= MAX_SQL_INT})
        if not wanted:
            return {}
        rows = await self._fetch(
            f"SELECT {_MOVIE_COLUMNS} FROM movies m WHERE m.id = ANY($1::bigint[]) "
            f"AND {_visible(2)}", wanted, guild_id)
        return {int(row[0]): _movie(row) for row in rows}

    async def search_movies(
        self, guild_id: int | None, query: str, limit: int = 25, offset: int = 0
    ) -> list[Movie]:
        if limit <= 0 or offset < 0:
            return []
        parsed = parse_query(query[:MAX_QUERY_LENGTH])
        if not parsed.full:
            return []
        candidates: dict[int, Sequence[Any]] = {}
        texts = [parsed.text] if parsed.text == parsed.full else [parsed.text, parsed.full]
        pull = max(SEARCH_CANDIDATES, offset + limit)
        columns = f"{_MOVIE_COLUMNS}, m.search_text"
        async with self._pool.acquire() as conn:
            for n, text in enumerate(texts):
                # 1. Every word (3+ characters) as a substring, shortest titles first.
                found = 0
                words = sorted({w for w in text.split() if len(w) >= 3})
                if words:
                    rows = await conn.fetch(
                        f"SELECT {columns} FROM movies m WHERE m.search_text LIKE ALL($1) "
                        f"AND {_visible(2)} ORDER BY length(m.search_text), m.id LIMIT $3",
                        [_like_word(w) for w in words], guild_id, pull)
                    found = len(rows)
                    for row in rows:
                        candidates.setdefault(row[0], row)
                # 2. Few exact hits (typos): trigram word similarity over the threshold.
                if found < FUZZY_BELOW and n == 0 and len(text) >= 3:
                    rows = await conn.fetch(
                        f"SELECT {columns} FROM movies m WHERE $1 <% m.search_text "
                        f"AND {_visible(2)} ORDER BY word_similarity($1, m.search_text) DESC, "
                        "m.id LIMIT $3", text, guild_id, pull)
                    for row in rows:
                        candidates.setdefault(row[0], row)
                # 3. Prefix of the normalised title, compared by code point (COLLATE "C").
                rows = await conn.fetch(
                    f"SELECT {columns} FROM movies m WHERE m.norm_title >= $1 "
                    f"AND m.norm_title < $2 AND {_visible(3)} ORDER BY m.norm_title LIMIT $4",
                    text, text + _TOP_CHAR, guild_id, max(PREFIX_CANDIDATES, offset + limit))
                for row in rows:
                    candidates.setdefault(row[0], row)
                # 4. Short words of scripts without spaces ("千尋"): a substring scan.
                if n == 0 and not text.isascii() and not words:
                    rows = await conn.fetch(
                        f"SELECT {columns} FROM movies m WHERE strpos(m.search_text, $1) > 0 "
                        f"AND {_visible(2)} ORDER BY length(m.search_text) LIMIT $3",
                        text, guild_id, pull)
                    for row in rows:
                        candidates.setdefault(row[0], row)
        scorer = Scorer(parsed)
        scored = []
        for candidate in candidates.values():
            value = scorer.score(candidate[8], candidate[2])
            if value >= MIN_SEARCH_SCORE:
                scored.append((-value, len(candidate[1]), candidate[1], candidate[0], candidate))
        scored.sort(key=lambda item: item[:4])
        return [_movie(item[4]) for item in scored[offset:offset + limit]]

    async def resolve_movie(self, guild_id: int | None, text: str) -> Movie | None:
        if not isinstance(text, str):
            return None
        text = text.strip()
        if not text or len(text) > MAX_QUERY_LENGTH:
            return None
        match = _ID_RE.fullmatch(text)
        if match:
            movie_id = int(match.group(1))
            if movie_id > MAX_SQL_INT:
                return None
            return await self.get_movie(guild_id, movie_id)
        parsed = parse_title(text)
        if parsed.year is not None:
            rows = await self._fetch(
                f"SELECT {_MOVIE_COLUMNS} FROM movies m WHERE m.norm_title = $1 "
                f"AND m.year = $2 AND {_visible(3)} ORDER BY m.guild_id IS NULL LIMIT 2",
                normalize(parsed.title), parsed.year, guild_id)
            if rows:
                return _movie(rows[0])
        rows = await self._fetch(
            f"SELECT {_MOVIE_COLUMNS} FROM movies m WHERE m.norm_title = $1 AND {_visible(2)} "
            "LIMIT 2", normalize(text), guild_id)
        return _movie(rows[0]) if len(rows) == 1 else None

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

    # --------------------------------------------------------------- set-up steps
    async def setup_step_done(self, name: str) -> bool:
        return await self._row("SELECT 1 FROM setup_steps WHERE name = $1", name) is not None

    async def mark_setup_step(self, name: str) -> None:
        await self._execute("INSERT INTO setup_steps (name, done_at) VALUES ($1, $2) "
                            "ON CONFLICT DO NOTHING", name, time.time())

    # -------------------------------------------------------------------- summary
    async def summary(self, busiest: int = 5) -> DatabaseSummary:
        week_ago = time.time() - 7 * 86400
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT (SELECT count(*) FROM movies WHERE guild_id IS NULL), "
                "(SELECT count(*) FROM movies WHERE guild_id IS NOT NULL), "
                "(SELECT count(*) FROM ratings), "
                "(SELECT count(*) FROM ratings WHERE updated_at >= $1), "
                "(SELECT max(updated_at) FROM ratings), "
                "(SELECT count(*) FROM (SELECT DISTINCT guild_id, user_id FROM ratings) d), "
                "(SELECT count(*) FROM model_state), "
                "(SELECT count(*) FROM prior_state), "
                "(SELECT count(*) FROM guild_settings WHERE left_at IS NOT NULL)", week_ago)
            version = await schema_version(conn)
            rows = await conn.fetch(BUSIEST_SQL, busiest)

        def when(value: float | None) -> datetime | None:
            return datetime.fromtimestamp(value, UTC) if value is not None else None

        return DatabaseSummary(
            schema_version=version, catalog_movies=int(row[0]),
            guild_movies=int(row[1]), guilds=len(await self.guilds_with_data()),
            guilds_left=int(row[8]), members=int(row[5]), ratings=int(row[2]),
            ratings_last_week=int(row[3]), last_rating_at=when(row[4]),
            saved_models=int(row[6]), prior_installed=bool(row[7]),
            busiest=tuple(GuildActivity(int(r[0]), int(r[1]), int(r[2]), when(r[3]), r[4])
                          for r in rows))

    # ------------------------------------------------------------------- ratings
    async def upsert_rating(
        self, guild_id: int, user_id: int, movie_id: int, score: int, *, unwatch: bool = False
    ) -> int | None:
        score = check_score(score)
        if not -MAX_SQL_INT <= movie_id <= MAX_SQL_INT:
            raise UnknownMovieError(f"movie #{movie_id} is not in this server's catalog")
        async with self._tx() as conn:
            visible = await conn.fetchrow(
                f"SELECT 1 FROM movies m WHERE m.id = $1 AND {_visible(2)}", movie_id, guild_id)
            if visible is None:
                raise UnknownMovieError(f"movie #{movie_id} is not in this server's catalog")
            previous = await conn.fetchval(
                "SELECT score FROM ratings WHERE guild_id = $1 AND user_id = $2 "
                "AND movie_id = $3 FOR UPDATE", guild_id, user_id, movie_id)
            await conn.execute(
                "INSERT INTO ratings (guild_id, user_id, movie_id, score, updated_at) "
                "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (guild_id, user_id, movie_id) "
                "DO UPDATE SET score = excluded.score, updated_at = excluded.updated_at, "
                "source = 'member'",  # the member's own now: a sync never overwrites it
                guild_id, user_id, movie_id, score, time.time())
            if unwatch:
                await conn.execute(
                    "DELETE FROM watchlist WHERE guild_id = $1 AND user_id = $2 "
                    "AND movie_id = $3", guild_id, user_id, movie_id)
        return int(previous) if previous is not None else None

    async def delete_rating(self, guild_id: int, user_id: int, movie_id: int) -> bool:
        return await self._execute(
            "DELETE FROM ratings WHERE guild_id = $1 AND user_id = $2 AND movie_id = $3",
            guild_id, user_id, movie_id) > 0

    async def delete_member_ratings(self, guild_id: int, user_id: int) -> int:
        return await self._execute(
            "DELETE FROM ratings WHERE guild_id = $1 AND user_id = $2", guild_id, user_id)

    async def get_rating(self, guild_id: int, user_id: int, movie_id: int) -> int | None:
        value = await self._value(
            "SELECT score FROM ratings WHERE guild_id = $1 AND user_id = $2 AND movie_id = $3",
            guild_id, user_id, movie_id)
        return int(value) if value is not None else None

    async def member_ratings(
        self, guild_id: int, user_id: int, limit: int | None = None, offset: int = 0
    ) -> list[RatedMovie]:
        rows = await self._fetch(
            f"SELECT {_MOVIE_COLUMNS}, r.score, r.updated_at FROM ratings r "
            "JOIN movies m ON m.id = r.movie_id WHERE r.guild_id = $1 AND r.user_id = $2 "
            "ORDER BY r.updated_at DESC, r.movie_id DESC LIMIT $3 OFFSET $4",
            guild_id, user_id, None if limit is None else max(limit, 0), max(offset, 0))
        return [RatedMovie(_movie(row), int(row[8]), datetime.fromtimestamp(row[9], UTC))
                for row in rows]

    async def member_rating_arrays(self, guild_id: int,
                                   user_id: int) -> tuple[np.ndarray, np.ndarray]:
        rows = await self._fetch(
            "SELECT movie_id, score FROM ratings WHERE guild_id = $1 AND user_id = $2 "
            "ORDER BY movie_id", guild_id, user_id)
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        scores = np.fromiter((r[1] for r in rows), dtype=np.float32, count=len(rows))
        return ids, scores

    async def count_member_ratings(self, guild_id: int, user_id: int) -> int:
        return int(await self._value(
            "SELECT count(*) FROM ratings WHERE guild_id = $1 AND user_id = $2",
            guild_id, user_id))

    async def guild_has_ratings(self, guild_id: int) -> bool:
        return await self._row("SELECT 1 FROM ratings WHERE guild_id = $1 LIMIT 1",
                               guild_id) is not None

    async def movie_stats(self, guild_id: int, movie_id: int) -> tuple[float | None, int]:
        row = await self._row(
            "SELECT avg(score)::float8, count(*) FROM ratings WHERE guild_id = $1 "
            "AND movie_id = $2", guild_id, movie_id)
        return (float(row[0]) if row[0] is not None else None, int(row[1]))

    async def score_counts(self, guild_id: int, movie_ids: Iterable[int]) -> dict[int, int]:
        ids = sorted({int(m) for m in movie_ids})
        if not ids:
            return {}
        rows = await self._fetch(
            "SELECT score, count(*) FROM ratings WHERE guild_id = $1 "
            "AND movie_id = ANY($2::bigint[]) GROUP BY score", guild_id, ids)
        return {int(row[0]): int(row[1]) for row in rows}

    async def score_totals(self, guild_id: int) -> dict[int, tuple[int, int]]:
        rows = await self._fetch(
            "SELECT movie_id, sum(score), count(*) FROM ratings WHERE guild_id = $1 "
            "GROUP BY movie_id", guild_id)
        return {int(row[0]): (int(row[1]), int(row[2])) for row in rows}

    async def guild_score_total(self, guild_id: int) -> tuple[int, int]:
        row = await self._row(
            "SELECT COALESCE(sum(score), 0), count(*) FROM ratings WHERE guild_id = $1",
            guild_id)
        return int(row[0]), int(row[1])

    async def guild_ratings(self, guild_id: int) -> RatingArrays:
        """All of the guild's ratings: one binary COPY, parsed by numpy (`pg_bulk`)."""
        async with self._pool.acquire() as conn:
            arrays, _version = await pg_bulk.read_guild_ratings(conn, guild_id)
        return arrays

    async def ratings_version(self, guild_id: int) -> tuple[int, int]:
        row = await self._row(pg_bulk.VERSION_SQL, guild_id)
        return (int(row[0]), int(row[1])) if row else (0, 0)

    # --------------------------------------------------- imports and watchlists
    async def movies_by_imdb(self, guild_id: int, imdb_ids: Iterable[str]) -> dict[str, Movie]:
        ids = sorted({i for i in imdb_ids if i})
        rows = await self._fetch(
            f"SELECT {_MOVIE_COLUMNS} FROM movies m WHERE m.imdb_id = ANY($1::text[]) "
            f"AND {_visible(2)} ORDER BY m.guild_id IS NULL, m.id", ids, guild_id)
        found: dict[str, Movie] = {}
        for row in rows:
            found.setdefault(row[6], _movie(row))
        return found

    async def movies_by_title(self, guild_id: int,
                              norm_titles: Iterable[str]) -> dict[str, list[Movie]]:
        titles = sorted({t for t in norm_titles if t})
        rows = await self._fetch(
            f"SELECT {_MOVIE_COLUMNS}, m.norm_title FROM movies m "
            f"WHERE m.norm_title = ANY($1::text[]) AND {_visible(2)} "
            "ORDER BY m.guild_id IS NULL, m.id", titles, guild_id)
        found: dict[str, list[Movie]] = {}
        for row in rows:
            found.setdefault(row[8], []).append(_movie(row))
        return found

    async def import_history(self, guild_id: int, user_id: int,
                             ratings: Sequence[tuple[int, int]],
                             watchlist: Sequence[int] = (), *,
                             watchlist_cap: int = MAX_WATCHLIST) -> ImportCounts:
        rows = [(int(m), check_score(s)) for m, s in dict(ratings).items()]
        movies = [m for m, _ in rows]
        now = time.time()
        async with self._tx() as conn:
            await _lock_watchlists(conn, guild_id)
            existing = {int(r[0]): int(r[1]) for r in await conn.fetch(
                "SELECT movie_id, score FROM ratings WHERE guild_id = $1 AND user_id = $2 "
                "FOR UPDATE", guild_id, user_id)}
            await conn.execute(
                "INSERT INTO ratings AS r (guild_id, user_id, movie_id, score, updated_at) "
                "SELECT $1, $2, v.movie_id, v.score, $5 "
                "FROM unnest($3::bigint[], $4::smallint[]) AS v(movie_id, score) "
                "ON CONFLICT (guild_id, user_id, movie_id) DO UPDATE SET score = excluded.score, "
                "updated_at = excluded.updated_at, source = 'member' "
                "WHERE r.score <> excluded.score OR r.source <> 'member'",
                guild_id, user_id, movies, [s for _, s in rows], now)
            await conn.execute(
                "DELETE FROM watchlist WHERE guild_id = $1 AND user_id = $2 "
                "AND movie_id = ANY($3::bigint[])", guild_id, user_id, movies)
            listed = {int(r[0]) for r in await conn.fetch(
                "SELECT movie_id FROM watchlist WHERE guild_id = $1 AND user_id = $2",
                guild_id, user_id)}
            rated = existing.keys() | set(movies)
            wanted = [m for m in dict.fromkeys(int(w) for w in watchlist)
                      if m not in rated and m not in listed]
            room = max(watchlist_cap - len(listed), 0)
            watchlisted = _count(await conn.execute(
                "INSERT INTO watchlist (guild_id, user_id, movie_id, added_at) "
                "SELECT $1, $2, v, $4 FROM unnest($3::bigint[]) AS v "
                "ON CONFLICT DO NOTHING", guild_id, user_id, wanted[:room], now))
        added = sum(1 for m, _ in rows if m not in existing)
        changed = sum(1 for m, s in rows if m in existing and existing[m] != s)
        return ImportCounts(added, changed, len(rows) - added - changed, watchlisted,
                            max(len(wanted) - room, 0))

    async def watchlist_add(self, guild_id: int, user_id: int, movie_id: int, *,
                            cap: int = MAX_WATCHLIST) -> bool:
        if not -MAX_SQL_INT <= movie_id <= MAX_SQL_INT:
            raise UnknownMovieError(f"movie #{movie_id} is not in this server's catalog")
        async with self._tx() as conn:
            await _lock_watchlists(conn, guild_id)
            visible = await conn.fetchrow(
                f"SELECT 1 FROM movies m WHERE m.id = $1 AND {_visible(2)}", movie_id, guild_id)
            if visible is None:
                raise UnknownMovieError(f"movie #{movie_id} is not in this server's catalog")
            present = await conn.fetchval(
                "SELECT 1 FROM watchlist WHERE guild_id = $1 AND user_id = $2 "
                "AND movie_id = $3", guild_id, user_id, movie_id)
            if present is not None:
                return False
            count = await conn.fetchval(
                "SELECT count(*) FROM watchlist WHERE guild_id = $1 AND user_id = $2",
                guild_id, user_id)
            if int(count) >= cap:
                raise WatchlistCapError(cap)
            return _count(await conn.execute(
                "INSERT INTO watchlist (guild_id, user_id, movie_id, added_at) "
                "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                guild_id, user_id, movie_id, time.time())) > 0

    async def watchlist_add_members(self, guild_id: int, user_ids: Iterable[int],
                                    movie_id: int, *, cap: int = MAX_WATCHLIST) -> int:
        members = sorted({int(u) for u in user_ids})
        async with self._tx() as conn:
            await _lock_watchlists(conn, guild_id)
            return _count(await conn.execute(
                "INSERT INTO watchlist (guild_id, user_id, movie_id, added_at) "
                "SELECT $1, u, $3, $4 FROM unnest($2::bigint[]) AS u WHERE NOT EXISTS "
                "(SELECT 1 FROM ratings r WHERE r.guild_id = $1 AND r.user_id = u "
                "AND r.movie_id = $3) AND (SELECT count(*) FROM watchlist w "
                "WHERE w.guild_id = $1 AND w.user_id = u) < $5 ON CONFLICT DO NOTHING",
                guild_id, members, movie_id, time.time(), cap))

    async def watchlist_remove(self, guild_id: int, user_id: int,
                               movie_ids: Iterable[int]) -> int:
        ids = sorted({int(m) for m in movie_ids})
        if not ids:
            return 0
        return await self._execute(
            "DELETE FROM watchlist WHERE guild_id = $1 AND user_id = $2 "
            "AND movie_id = ANY($3::bigint[])", guild_id, user_id, ids)

    async def watchlist(self, guild_id: int, user_id: int, limit: int | None = None,
                        offset: int = 0) -> list[WatchlistEntry]:
        rows = await self._fetch(
            f"SELECT {_MOVIE_COLUMNS}, w.added_at FROM watchlist w "
            "JOIN movies m ON m.id = w.movie_id WHERE w.guild_id = $1 AND w.user_id = $2 "
            "ORDER BY w.added_at DESC, w.movie_id DESC LIMIT $3 OFFSET $4",
            guild_id, user_id, None if limit is None else max(limit, 0), max(offset, 0))
        return [WatchlistEntry(_movie(row), datetime.fromtimestamp(row[8], UTC))
                for row in rows]

    async def count_watchlist(self, guild_id: int, user_id: int) -> int:
        return int(await self._value(
            "SELECT count(*) FROM watchlist WHERE guild_id = $1 AND user_id = $2",
            guild_id, user_id))

    async def watchlist_counts(self, guild_id: int,
                               user_ids: Iterable[int]) -> dict[int, int]:
        rows = await self._fetch(
            "SELECT movie_id, count(*) FROM watchlist WHERE guild_id = $1 "
            "AND user_id = ANY($2::bigint[]) GROUP BY movie_id",
            guild_id, sorted({int(u) for u in user_ids}))
        return {int(r[0]): int(r[1]) for r in rows}

    async def delete_member_watchlist(self, guild_id: int, user_id: int) -> int:
        return await self._execute(
            "DELETE FROM watchlist WHERE guild_id = $1 AND user_id = $2", guild_id, user_id)

    # ------------------------------------------------------------ not interested
    async def not_interested_add(self, guild_id: int, user_id: int, movie_id: int, *,
                                 cap: int = MAX_NOT_INTERESTED) -> bool:
        if not -MAX_SQL_INT <= movie_id <= MAX_SQL_INT:
            raise UnknownMovieError(f"movie #{movie_id} is not in this server's catalog")
        async with self._tx() as conn:
            visible = await conn.fetchrow(
                f"SELECT 1 FROM movies m WHERE m.id = $1 AND {_visible(2)}", movie_id, guild_id)
            if visible is None:
                raise UnknownMovieError(f"movie #{movie_id} is not in this server's catalog")
            added = _count(await conn.execute(
                "INSERT INTO not_interested (guild_id, user_id, movie_id, since) "
                "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                guild_id, user_id, movie_id, time.time())) > 0
            if added:
                await conn.execute(
                    "DELETE FROM not_interested WHERE guild_id = $1 AND user_id = $2 AND "
                    "movie_id IN (SELECT movie_id FROM not_interested WHERE guild_id = $1 AND "
                    "user_id = $2 ORDER BY since DESC, movie_id DESC OFFSET $3)",
                    guild_id, user_id, max(cap, 1))
        return added

    async def not_interested_remove(self, guild_id: int, user_id: int,
                                    movie_ids: Iterable[int]) -> int:
        ids = sorted({int(m) for m in movie_ids if -MAX_SQL_INT <= int(m) <= MAX_SQL_INT})
        if not ids:
            return 0
        return await self._execute(
            "DELETE FROM not_interested WHERE guild_id = $1 AND user_id = $2 "
            "AND movie_id = ANY($3::bigint[])", guild_id, user_id, ids)

    async def not_interested_ids(self, guild_id: int, user_id: int) -> list[int]:
        rows = await self._fetch(
            "SELECT movie_id FROM not_interested WHERE guild_id = $1 AND user_id = $2 "
            "ORDER BY movie_id", guild_id, user_id)
        return [int(row[0]) for row in rows]

    async def not_interested(self, guild_id: int, user_id: int, limit: int | None = None,
                             offset: int = 0) -> list[NotInterested]:
        rows = await self._fetch(
            f"SELECT {_MOVIE_COLUMNS}, n.since FROM not_interested n "
            "JOIN movies m ON m.id = n.movie_id WHERE n.guild_id = $1 AND n.user_id = $2 "
            "ORDER BY n.since DESC, n.movie_id DESC LIMIT $3 OFFSET $4",
            guild_id, user_id, None if limit is None else max(limit, 0), max(offset, 0))
        return [NotInterested(_movie(row), datetime.fromtimestamp(row[8], UTC))
                for row in rows]

    async def count_not_interested(self, guild_id: int, user_id: int) -> int:
        return int(await self._value(
            "SELECT count(*) FROM not_interested WHERE guild_id = $1 AND user_id = $2",
            guild_id, user_id))

    async def delete_member_not_interested(self, guild_id: int, user_id: int) -> int:
        return await self._execute(
            "DELETE FROM not_interested WHERE guild_id = $1 AND user_id = $2",
            guild_id, user_id)

    # ------------------------------------------------------------ movie details
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

    # ------------------------------------------------------------ guild settings
    async def get_guild_settings(self, guild_id: int) -> GuildSettings:
        row = await self._row(
            f"SELECT {', '.join(self._SETTINGS_COLUMNS)} FROM guild_settings "
            "WHERE guild_id = $1", guild_id)
        return settings_from_row(guild_id, row)

    async def update_guild_settings(self, guild_id: int, **changes: Any) -> GuildSettings:
        values = check_changes(changes)  # PostgreSQL keeps yes/no settings as booleans
        if values:
            assignments = ", ".join(f"{key} = ${n}" for n, key in enumerate(values, start=2))
            async with self._tx() as conn:
                await conn.execute(
                    "INSERT INTO guild_settings (guild_id) VALUES ($1) ON CONFLICT DO NOTHING",
                    guild_id)
                await conn.execute(
                    f"UPDATE guild_settings SET {assignments} WHERE guild_id = $1",
                    guild_id, *values.values())
        return await self.get_guild_settings(guild_id)

    # --------------------------------------------------------------------- model
    async def save_model(self, guild_id: int, blob: bytes, *,
                         ratings_version: int | None = None, settings_key: str = "") -> bool:
        if ratings_version is None:
            ratings_version, _count = await self.ratings_version(guild_id)
        async with self._pool.acquire() as conn:
            return await pg_bulk.save_model(conn, guild_id, blob,
                                            ratings_version=int(ratings_version),
                                            settings_key=settings_key)

    async def delete_model(self, guild_id: int) -> None:
        await self._execute(pg_bulk.FORGET_MODEL_SQL, guild_id, time.time())

    async def load_model(self, guild_id: int) -> bytes | None:
        state = await self.load_model_state(guild_id)
        return state.blob if state is not None else None

    async def load_model_state(self, guild_id: int) -> bulk.SavedModel | None:
        async with self._pool.acquire() as conn:
            return await pg_bulk.load_model_state(conn, guild_id)

    # --------------------------------------------------------------- taste prior
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

    # ----------------------------------------------------- guild lifecycle/privacy
    async def mark_guild_left(
        self, guild_id: int, at: datetime | float | None = None
    ) -> None:
        await self._execute(
            "INSERT INTO guild_settings (guild_id, left_at) VALUES ($1, $2) "
            "ON CONFLICT (guild_id) DO UPDATE SET "
            "left_at = COALESCE(guild_settings.left_at, excluded.left_at)",
            guild_id, _epoch(at))

    async def guilds_with_data(self) -> set[int]:
        rows = await self._fetch(
            "SELECT guild_id FROM ratings UNION SELECT guild_id FROM guild_settings "
            "UNION SELECT guild_id FROM movies WHERE guild_id IS NOT NULL "
            "UNION SELECT guild_id FROM model_state")
        return {int(row[0]) for row in rows}

    async def save_guild_names(self, guilds: Iterable[GuildName]) -> None:
        rows = [(g.guild_id, g.name, g.member_count, time.time()) for g in guilds]
        if not rows:
            return
        async with self._tx() as conn:
            await conn.executemany(
                "INSERT INTO guild_names (guild_id, name, member_count, updated_at) "
                "VALUES ($1, $2, $3, $4) ON CONFLICT (guild_id) DO UPDATE SET "
                "name = excluded.name, member_count = excluded.member_count, "
                "updated_at = excluded.updated_at", rows)

    async def mark_guild_joined(self, guild_id: int) -> None:
        await self._execute("UPDATE guild_settings SET left_at = NULL WHERE guild_id = $1",
                            guild_id)

    async def guilds_left_before(self, cutoff: datetime | float) -> list[int]:
        rows = await self._fetch(
            "SELECT guild_id FROM guild_settings WHERE left_at IS NOT NULL AND left_at < $1 "
            "ORDER BY guild_id", _epoch(cutoff))
        return [int(row[0]) for row in rows]

    async def member_tables(self) -> dict[str, tuple[str, ...]]:
        rows = await self._fetch(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name IN (SELECT table_name "
            "FROM information_schema.columns WHERE table_schema = current_schema() AND "
            "column_name = 'user_id') ORDER BY table_name, ordinal_position")
        tables: dict[str, tuple[str, ...]] = {}
        for table, column in rows:
            tables[str(table)] = (*tables.get(str(table), ()), str(column))
        return tables

    async def forget_member_rows(self, guild_id: int, user_id: int,
                                 tables: Sequence[str]) -> dict[str, int]:
        deleted: dict[str, int] = {}
        async with self._tx() as conn:
            for table in tables:
                deleted[table] = _count(await conn.execute(
                    f"DELETE FROM {sql_name(table)} WHERE guild_id = $1 AND user_id = $2",
                    guild_id, user_id))
        return deleted

    async def purge_guild(self, guild_id: int,
                          member_tables: Sequence[str] | None = None) -> int:
        if member_tables is None:
            member_tables = list(await self.member_tables())
        total = 0
        async with self._tx() as conn:
            for table in (*member_tables, *GUILD_TABLES):
                total += _count(await conn.execute(
                    f"DELETE FROM {sql_name(table)} WHERE guild_id = $1", guild_id))
        return total

    # -------------------------------------------------------------------- backup
    async def backup(self, dest_path: str | os.PathLike[str]) -> Path:
        raise StorageError("this bot stores its data in PostgreSQL: back it up with "
                           "pg_dump -Fc (see the README's 'Scaling out: PostgreSQL')")
