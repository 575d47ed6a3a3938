"""The PostgreSQL backend's pool and transactions, which every area mixin builds on.

`await PostgresStorage.open(url)` connects a pool, applies migrations (`migrations`, under an
advisory lock) and fills what Python computes (title skeletons). The area mixins implement the
`Storage` contract with the same meaning as SQLite's (the contract tests in `tests/storage` run
on both); what differs is how:

* parameters are `$n`; id lists are `= ANY($1::bigint[])`; bulk inserts `unnest` arrays;
  new ids come from `RETURNING`;
* title search pulls candidates through `pg_trgm` GIN indexes (substring `LIKE`, then word
  similarity with the threshold lowered to `TRGM_THRESHOLD` so one-letter typos match:
  "matirx" vs "matrix" is 0.27, under pg_trgm's default 0.3) and a `COLLATE "C"` prefix range,
  then ranks them with the same `search.Scorer` as SQLite;
* `guild_ratings` is one binary `COPY ... TO STDOUT` parsed by numpy (`bulk`);
* writes that check then insert (a movie's duplicates, a guild's cap, a watchlist's cap) hold
  a transaction-level advisory lock, where SQLite relies on its single writer;
* the ratings versions are kept by PL/pgSQL triggers, model blobs are `bytea` under the same
  generation guard as SQLite's.

Backups: `pg_dump -Fc` (see the README); `backup()` refuses with that hint.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Self

import asyncpg

from bot.domain.title_forms import skeleton

from ..errors import StorageError
from ..migration import Migration
from ..sql.common import WATCHLIST_LOCK
from ..sql.executor import Executor, SqlStorage
from ..urls import display_url
from . import bulk as pg_bulk
from .migrations import apply_pg_migrations, schema_version

POOL_MIN = 1
POOL_MAX = 10

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


class PostgresExecutor(Executor):
    """The shared queries on PostgreSQL: on the pool, or on the connection of a transaction."""

    no_limit = None
    for_update = " FOR UPDATE"
    ratings_by_movie = "ratings"

    def __init__(self, handle: asyncpg.Pool | asyncpg.Connection,
                 in_transaction: bool = False) -> None:
        self._handle = handle
        self._in_transaction = in_transaction

    async def fetchall(self, sql: str, *args: Any) -> list[Any]:
        return list(await self._handle.fetch(sql, *args))

    async def fetchone(self, sql: str, *args: Any) -> Any:
        return await self._handle.fetchrow(sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self._handle.fetchval(sql, *args)

    async def execute(self, sql: str, *args: Any) -> int:
        return _count(await self._handle.execute(sql, *args))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._handle.executemany(sql, rows)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Executor]:
        if self._in_transaction:
            yield self
            return
        async with self._handle.acquire() as conn, conn.transaction():
            yield PostgresExecutor(conn, in_transaction=True)

    def any_of(self, column: str, n: int, kind: str = "bigint") -> str:
        return f"{column} = ANY(${n}::{kind}[])"

    def values(self, items: Sequence[Any]) -> Any:
        return list(items)

    async def lock(self, key: int, name: str | None = None) -> None:
        if name is None:
            await self._handle.execute("SELECT pg_advisory_xact_lock($1)", key)
        else:
            await self._handle.execute("SELECT pg_advisory_xact_lock($1, hashtext($2::text))",
                                       key, name)


class PostgresBase(SqlStorage):
    """The pool and the helpers the area mixins query with."""

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self._pool = pool
        self._db: Executor = PostgresExecutor(pool)
        self.url = url
        self.database = url
        self.path = Path(display_url(url))  # for messages only; never opened as a file

    # ----------------------------------------------------------------- lifecycle
    @classmethod
    async def open(
        cls, url: str | os.PathLike[str], *, migrations: list[Migration] | None = None,
        min_size: int = POOL_MIN, max_size: int = POOL_MAX,
    ) -> Self:
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

