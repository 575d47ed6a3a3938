"""The SQLite backend's connections and transactions, which every area mixin builds on.

Connections (see `pool.py`): one writer connection (autocommit mode) takes every write, in
`BEGIN IMMEDIATE` transactions serialised by an asyncio lock; reads outside a transaction go to
a small pool of reader connections, each in its own thread, which under WAL read a consistent
snapshot beside the writer. So a member's read never queues behind another's write, a model
blob being loaded or a slow query, and `/rate`'s write never queues behind reads. Reads inside
a transaction use the writer (they must see its uncommitted rows).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import time
from abc import abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any, Self, TypeVar, cast

import aiosqlite

from bot.domain.title_forms import skeleton

from ..errors import StorageError
from ..migration import Migration
from ..sql.executor import Executor, SqlStorage
from ..urls import is_postgres_url
from .connection import create_private_file, make_private_dir, open_bulk, open_connection
from .migrations import MIGRATIONS, user_version
from .pool import ReaderPool
from .rating_batch import PendingRating, RatingBatcher

T = TypeVar("T")

_IN_CHUNK = 500  # values per "IN (...)" list: far below SQLite's parameter limit
_VISIBLE = "(m.guild_id IS NULL OR m.guild_id = ?)"
SKELETON_MIGRATION = next(m for m in MIGRATIONS if m.version == 5)

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


def begin_immediate(conn: sqlite3.Connection) -> None:
    """`BEGIN IMMEDIATE` on a plain connection, in its own thread, retried like `_retry_busy`
    (bounded exponential backoff after busy_timeout ran out)."""
    delay = BUSY_BACKOFF
    for attempt in range(BUSY_RETRIES + 1):
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            if attempt == BUSY_RETRIES or not _is_busy(error):
                raise
        time.sleep(delay)
        delay *= 2


def _run(raw: sqlite3.Connection, sql: str, params: Sequence[Any],
         take: Callable[[sqlite3.Cursor], T]) -> T:
    """One statement on the connection's own thread, its cursor closed after ``take``."""
    cursor = raw.execute(sql, params)
    try:
        return take(cursor)
    finally:
        cursor.close()


def _all_rows(raw: sqlite3.Connection, sql: str, params: Sequence[Any]) -> list[Any]:
    return _run(raw, sql, params, sqlite3.Cursor.fetchall)


def _first_row(raw: sqlite3.Connection, sql: str, params: Sequence[Any]) -> Any:
    return _run(raw, sql, params, sqlite3.Cursor.fetchone)


def _row_count(raw: sqlite3.Connection, sql: str, params: Sequence[Any]) -> int:
    return _run(raw, sql, params, lambda cursor: int(cursor.rowcount))


async def one_trip(conn: aiosqlite.Connection, fn: Callable[..., T], *args: Any) -> T:
    """`fn(sqlite3 connection, *args)` in one call on `conn`'s own thread. aiosqlite's
    `execute`, `fetchone` and the cursor's close are a round trip to that thread each (a GIL
    hand-off both ways, slow on a busy process); a read this way is one."""
    raw = conn._conn  # the sqlite3 connection aiosqlite wraps (used on its thread only)
    return cast(T, await conn._execute(fn, raw, *args))


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



_NUMBERED = re.compile(r"\$(\d+)")


@lru_cache(maxsize=2048)
def numbered(sql: str) -> str:
    """`$N` placeholders as SQLite's `?N` (bound from the same sequence of parameters)."""
    return _NUMBERED.sub(r"?\1", sql)


class SqliteExecutor(Executor):
    """The shared queries on SQLite. Outside a transaction (`conn` None) reads go through
    the storage's `_fetchall`/`_fetchone` (the reader pool, or the writer inside the task's
    transaction) and a write through `_write` (the writer's lock, busy retries); inside one,
    everything runs on the writer connection."""

    no_limit = -1
    for_update = ""
    ratings_by_movie = "ratings INDEXED BY ratings_movie"

    def __init__(self, storage: SqliteBase, conn: aiosqlite.Connection | None = None) -> None:
        self._storage = storage
        self._conn = conn

    async def fetchall(self, sql: str, *args: Any) -> list[Any]:
        if self._conn is None:
            return await self._storage._fetchall(numbered(sql), args)
        return await one_trip(self._conn, _all_rows, numbered(sql), args)

    async def fetchone(self, sql: str, *args: Any) -> Any:
        if self._conn is None:
            return await self._storage._fetchone(numbered(sql), args)
        return await one_trip(self._conn, _first_row, numbered(sql), args)

    async def execute(self, sql: str, *args: Any) -> int:
        if self._conn is None:
            return await self._storage._write(numbered(sql), args)
        return max(await one_trip(self._conn, _row_count, numbered(sql), args), 0)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self.transaction() as tx:
            assert isinstance(tx, SqliteExecutor) and tx._conn is not None
            await tx._conn.executemany(numbered(sql), rows)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Executor]:
        writer = self._storage._conn
        if self._conn is not None or _IN_TRANSACTION.get() is writer:
            yield SqliteExecutor(self._storage, writer)
            return
        async with self._storage._transaction() as conn:
            yield SqliteExecutor(self._storage, conn)

    def any_of(self, column: str, n: int, kind: str = "bigint") -> str:
        return f"{column} IN (SELECT value FROM json_each(${n}))"

    def values(self, items: Sequence[Any]) -> Any:
        return json.dumps(list(items))

    async def lock(self, key: int, name: str | None = None) -> None:
        """Nothing to take: the writer's transaction already runs alone."""


class SqliteBase(SqlStorage):
    """The connections (writer, bulk, readers) and the helpers the area mixins query with."""

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
        self._db: Executor = SqliteExecutor(self)

    # ----------------------------------------------------------------- lifecycle
    @classmethod
    async def open(
        cls, path: str | os.PathLike[str], *, migrations: list[Migration] | None = None
    ) -> Self:
        """Open the database (creating it and its folder), set pragmas, apply migrations.

        A `postgresql://` URL is refused (StorageError), never opened as an SQLite file
        named like a URL: `open_storage(settings)` picks the backend."""
        if is_postgres_url(str(path)):
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

    @abstractmethod
    async def _write_rating_batch(self, batch: Sequence[PendingRating]
                                  ) -> list[int | Exception | None]:
        """One transaction for a batch of `upsert_rating` calls (the ratings mixin's)."""

    @property
    def connection(self) -> aiosqlite.Connection:
        """The raw connection, for tests and tools; cogs must use the methods."""
        return self._conn

    async def _on_writer(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(connection, *args)` on the writer connection's own thread, in one round trip
        (a whole transaction of small statements; the caller holds `_lock`). aiosqlite runs
        each call of a connection on that connection's thread, in order."""
        return await one_trip(self._conn, fn, *args)

    async def _write(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One write statement (autocommit) under the lock, retried while another process
        holds the write lock; returns the row count."""
        async with self._lock:
            return int(await _retry_busy(one_trip, self._conn, _row_count, sql, params))

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
            return await one_trip(writer, _all_rows, sql, params)
        async with self._readers.connection() as conn:
            return await one_trip(conn, _all_rows, sql, params)

    async def _fetchone(self, sql: str, params: Sequence[Any] = ()) -> Any:
        writer = _IN_TRANSACTION.get()
        if writer is self._conn:
            return await one_trip(writer, _first_row, sql, params)
        async with self._readers.connection() as conn:
            return await one_trip(conn, _first_row, sql, params)
