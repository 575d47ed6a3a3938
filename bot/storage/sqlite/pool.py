"""A small pool of read-only SQLite connections, each with its own aiosqlite thread.

Under WAL, readers see a consistent snapshot and never wait for the writer (nor it for them),
so members' reads (autocomplete, `/movies info`, a model blob on a cache miss) run beside each
other and beside `/rate`'s write instead of queueing on one connection's thread. The pool hands
out the least busy connection: a burst of reads spreads over all of them, and a slow query holds
up only the reads that happen to share its connection, never the writer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from .connection import BUSY_TIMEOUT_MS

READERS = 3  # reader connections (threads) per database


async def open_reader(path: str | Path) -> aiosqlite.Connection:
    """A read-only connection to a database `open_connection` has already prepared."""
    conn = await aiosqlite.connect(str(path), isolation_level=None)
    try:
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA query_only = ON")
    except BaseException:
        await conn.close()
        raise
    return conn


class ReaderPool:
    """Connections for reads outside a transaction; `connection()` lends the one with the
    fewest reads in flight (aiosqlite queues further reads on a busy connection's thread)."""

    def __init__(self, connections: Sequence[aiosqlite.Connection], *, owned: bool = True):
        if not connections:
            raise ValueError("a reader pool needs at least one connection")
        self._connections = list(connections)
        self._busy = [0] * len(self._connections)
        self._owned = owned  # False: the connections belong to someone else (the writer)

    @classmethod
    async def open(cls, path: str | Path, size: int = READERS) -> ReaderPool:
        connections: list[aiosqlite.Connection] = []
        try:
            for _ in range(max(1, size)):
                connections.append(await open_reader(path))
        except BaseException:
            for conn in connections:
                await conn.close()
            raise
        return cls(connections)

    @property
    def size(self) -> int:
        return len(self._connections)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[aiosqlite.Connection]:
        index = min(range(len(self._busy)), key=self._busy.__getitem__)
        self._busy[index] += 1
        try:
            yield self._connections[index]
        finally:
            self._busy[index] -= 1

    async def close(self) -> None:
        if self._owned:
            for conn in self._connections:
                await conn.close()
        self._connections = []
        self._busy = []
