"""The Storage class: every query the bot makes, behind one small async API.

Guild scoping is enforced here: a movie is *visible* in guild G when `movies.guild_id IS NULL`
(the shared catalog) or `movies.guild_id = G` (added by G). Methods taking a guild id never
return, rate or resolve a movie that is not visible in that guild.

Connections (see `bot/storage/pool.py`): one writer connection (autocommit mode) takes every
write, in `BEGIN IMMEDIATE` transactions serialised by an asyncio lock; reads outside a
transaction go to a small pool of reader connections, each in its own thread, which under WAL
read a consistent snapshot beside the writer. So a member's read never queues behind another's
write, a model blob being loaded or a slow query, and `/rate`'s write never queues behind reads.
Reads inside a transaction use the writer (they must see its uncommitted rows).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import numpy as np

from bot.domain.genres import join_genres, split_genres
from bot.domain.guild_settings import (
    GUILD_SETTINGS,
    SETTINGS,
    check_changes,
    settings_from_row,
)
from bot.domain.models import ImportCounts, MovieDetails, NotInterested, WatchlistEntry
from bot.domain.not_interested import MAX_NOT_INTERESTED
from bot.domain.scores import check_score
from bot.domain.stored_text import clean_optional, clean_text
from bot.domain.titles import MAX_TITLE_LENGTH
from bot.domain.watchlist import MAX_WATCHLIST

from . import bulk
from .connection import create_private_file, make_private_dir, open_bulk, open_connection
from .errors import (
    DuplicateMovieError,
    GuildMovieCapError,
    StorageError,
    UnknownMovieError,
    WatchlistCapError,
)
from .media import MediaStore
from .migrations import MIGRATIONS, Migration, user_version
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
from .pool import ReaderPool
from .rating_batch import PendingRating, RatingBatcher
from .search import (
    Scorer,
    display_title,
    fts_query,
    fts_substring_query,
    normalize,
    parse_query,
    parse_title,
    search_text,
    skeleton,
)

MAX_QUERY_LENGTH = 300
SEARCH_CANDIDATES = 200  # rows pulled from the trigram index per query and phase
FUZZY_BELOW = 10  # fewer exact-substring hits than this: also pull trigram (typo) matches
PREFIX_CANDIDATES = 50  # rows pulled by prefix on the normalised title
MIN_SEARCH_SCORE = 0.3  # below this a candidate shares too little with the query
RATINGS_CHUNK = 1024  # members per fetchmany() in guild_ratings
_IN_CHUNK = 500  # values per "IN (...)" list: far below SQLite's parameter limit

_MOVIE_COLUMNS = "m.id, m.title, m.year, m.genres, m.guild_id, m.movielens_id, m.imdb_id, m.tmdb_id"
_VISIBLE = "(m.guild_id IS NULL OR m.guild_id = ?)"
_ID_RE = re.compile(r"#([0-9]{1,19})")  # ASCII digits only: "#１２" is no id
_TOP_CHAR = "\U0010ffff"  # sorts after every character: the end of a prefix range
SKELETON_MIGRATION = next(m for m in MIGRATIONS if m.version == 5)
MAX_SQL_INT = 2**63 - 1  # SQLite's INTEGER range: a larger id would overflow the binding


def _movie(row: Sequence[Any]) -> Movie:
    return Movie(row[0], row[1], row[2], split_genres(row[3]), row[4], row[5], row[6], row[7])


def _epoch(value: datetime | float | int | None) -> float:
    if value is None:
        return time.time()
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.timestamp()
    return float(value)


def _prepare_backup(dest: Path, database: Path) -> Path:
    """The private (0600) temporary file a backup is written to, next to `dest`; a
    StorageError with one clear line when `dest` cannot be a backup file."""
    if dest.resolve() == database.resolve():
        raise StorageError("the backup file must not be the database itself")
    if dest.is_dir():
        raise StorageError(f"cannot back up to {dest}: it is a folder; give a file name, "
                           f"e.g. {dest / 'moviebot-backup.sqlite3'}")
    partial = dest.with_name(dest.name + ".partial")
    try:
        make_private_dir(dest.parent)
        partial.unlink(missing_ok=True)
        create_private_file(partial, exclusive=True)
    except OSError as error:
        raise StorageError(f"cannot write the backup to {dest}: "
                           f"{error.strerror or error}") from error
    return partial


# `stats`' busiest servers with their names ($1: how many; SQLite binds it as ?).
BUSIEST_SQL = (
    "SELECT r.guild_id, r.n, r.members, r.last_at, g.name FROM ("
    "SELECT guild_id, count(*) AS n, count(DISTINCT user_id) AS members, "
    "max(updated_at) AS last_at FROM ratings GROUP BY guild_id ORDER BY n DESC, guild_id "
    "LIMIT $1) r LEFT JOIN guild_names g ON g.guild_id = r.guild_id "
    "ORDER BY r.n DESC, r.guild_id")

# The writer connection inside a `_transaction` of the current task: reads made there see the
# transaction's own rows (a reader connection would not).
_IN_TRANSACTION: ContextVar[aiosqlite.Connection | None] = ContextVar("_in_transaction",
                                                                      default=None)

BUSY_RETRIES = 6  # extra attempts after busy_timeout ran out (another process writing)
BUSY_BACKOFF = 0.05  # seconds before the first retry; doubled each time


def _is_busy(error: sqlite3.OperationalError) -> bool:
    text = str(error).lower()
    return "locked" in text or "busy" in text


async def _retry_busy(call: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    """`await call(*args)`, retried with bounded exponential backoff on SQLITE_BUSY/LOCKED,
    so a long write by another process (a backup, a CLI purge) never fails a member's
    command with "database is locked". The last error is raised when every attempt fails."""
    delay = BUSY_BACKOFF
    for attempt in range(BUSY_RETRIES + 1):
        try:
            return await call(*args)
        except sqlite3.OperationalError as error:
            if attempt == BUSY_RETRIES or not _is_busy(error):
                raise
        await asyncio.sleep(delay)
        delay *= 2
    raise AssertionError("unreachable")


async def _fill_skeletons(conn: aiosqlite.Connection) -> None:
    """Compute `movies.skeleton` where migration 5 left it NULL (movies stored before it):
    the skeleton is Python's (`search.skeleton`), so SQL alone cannot fill it."""
    async with conn.execute("SELECT 1 FROM pragma_table_info('movies') "
                            "WHERE name = 'skeleton'") as cursor:
        missing = await cursor.fetchone() is None
    if missing:
        if await user_version(conn) < SKELETON_MIGRATION.version:
            return  # a schema before migration 5 (tests opening older versions)
        # Migrations 5 and 6 were written at the same time: a database that reached 6 before
        # 5 existed skipped it. Add what 5 adds (idempotent: only when the column is missing).
        await conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in SKELETON_MIGRATION.statements:
                await conn.execute(statement)
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
        await conn.execute("COMMIT")
    async with conn.execute("SELECT id, title FROM movies WHERE skeleton IS NULL") as cursor:
        rows = list(await cursor.fetchall())
    if rows:
        await conn.execute("BEGIN IMMEDIATE")
        try:
            await conn.executemany("UPDATE movies SET skeleton = ? WHERE id = ?",
                                   [(skeleton(title), movie_id) for movie_id, title in rows])
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
        await conn.execute("COMMIT")


# A guild's own tables, purged after its members' rows (which may refer to its movies).
GUILD_TABLES = ("movies", "guild_settings", "model_state", "guild_versions", "guild_names")
_SQL_NAME = re.compile(r"[a-z_][a-z0-9_]*")


def sql_name(name: str) -> str:
    """A table name checked to be a plain identifier before it goes into SQL."""
    if not _SQL_NAME.fullmatch(name):
        raise ValueError(f"not a table name: {name!r}")
    return name


def settings_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """Checked guild-setting changes (`bot.domain.guild_settings`: the one validator), yes/no
    settings as 0/1; ValueError (a DomainError) for an unknown name or a bad value."""
    return {name: int(value) if SETTINGS[name].kind is bool else value
            for name, value in check_changes(changes).items()}


class Storage(MediaStore):
    """Async repository over the bot's SQLite database (see docs/architecture.md)."""

    def __init__(self, conn: aiosqlite.Connection, path: Path,
                 bulk: aiosqlite.Connection | None = None,
                 readers: ReaderPool | None = None) -> None:
        self._conn = conn  # the writer
        self._bulk = bulk or conn  # fits' big reads and model blobs: not in members' queue
        self._readers = readers or ReaderPool([conn], owned=False)
        self.path = path
        self.database = str(path)  # what a refit job opens (bulk.connect): path or URL
        self._lock = asyncio.Lock()
        self._ratings_writer = RatingBatcher(self._write_rating_batch)

    # ----------------------------------------------------------------- lifecycle
    @classmethod
    async def open(
        cls, path: str | os.PathLike[str], *, migrations: list[Migration] | None = None
    ) -> Storage:
        """Open the database (creating it and its folder), set pragmas, apply migrations.

        A `postgresql://` URL is refused (StorageError), never opened as an SQLite file
        named like a URL: `open_storage(settings)` picks the backend (and this module does
        not import the PostgreSQL one, which builds on it)."""
        if str(path).startswith(("postgresql://", "postgres://")):
            raise StorageError("a postgresql:// URL is not an SQLite file: open it with "
                               "open_storage (or PostgresStorage.open)")
        path = Path(path)
        conn = await open_connection(path, migrations=migrations)
        try:
            await _fill_skeletons(conn)
        except BaseException:
            await conn.close()
            raise
        bulk = None
        readers = None
        if str(path) != ":memory:":
            try:
                bulk = await open_bulk(path)
                readers = await ReaderPool.open(path)
            except BaseException:
                if bulk is not None:
                    await bulk.close()
                await conn.close()
                raise
        return cls(conn, path, bulk, readers)

    async def close(self) -> None:
        await self._ratings_writer.drain()
        await self._readers.close()
        if self._bulk is not self._conn:
            await self._bulk.close()
        await self._conn.close()

    async def __aenter__(self) -> Storage:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def connection(self) -> aiosqlite.Connection:
        """The raw connection, for tests and tools; cogs must use the methods."""
        return self._conn

    async def _write(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One write statement (autocommit) under the lock, retried while another process
        holds the write lock; returns the row count."""
        async with self._lock:
            cursor = await _retry_busy(self._conn.execute, sql, params)
            count = cursor.rowcount
            await cursor.close()
        return count

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            await _retry_busy(self._conn.execute, "BEGIN IMMEDIATE")
            token = _IN_TRANSACTION.set(self._conn)
            try:
                yield self._conn
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            finally:
                _IN_TRANSACTION.reset(token)
            await self._conn.execute("COMMIT")

    async def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        writer = _IN_TRANSACTION.get()
        if writer is self._conn:
            async with writer.execute(sql, params) as cursor:
                return list(await cursor.fetchall())
        async with self._readers.connection() as conn, conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def _fetchone(self, sql: str, params: Sequence[Any] = ()) -> Any:
        writer = _IN_TRANSACTION.get()
        if writer is self._conn:
            async with writer.execute(sql, params) as cursor:
                return await cursor.fetchone()
        async with self._readers.connection() as conn, conn.execute(sql, params) as cursor:
            return await cursor.fetchone()

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
                f"SELECT {_MOVIE_COLUMNS} FROM movies m WHERE (m.norm_title = ? "
                "OR m.skeleton = ?) "
                f"AND IFNULL(m.year, 0) = IFNULL(?, 0) AND {_VISIBLE} "
                "ORDER BY m.norm_title != ?, m.guild_id IS NULL LIMIT 1",
                (norm, skel, year, guild_id, norm),
            )
            if existing is None and movielens_id is not None:
                existing = await self._fetchone(
                    f"SELECT {_MOVIE_COLUMNS} FROM movies m WHERE m.movielens_id = ?",
                    (movielens_id,),
                )
            if existing is not None:
                raise DuplicateMovieError(_movie(existing))
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
            f"SELECT {_MOVIE_COLUMNS} FROM movies m WHERE m.id = ? AND {_VISIBLE}",
            (movie_id, guild_id),
        )
        return _movie(row) if row else None

    async def get_movies(self, guild_id: int | None, ids: Iterable[int]) -> dict[int, Movie]:
        """The visible movies among `ids`, by id (invisible or unknown ids are left out)."""
        wanted = sorted({int(i) for i in ids})
        if not wanted:
            return {}
        rows = await self._fetchall(
            f"SELECT {_MOVIE_COLUMNS} FROM movies m "
            f"WHERE m.id IN (SELECT value FROM json_each(?)) AND {_VISIBLE}",
            (json.dumps(wanted), guild_id),
        )
        return {row[0]: _movie(row) for row in rows}

    async def search_movies(
        self, guild_id: int | None, query: str, limit: int = 25, offset: int = 0
    ) -> list[Movie]:
        """Visible movies matching `query`, best first (typo, article and accent tolerant).

        Candidates come from the FTS5 trigram index (titles containing every query word; when
        those are few, also titles sharing any of the query's trigrams, best bm25 first) plus
        a prefix scan of the normalised titles (the only source for queries under three
        characters); they are ranked in Python by `search.Scorer`. A trailing year in
        the query ("dune 1984", "Dune (1984)") ranks that year's movie first.
        """
        if limit <= 0 or offset < 0:
            return []
        parsed = parse_query(query[:MAX_QUERY_LENGTH])
        if not parsed.full:
            return []
        candidates: dict[int, Sequence[Any]] = {}
        texts = [parsed.text] if parsed.text == parsed.full else [parsed.text, parsed.full]
        pull = max(SEARCH_CANDIDATES, offset + limit)
        columns = f"{_MOVIE_COLUMNS}, m.search_text"
        for n, text in enumerate(texts):
            # 1. Every word as a substring (fast, exact spelling), shortest titles first.
            found = 0
            match = fts_substring_query(text)
            if match is not None:
                rows = await self._fetchall(
                    f"SELECT {columns} FROM movies_fts f JOIN movies m ON m.id = f.rowid "
                    f"WHERE movies_fts MATCH ? AND {_VISIBLE} "
                    "ORDER BY length(m.search_text) LIMIT ?",
                    (match, guild_id, pull),
                )
                found = len(rows)
                for row in rows:
                    candidates.setdefault(row[0], row)
            # 2. Few exact hits (typos, word forms): any of the query's trigrams, best bm25.
            if found < FUZZY_BELOW and n == 0:  # not for the year-as-title variant
                match = fts_query(text)
                if match is not None:
                    rows = await self._fetchall(
                        f"SELECT {columns} FROM movies_fts f JOIN movies m ON m.id = f.rowid "
                        f"WHERE movies_fts MATCH ? AND {_VISIBLE} ORDER BY f.rank LIMIT ?",
                        (match, guild_id, pull),
                    )
                    for row in rows:
                        candidates.setdefault(row[0], row)
            # 3. Prefix of the normalised title (the only source below three characters).
            rows = await self._fetchall(
                f"SELECT {columns} FROM movies m WHERE m.norm_title >= ? AND m.norm_title < ? "
                f"AND {_VISIBLE} ORDER BY m.norm_title LIMIT ?",
                (text, text + _TOP_CHAR, guild_id, max(PREFIX_CANDIDATES, offset + limit)),
            )
            for row in rows:
                candidates.setdefault(row[0], row)
            # 4. Words under three characters in scripts without spaces between words
            # ("千尋" inside "千と千尋の神隠し"): a substring scan, as the trigram index
            # cannot match them.
            if n == 0 and not text.isascii() and fts_substring_query(text) is None:
                rows = await self._fetchall(
                    f"SELECT {columns} FROM movies m WHERE instr(m.search_text, ?) > 0 "
                    f"AND {_VISIBLE} ORDER BY length(m.search_text) LIMIT ?",
                    (text, guild_id, pull),
                )
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
        """The one movie meant by `text`, or None.

        Accepts an autocomplete value "#<id>" (only if visible in the guild) or an exact title,
        with or without "(Year)" (compared in normalised form). A title without a year that
        several visible movies share is ambiguous: None.
        """
        if not isinstance(text, str):
            return None
        text = text.strip()
        if not text or len(text) > MAX_QUERY_LENGTH:
            return None
        match = _ID_RE.fullmatch(text)
        if match:
            movie_id = int(match.group(1))
            if movie_id > MAX_SQL_INT:  # "#9999999999999999999": no such movie, no overflow
                return None
            return await self.get_movie(guild_id, movie_id)
        parsed = parse_title(text)
        if parsed.year is not None:
            rows = await self._fetchall(
                f"SELECT {_MOVIE_COLUMNS} FROM movies m WHERE m.norm_title = ? "
                f"AND m.year = ? AND {_VISIBLE} ORDER BY m.guild_id IS NULL LIMIT 2",
                (normalize(parsed.title), parsed.year, guild_id),
            )
            if rows:
                return _movie(rows[0])
        rows = await self._fetchall(
            f"SELECT {_MOVIE_COLUMNS} FROM movies m WHERE m.norm_title = ? AND {_VISIBLE} "
            "LIMIT 2",
            (normalize(text), guild_id),
        )
        return _movie(rows[0]) if len(rows) == 1 else None

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

    # --------------------------------------------------------------- set-up steps
    async def setup_step_done(self, name: str) -> bool:
        """Whether the one-off set-up step `name` (e.g. "starter_catalog") was done here."""
        row = await self._fetchone("SELECT 1 FROM setup_steps WHERE name = ?", (name,))
        return row is not None

    async def mark_setup_step(self, name: str) -> None:
        """Record the set-up step `name` as done (again: keeps the first time)."""
        await self._write("INSERT OR IGNORE INTO setup_steps (name, done_at) VALUES (?, ?)",
                          (name, time.time()))

    # -------------------------------------------------------------------- summary
    async def summary(self, busiest: int = 5) -> DatabaseSummary:
        """The database in a few numbers (`python -m bot stats`); reads only."""
        week_ago = time.time() - 7 * 86400
        row = await self._fetchone(
            "SELECT (SELECT count(*) FROM movies WHERE guild_id IS NULL), "
            "(SELECT count(*) FROM movies WHERE guild_id IS NOT NULL), "
            "(SELECT count(*) FROM ratings), "
            "(SELECT count(*) FROM ratings WHERE updated_at >= ?), "
            "(SELECT max(updated_at) FROM ratings), "
            "(SELECT count(*) FROM (SELECT DISTINCT guild_id, user_id FROM ratings)), "
            "(SELECT count(*) FROM model_state), "
            "(SELECT count(*) FROM prior_state), "
            "(SELECT count(*) FROM guild_settings WHERE left_at IS NOT NULL)",
            (week_ago,))
        version = await self._fetchone("PRAGMA user_version")
        rows = await self._fetchall(BUSIEST_SQL.replace("$1", "?"), (busiest,))

        def when(value: float | None) -> datetime | None:
            return datetime.fromtimestamp(value, UTC) if value is not None else None

        return DatabaseSummary(
            schema_version=int(version[0]), catalog_movies=int(row[0]),
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
        """Set a member's score (1..10) for a movie; returns the previous score or None.

        One row per guild+member+movie: re-rating updates score and updated_at. With
        `unwatch`, the movie leaves the member's watchlist in the same transaction (they
        watched it). Raises ValueError for a score outside 1..10 and UnknownMovieError when the
        movie is not visible in the guild.
        """
        score = check_score(score)
        if not -MAX_SQL_INT - 1 <= movie_id <= MAX_SQL_INT:
            raise UnknownMovieError(f"movie #{movie_id} is not in this server's catalog")
        return await self._ratings_writer.write(
            PendingRating(guild_id, user_id, movie_id, score, unwatch))

    async def _write_rating_batch(self, batch: Sequence[PendingRating]
                                  ) -> list[int | Exception | None]:
        """One transaction for a batch of `upsert_rating` calls (see `RatingBatcher`): the
        visibility check, previous scores, upserts and watchlist removals, each one statement
        for the whole batch. Per call: its previous score, or UnknownMovieError."""
        async with self._transaction() as conn:
            visible: set[tuple[int, int]] = set()
            by_guild: dict[int, set[int]] = {}
            for item in batch:
                by_guild.setdefault(item.guild_id, set()).add(item.movie_id)
            for guild_id, movie_ids in by_guild.items():
                ids = sorted(movie_ids)
                for i in range(0, len(ids), _IN_CHUNK):
                    chunk = ids[i:i + _IN_CHUNK]
                    marks = ",".join("?" * len(chunk))
                    rows = await self._fetchall(
                        f"SELECT m.id FROM movies m WHERE m.id IN ({marks}) AND {_VISIBLE}",
                        (*chunk, guild_id))
                    visible.update((guild_id, int(r[0])) for r in rows)
            keys = list(dict.fromkeys((b.guild_id, b.user_id, b.movie_id) for b in batch
                                      if (b.guild_id, b.movie_id) in visible))
            current: dict[tuple[int, int, int], int] = {}
            for i in range(0, len(keys), _IN_CHUNK // 3):
                triples = keys[i:i + _IN_CHUNK // 3]
                values = ",".join("(?, ?, ?)" for _ in triples)
                rows = await self._fetchall(
                    "SELECT guild_id, user_id, movie_id, score FROM ratings "
                    f"WHERE (guild_id, user_id, movie_id) IN (VALUES {values})",
                    [v for key in triples for v in key])
                current.update(((int(r[0]), int(r[1]), int(r[2])), int(r[3])) for r in rows)
            results: list[int | Exception | None] = []
            upserts: list[tuple[int, int, int, int, float]] = []
            unwatch: list[tuple[int, int, int]] = []
            now = time.time()
            for item in batch:
                if (item.guild_id, item.movie_id) not in visible:
                    results.append(UnknownMovieError(
                        f"movie #{item.movie_id} is not in this server's catalog"))
                    continue
                key = (item.guild_id, item.user_id, item.movie_id)
                results.append(current.get(key))
                current[key] = item.score
                upserts.append((*key, item.score, now))
                if item.unwatch:
                    unwatch.append(key)
            if upserts:
                await conn.executemany(
                    "INSERT INTO ratings (guild_id, user_id, movie_id, score, updated_at) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id, user_id, movie_id) "
                    "DO UPDATE SET score = excluded.score, updated_at = excluded.updated_at, "
                    "source = 'member'",  # the member's own now: a sync never overwrites it
                    upserts)
            if unwatch:
                await conn.executemany(
                    "DELETE FROM watchlist WHERE guild_id = ? AND user_id = ? AND movie_id = ?",
                    unwatch)
        return results

    async def delete_rating(self, guild_id: int, user_id: int, movie_id: int) -> bool:
        """Remove one rating; True if there was one."""
        deleted = await self._write(
            "DELETE FROM ratings WHERE guild_id = ? AND user_id = ? AND movie_id = ?",
            (guild_id, user_id, movie_id),
        )
        return deleted > 0

    async def delete_member_ratings(self, guild_id: int, user_id: int) -> int:
        """Remove all of a member's ratings in a guild; returns how many."""
        return await self._write(
            "DELETE FROM ratings WHERE guild_id = ? AND user_id = ?", (guild_id, user_id))

    async def get_rating(self, guild_id: int, user_id: int, movie_id: int) -> int | None:
        """A member's score for a movie, or None."""
        row = await self._fetchone(
            "SELECT score FROM ratings WHERE guild_id = ? AND user_id = ? AND movie_id = ?",
            (guild_id, user_id, movie_id),
        )
        return int(row[0]) if row else None

    async def member_ratings(
        self, guild_id: int, user_id: int, limit: int | None = None, offset: int = 0
    ) -> list[RatedMovie]:
        """A member's ratings in a guild, newest first."""
        rows = await self._fetchall(
            f"SELECT {_MOVIE_COLUMNS}, r.score, r.updated_at FROM ratings r "
            "JOIN movies m ON m.id = r.movie_id WHERE r.guild_id = ? AND r.user_id = ? "
            "ORDER BY r.updated_at DESC, r.movie_id DESC LIMIT ? OFFSET ?",
            (guild_id, user_id, -1 if limit is None else max(limit, 0), max(offset, 0)),
        )
        return [RatedMovie(_movie(row), int(row[8]), datetime.fromtimestamp(row[9], UTC))
                for row in rows]

    async def member_rating_arrays(self, guild_id: int,
                                   user_id: int) -> tuple[np.ndarray, np.ndarray]:
        """(movie ids int64, scores float32) of a member's ratings in a guild, movie order:
        what the recommender needs, without building a Movie per rating."""
        rows = await self._fetchall(
            "SELECT movie_id, score FROM ratings WHERE guild_id = ? AND user_id = ? "
            "ORDER BY movie_id", (guild_id, user_id))
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        scores = np.fromiter((r[1] for r in rows), dtype=np.float32, count=len(rows))
        return ids, scores

    async def count_member_ratings(self, guild_id: int, user_id: int) -> int:
        row = await self._fetchone(
            "SELECT count(*) FROM ratings WHERE guild_id = ? AND user_id = ?",
            (guild_id, user_id))
        return int(row[0])

    async def guild_has_ratings(self, guild_id: int) -> bool:
        """Whether anyone in the guild has rated a movie (one indexed lookup)."""
        row = await self._fetchone("SELECT 1 FROM ratings WHERE guild_id = ? LIMIT 1",
                                   (guild_id,))
        return row is not None

    async def movie_stats(self, guild_id: int, movie_id: int) -> tuple[float | None, int]:
        """(mean score, number of ratings) of a movie in a guild; (None, 0) when unrated."""
        row = await self._fetchone(
            "SELECT avg(score), count(*) FROM ratings WHERE guild_id = ? AND movie_id = ?",
            (guild_id, movie_id),
        )
        return (float(row[0]) if row[0] is not None else None, int(row[1]))

    async def score_counts(self, guild_id: int, movie_ids: Iterable[int]) -> dict[int, int]:
        """{score: how many ratings of these movies in the guild have it} (score charts; the
        covering index answers it, movie by movie)."""
        ids = sorted({int(m) for m in movie_ids})
        counts: dict[int, int] = {}
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start:start + _IN_CHUNK]
            rows = await self._fetchall(
                "SELECT score, count(*) FROM ratings WHERE guild_id = ? AND movie_id IN "
                f"({', '.join('?' * len(chunk))}) GROUP BY score", (guild_id, *chunk))
            for score, count in rows:
                counts[int(score)] = counts.get(int(score), 0) + int(count)
        return counts

    async def score_totals(self, guild_id: int) -> dict[int, tuple[int, int]]:
        """{movie id: (sum of scores, number of ratings)} for every movie rated in the guild
        (what `/movies top` ranks; one pass over the covering index)."""
        rows = await self._fetchall(
            "SELECT movie_id, sum(score), count(*) FROM ratings WHERE guild_id = ? "
            "GROUP BY movie_id", (guild_id,))
        return {int(row[0]): (int(row[1]), int(row[2])) for row in rows}

    async def guild_score_total(self, guild_id: int) -> tuple[int, int]:
        """(sum of scores, number of ratings) over all of the guild's ratings."""
        row = await self._fetchone(
            "SELECT IFNULL(sum(score), 0), count(*) FROM ratings WHERE guild_id = ?",
            (guild_id,))
        return int(row[0]), int(row[1])

    async def guild_ratings(self, guild_id: int) -> RatingArrays:
        """All of a guild's ratings as numpy columns, from one SELECT on the bulk connection.

        SQLite packs each member's ratings into two strings (movie ids comma-separated, scores
        one character each), so the result has one row per member instead of one per rating
        and numpy parses the strings in C: no Python object per rating. Members are read in
        chunks of RATINGS_CHUNK and parsed off the event loop. Rows come in primary-key order
        (member, then movie). user_ids/movie_ids are int64, scores float32.
        """
        users: list[np.ndarray] = []
        movies: list[np.ndarray] = []
        scores: list[np.ndarray] = []
        async with self._bulk.execute(bulk.RATINGS_SQL, (guild_id,)) as cursor:
            while True:
                rows = await cursor.fetchmany(RATINGS_CHUNK)
                if not rows:
                    break
                u, m, r = await asyncio.to_thread(bulk.parse_member_rows, list(rows))
                users.append(u)
                movies.append(m)
                scores.append(r)
        # joining a million-rating guild's chunks is tens of ms of copying: not on the loop
        return await asyncio.to_thread(bulk.join_columns, users, movies, scores)

    async def ratings_version(self, guild_id: int) -> tuple[int, int]:
        """(ratings version, number of ratings) of the guild: the version grows with every
        change of its ratings (kept by triggers); (0, 0) for a guild without ratings."""
        row = await self._fetchone(bulk.VERSION_SQL, (guild_id,))
        return (int(row[0]), int(row[1])) if row else (0, 0)

    # --------------------------------------------------- imports and watchlists
    async def movies_by_imdb(self, guild_id: int, imdb_ids: Iterable[str]) -> dict[str, Movie]:
        """{IMDb id ("tt0114709"): movie} for the ids visible in the guild (its own first)."""
        ids = sorted({i for i in imdb_ids if i})
        found: dict[str, Movie] = {}
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start:start + _IN_CHUNK]
            rows = await self._fetchall(
                f"SELECT {_MOVIE_COLUMNS} FROM movies m WHERE m.imdb_id IN "
                f"({', '.join('?' * len(chunk))}) AND {_VISIBLE} "
                "ORDER BY m.guild_id IS NULL, m.id", (*chunk, guild_id))
            for row in rows:
                found.setdefault(row[6], _movie(row))
        return found

    async def movies_by_title(self, guild_id: int,
                              norm_titles: Iterable[str]) -> dict[str, list[Movie]]:
        """{normalised title: the visible movies with it (the guild's own first)}."""
        titles = sorted({t for t in norm_titles if t})
        found: dict[str, list[Movie]] = {}
        for start in range(0, len(titles), _IN_CHUNK):
            chunk = titles[start:start + _IN_CHUNK]
            rows = await self._fetchall(
                f"SELECT {_MOVIE_COLUMNS}, m.norm_title FROM movies m WHERE m.norm_title IN "
                f"({', '.join('?' * len(chunk))}) AND {_VISIBLE} "
                "ORDER BY m.guild_id IS NULL, m.id", (*chunk, guild_id))
            for row in rows:
                found.setdefault(row[8], []).append(_movie(row))
        return found

    async def import_history(self, guild_id: int, user_id: int,
                             ratings: Sequence[tuple[int, int]],
                             watchlist: Sequence[int] = (), *,
                             watchlist_cap: int = MAX_WATCHLIST) -> ImportCounts:
        """Write a member's imported ratings ((movie id, score 1..10), one per movie) and
        watchlist in one transaction: all of it or, on any error, none. Rated movies leave
        the watchlist; watchlisted movies the member has rated are skipped, and those past
        `watchlist_cap` (counted with what the watchlist already holds) are left off."""
        rows = [(int(m), check_score(s)) for m, s in dict(ratings).items()]
        now = time.time()
        async with self._transaction() as conn:
            existing = {int(r[0]): int(r[1]) for r in await self._fetchall(
                "SELECT movie_id, score FROM ratings WHERE guild_id = ? AND user_id = ?",
                (guild_id, user_id))}
            await conn.executemany(
                "INSERT INTO ratings (guild_id, user_id, movie_id, score, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id, user_id, movie_id) "
                "DO UPDATE SET score = excluded.score, updated_at = excluded.updated_at, "
                "source = 'member' WHERE score != excluded.score OR source != 'member'",
                [(guild_id, user_id, m, score, now) for m, score in rows])
            await conn.executemany(
                "DELETE FROM watchlist WHERE guild_id = ? AND user_id = ? AND movie_id = ?",
                [(guild_id, user_id, m) for m, _ in rows])
            listed = {int(r[0]) for r in await self._fetchall(
                "SELECT movie_id FROM watchlist WHERE guild_id = ? AND user_id = ?",
                (guild_id, user_id))}
            rated = existing.keys() | {m for m, _ in rows}
            wanted = [m for m in dict.fromkeys(int(w) for w in watchlist)
                      if m not in rated and m not in listed]
            room = max(watchlist_cap - len(listed), 0)
            before = self._conn.total_changes
            await conn.executemany(
                "INSERT OR IGNORE INTO watchlist (guild_id, user_id, movie_id, added_at) "
                "VALUES (?, ?, ?, ?)", [(guild_id, user_id, m, now) for m in wanted[:room]])
            watchlisted = self._conn.total_changes - before
        added = sum(1 for m, _ in rows if m not in existing)
        changed = sum(1 for m, s in rows if m in existing and existing[m] != s)
        return ImportCounts(added, changed, len(rows) - added - changed, watchlisted,
                            max(len(wanted) - room, 0))

    async def watchlist_add(self, guild_id: int, user_id: int, movie_id: int, *,
                            cap: int = MAX_WATCHLIST) -> bool:
        """Put a visible movie on the member's watchlist; False if it already was there.
        UnknownMovieError when the movie is not visible in the guild, WatchlistCapError when
        the watchlist already holds `cap` movies (checked in the insert's transaction)."""
        async with self._transaction() as conn:
            visible = await self._fetchone(
                f"SELECT 1 FROM movies m WHERE m.id = ? AND {_VISIBLE}", (movie_id, guild_id))
            if visible is None:
                raise UnknownMovieError(f"movie #{movie_id} is not in this server's catalog")
            present = await self._fetchone(
                "SELECT 1 FROM watchlist WHERE guild_id = ? AND user_id = ? AND movie_id = ?",
                (guild_id, user_id, movie_id))
            if present is not None:
                return False
            count = await self._fetchone(
                "SELECT count(*) FROM watchlist WHERE guild_id = ? AND user_id = ?",
                (guild_id, user_id))
            if int(count[0]) >= cap:
                raise WatchlistCapError(cap)
            cursor = await conn.execute(
                "INSERT OR IGNORE INTO watchlist (guild_id, user_id, movie_id, added_at) "
                "VALUES (?, ?, ?, ?)", (guild_id, user_id, movie_id, time.time()))
            added = cursor.rowcount > 0
            await cursor.close()
        return added

    async def watchlist_add_members(self, guild_id: int, user_ids: Iterable[int],
                                    movie_id: int, *, cap: int = MAX_WATCHLIST) -> int:
        """Put one movie on several members' watchlists (those who have not rated it and
        whose watchlist holds fewer than `cap` movies); returns how many watchlists gained
        it."""
        members = sorted({int(u) for u in user_ids})
        async with self._transaction() as conn:
            before = self._conn.total_changes
            await conn.executemany(
                "INSERT OR IGNORE INTO watchlist (guild_id, user_id, movie_id, added_at) "
                "SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM ratings WHERE guild_id = ? "
                "AND user_id = ? AND movie_id = ?) AND (SELECT count(*) FROM watchlist "
                "WHERE guild_id = ? AND user_id = ?) < ?",
                [(guild_id, u, movie_id, time.time(), guild_id, u, movie_id, guild_id, u, cap)
                 for u in members])
            return self._conn.total_changes - before

    async def watchlist_remove(self, guild_id: int, user_id: int,
                               movie_ids: Iterable[int]) -> int:
        """Take movies off the member's watchlist; returns how many were on it."""
        ids = [(guild_id, user_id, int(m)) for m in set(movie_ids)]
        if not ids:
            return 0
        async with self._transaction() as conn:
            before = self._conn.total_changes
            await conn.executemany(
                "DELETE FROM watchlist WHERE guild_id = ? AND user_id = ? AND movie_id = ?", ids)
            return self._conn.total_changes - before

    async def watchlist(self, guild_id: int, user_id: int, limit: int | None = None,
                        offset: int = 0) -> list[WatchlistEntry]:
        """The member's watchlist in the guild, newest first."""
        rows = await self._fetchall(
            f"SELECT {_MOVIE_COLUMNS}, w.added_at FROM watchlist w "
            "JOIN movies m ON m.id = w.movie_id WHERE w.guild_id = ? AND w.user_id = ? "
            "ORDER BY w.added_at DESC, w.movie_id DESC LIMIT ? OFFSET ?",
            (guild_id, user_id, -1 if limit is None else max(limit, 0), max(offset, 0)))
        return [WatchlistEntry(_movie(row), datetime.fromtimestamp(row[8], UTC))
                for row in rows]

    async def count_watchlist(self, guild_id: int, user_id: int) -> int:
        row = await self._fetchone(
            "SELECT count(*) FROM watchlist WHERE guild_id = ? AND user_id = ?",
            (guild_id, user_id))
        return int(row[0])

    async def watchlist_counts(self, guild_id: int,
                               user_ids: Iterable[int]) -> dict[int, int]:
        """{movie id: how many of these members have it on their watchlist}."""
        members = sorted({int(u) for u in user_ids})
        counts: dict[int, int] = {}
        for start in range(0, len(members), _IN_CHUNK):
            chunk = members[start:start + _IN_CHUNK]
            rows = await self._fetchall(
                "SELECT movie_id, count(*) FROM watchlist WHERE guild_id = ? AND user_id IN "
                f"({', '.join('?' * len(chunk))}) GROUP BY movie_id", (guild_id, *chunk))
            for movie_id, count in rows:
                counts[int(movie_id)] = counts.get(int(movie_id), 0) + int(count)
        return counts

    async def delete_member_watchlist(self, guild_id: int, user_id: int) -> int:
        """Empty the member's watchlist in the guild; returns how many entries it had."""
        return await self._write(
            "DELETE FROM watchlist WHERE guild_id = ? AND user_id = ?", (guild_id, user_id))

    # ------------------------------------------------------------ not interested
    async def not_interested_add(self, guild_id: int, user_id: int, movie_id: int, *,
                                 cap: int = MAX_NOT_INTERESTED) -> bool:
        """Hide a visible movie from the member's picks; False if it already was hidden.
        UnknownMovieError when the movie is not visible in the guild. At `cap` entries the
        oldest is forgotten (in the same transaction)."""
        async with self._transaction() as conn:
            visible = await self._fetchone(
                f"SELECT 1 FROM movies m WHERE m.id = ? AND {_VISIBLE}", (movie_id, guild_id))
            if visible is None:
                raise UnknownMovieError(f"movie #{movie_id} is not in this server's catalog")
            cursor = await conn.execute(
                "INSERT OR IGNORE INTO not_interested (guild_id, user_id, movie_id, since) "
                "VALUES (?, ?, ?, ?)", (guild_id, user_id, movie_id, time.time()))
            added = cursor.rowcount > 0
            await cursor.close()
            if added:
                await conn.execute(
                    "DELETE FROM not_interested WHERE guild_id = ? AND user_id = ? AND "
                    "movie_id IN (SELECT movie_id FROM not_interested WHERE guild_id = ? AND "
                    "user_id = ? ORDER BY since DESC, movie_id DESC LIMIT -1 OFFSET ?)",
                    (guild_id, user_id, guild_id, user_id, max(cap, 1)))
        return added

    async def not_interested_remove(self, guild_id: int, user_id: int,
                                    movie_ids: Iterable[int]) -> int:
        """Show movies in the member's picks again; returns how many were hidden."""
        ids = [(guild_id, user_id, int(m)) for m in set(movie_ids)]
        if not ids:
            return 0
        async with self._transaction() as conn:
            before = self._conn.total_changes
            await conn.executemany(
                "DELETE FROM not_interested WHERE guild_id = ? AND user_id = ? "
                "AND movie_id = ?", ids)
            return self._conn.total_changes - before

    async def not_interested_ids(self, guild_id: int, user_id: int) -> list[int]:
        rows = await self._fetchall(
            "SELECT movie_id FROM not_interested WHERE guild_id = ? AND user_id = ? "
            "ORDER BY movie_id", (guild_id, user_id))
        return [int(row[0]) for row in rows]

    async def not_interested(self, guild_id: int, user_id: int, limit: int | None = None,
                             offset: int = 0) -> list[NotInterested]:
        """The movies the member hid from their picks in the guild, newest first."""
        rows = await self._fetchall(
            f"SELECT {_MOVIE_COLUMNS}, n.since FROM not_interested n "
            "JOIN movies m ON m.id = n.movie_id WHERE n.guild_id = ? AND n.user_id = ? "
            "ORDER BY n.since DESC, n.movie_id DESC LIMIT ? OFFSET ?",
            (guild_id, user_id, -1 if limit is None else max(limit, 0), max(offset, 0)))
        return [NotInterested(_movie(row), datetime.fromtimestamp(row[8], UTC))
                for row in rows]

    async def count_not_interested(self, guild_id: int, user_id: int) -> int:
        row = await self._fetchone(
            "SELECT count(*) FROM not_interested WHERE guild_id = ? AND user_id = ?",
            (guild_id, user_id))
        return int(row[0])

    async def delete_member_not_interested(self, guild_id: int, user_id: int) -> int:
        """Forget every movie the member hid in the guild; returns how many there were."""
        return await self._write(
            "DELETE FROM not_interested WHERE guild_id = ? AND user_id = ?",
            (guild_id, user_id))

    # ------------------------------------------------------------ movie details
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

    # ------------------------------------------------------------ guild settings
    _SETTINGS_COLUMNS = tuple(setting.name for setting in GUILD_SETTINGS)

    async def get_guild_settings(self, guild_id: int) -> GuildSettings:
        """The guild's settings (defaults when it never changed any)."""
        row = await self._fetchone(
            f"SELECT {', '.join(self._SETTINGS_COLUMNS)} FROM guild_settings WHERE guild_id = ?",
            (guild_id,),
        )
        return settings_from_row(guild_id, row)

    async def update_guild_settings(self, guild_id: int, **changes: Any) -> GuildSettings:
        """Change some settings (keyword names as in GuildSettings); returns the new settings.

        ValueError for an unknown name or a bad value; None resets a numeric setting to the
        config default.
        """
        values = settings_changes(changes)
        if values:
            assignments = ", ".join(f"{key} = ?" for key in values)
            async with self._transaction() as conn:
                await conn.execute(
                    "INSERT INTO guild_settings (guild_id) VALUES (?) ON CONFLICT DO NOTHING",
                    (guild_id,))
                await conn.execute(
                    f"UPDATE guild_settings SET {assignments} WHERE guild_id = ?",
                    (*values.values(), guild_id))
        return await self.get_guild_settings(guild_id)

    # --------------------------------------------------------------------- model
    async def save_model(self, guild_id: int, blob: bytes, *,
                         ratings_version: int | None = None, settings_key: str = "") -> bool:
        """Store the guild's serialised model (on the bulk connection), trained on ratings
        version `ratings_version` (None: the current one) with `settings_key`. A model of
        older ratings never replaces a newer one: returns False then."""
        if ratings_version is None:
            ratings_version, _count = await self.ratings_version(guild_id)
        cursor = await _retry_busy(
            self._bulk.execute, bulk.SAVE_MODEL_SQL,
            (guild_id, bytes(blob), time.time(), int(ratings_version), settings_key))
        saved = cursor.rowcount > 0
        await cursor.close()
        return saved

    async def delete_model(self, guild_id: int) -> None:
        """Forget the guild's saved model (a member was forgotten): an empty tombstone at the
        current ratings version, so a fit of older ratings still running cannot save the
        forgotten member back."""
        await self._write(bulk.FORGET_MODEL_SQL, (guild_id, time.time()))

    async def load_model(self, guild_id: int) -> bytes | None:
        state = await self.load_model_state(guild_id)
        return state.blob if state is not None else None

    async def load_model_state(self, guild_id: int) -> bulk.SavedModel | None:
        """The saved model with the ratings version and settings it was trained on."""
        row = await self._fetchone(bulk.MODEL_STATE_SQL, (guild_id,))
        if row is None:
            return None
        return bulk.SavedModel(bytes(row[0]) or None, int(row[1]), str(row[2]))

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

    # ----------------------------------------------------- guild lifecycle/privacy
    async def mark_guild_left(
        self, guild_id: int, at: datetime | float | None = None
    ) -> None:
        """Record that the bot left (was removed from) the guild at `at` (default: now); an
        earlier record stands, so the grace period is never restarted."""
        await self._write(
            "INSERT INTO guild_settings (guild_id, left_at) VALUES (?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET "
            "left_at = COALESCE(guild_settings.left_at, excluded.left_at)",
            (guild_id, _epoch(at)),
        )

    async def guilds_with_data(self) -> set[int]:
        """Every guild that has ratings, added movies, settings or a saved model here."""
        rows = await self._fetchall(
            "SELECT guild_id FROM ratings UNION SELECT guild_id FROM guild_settings "
            "UNION SELECT guild_id FROM movies WHERE guild_id IS NOT NULL "
            "UNION SELECT guild_id FROM model_state")
        return {int(row[0]) for row in rows}

    async def save_guild_names(self, guilds: Iterable[GuildName]) -> None:
        """Remember each server's name and member count (for `stats`), replacing older ones."""
        rows = [(g.guild_id, g.name, g.member_count, time.time()) for g in guilds]
        if not rows:
            return
        async with self._transaction() as conn:
            await conn.executemany(
                "INSERT INTO guild_names (guild_id, name, member_count, updated_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (guild_id) DO UPDATE SET "
                "name = excluded.name, member_count = excluded.member_count, "
                "updated_at = excluded.updated_at", rows)

    async def mark_guild_joined(self, guild_id: int) -> None:
        """The bot is (back) in the guild: cancel a pending purge."""
        await self._write("UPDATE guild_settings SET left_at = NULL WHERE guild_id = ?",
                          (guild_id,))

    async def guilds_left_before(self, cutoff: datetime | float) -> list[int]:
        """Guilds the bot left before `cutoff` (candidates for purge_guild)."""
        rows = await self._fetchall(
            "SELECT guild_id FROM guild_settings WHERE left_at IS NOT NULL AND left_at < ? "
            "ORDER BY guild_id",
            (_epoch(cutoff),),
        )
        return [row[0] for row in rows]

    async def member_tables(self) -> dict[str, tuple[str, ...]]:
        """The tables of the schema with a `user_id` column (members' rows): {name: columns}."""
        rows = await self._fetchall(
            "SELECT m.name, c.name FROM sqlite_master m JOIN pragma_table_info(m.name) c "
            "WHERE m.type = 'table' AND m.name IN (SELECT t.name FROM sqlite_master t "
            "JOIN pragma_table_info(t.name) u WHERE u.name = 'user_id') ORDER BY m.name, c.cid")
        tables: dict[str, tuple[str, ...]] = {}
        for table, column in rows:
            tables[str(table)] = (*tables.get(str(table), ()), str(column))
        return tables

    async def forget_member_rows(self, guild_id: int, user_id: int,
                                 tables: Sequence[str]) -> dict[str, int]:
        """Delete a member's rows in a guild from each of `tables` (keyed by guild_id and
        user_id: the member-data registry's), all in one transaction; {table: rows deleted}."""
        deleted: dict[str, int] = {}
        async with self._transaction() as conn:
            for table in tables:
                cursor = await conn.execute(
                    f"DELETE FROM {sql_name(table)} WHERE guild_id = ? AND user_id = ?",
                    (guild_id, user_id))
                deleted[table] = max(cursor.rowcount, 0)
                await cursor.close()
        return deleted

    async def purge_guild(self, guild_id: int,
                          member_tables: Sequence[str] | None = None) -> int:
        """Delete everything a guild stored: members' rows (`member_tables`, the member-data
        registry's; None: every table with a `user_id` column), its movies, settings, model.

        Returns the number of rows deleted (all tables together). The shared catalog stays.
        """
        if member_tables is None:
            member_tables = list(await self.member_tables())
        total = 0
        async with self._transaction() as conn:
            for table in (*member_tables, *GUILD_TABLES):
                cursor = await conn.execute(f"DELETE FROM {sql_name(table)} WHERE guild_id = ?",
                                            (guild_id,))
                total += max(cursor.rowcount, 0)
                await cursor.close()
        return total

    # -------------------------------------------------------------------- backup
    async def backup(self, dest_path: str | os.PathLike[str]) -> Path:
        """Copy the database to `dest_path` with SQLite's online backup API.

        Written to a temporary file next to the destination, then renamed, so a failed
        backup never leaves a half-written file under the final name.
        """
        dest = Path(dest_path)
        partial = await asyncio.to_thread(_prepare_backup, dest, self.path)
        try:
            target = await asyncio.to_thread(sqlite3.connect, str(partial),
                                             check_same_thread=False)
            try:
                await self._conn.backup(target)
                target.execute("PRAGMA journal_mode = DELETE")
            finally:
                target.close()
            os.replace(partial, dest)
        except (OSError, sqlite3.Error) as error:
            reason = getattr(error, "strerror", None) or str(error)
            raise StorageError(f"cannot write the backup to {dest}: {reason}") from error
        finally:  # nothing half-written is left behind
            for leftover in (partial, partial.with_name(partial.name + "-journal")):
                leftover.unlink(missing_ok=True)
        return dest
