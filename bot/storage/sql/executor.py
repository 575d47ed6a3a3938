"""The tiny interface the shared queries run on, and the base every backend's storage shares.

The shared area mixins (`bot/storage/sql/*.py`) write each query once, with PostgreSQL's `$1`
placeholders, against an `Executor`: `fetchall`/`fetchone`/`fetchval`/`execute`/`executemany`
and `transaction()`, which yields an executor bound to one transaction. The SQLite executor
rewrites `$N` to `?N` (SQLite's numbered parameters, bound from the same sequence) and keeps
SQLite's connection rules (reads outside a transaction on the reader pool, writes under the
writer's lock with busy retries); the PostgreSQL one hands the SQL to asyncpg as it is.

Where the dialects differ the executor says how (`any_of` for "column in this list",
`no_limit`, `for_update`, `ratings_by_movie`, `lock`); what differs more than that stays in
the backend's own mixin (FTS5 vs pg_trgm search, bulk inserts, binary COPY, the /rate
batcher, blobs).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from ..contract import Storage


class Executor(ABC):
    """Runs `$N`-style SQL on one backend: outside a transaction, or inside the one
    `transaction()` yielded."""

    no_limit: Any  # the LIMIT value meaning "all rows" (SQLite: -1, PostgreSQL: NULL)
    for_update: str  # appended to a SELECT that locks its rows (SQLite's writer needs none)
    # The ratings table in a read by (guild, movie): SQLite names the covering index
    # (guild_id, movie_id, score), since its planner otherwise takes the movie_id foreign-key
    # index and reads every guild's ratings of the movie, each row looked up for its score.
    ratings_by_movie: str

    @abstractmethod
    async def fetchall(self, sql: str, *args: Any) -> list[Any]:
        """Every row (each indexable by position)."""

    @abstractmethod
    async def fetchone(self, sql: str, *args: Any) -> Any:
        """The first row, or None."""

    async def fetchval(self, sql: str, *args: Any) -> Any:
        """The first column of the first row, or None."""
        row = await self.fetchone(sql, *args)
        return None if row is None else row[0]

    @abstractmethod
    async def execute(self, sql: str, *args: Any) -> int:
        """Run one statement; the number of rows it changed."""

    @abstractmethod
    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement per row of parameters (in one transaction)."""

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Executor]:
        """A transaction (committed at the end, rolled back on an error); inside one, the
        same executor."""

    @abstractmethod
    def any_of(self, column: str, n: int, kind: str = "bigint") -> str:
        """SQL true when `column` is in the list bound as parameter `n` (see `values`)."""

    @abstractmethod
    def values(self, items: Sequence[Any]) -> Any:
        """A list as the parameter `any_of` compares with."""

    @abstractmethod
    async def lock(self, key: int, name: str | None = None) -> None:
        """Hold a lock to the end of the transaction (check-then-insert writes): PostgreSQL's
        advisory lock; SQLite's single writer already serialises them."""


class SqlStorage(Storage):
    """A storage whose queries run on an `Executor` (`self._db`)."""

    _db: Executor
