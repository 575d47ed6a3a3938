"""The storage contract runs on both backends: `store` is parametrized over SQLite and
PostgreSQL (as implicit's shared model tests run one suite over every model class).

* `backend`: "sqlite" or "postgres"; `database`: an SQLite path or a fresh (migrated)
  PostgreSQL database URL for one test (a PostgreSQL test is skipped without
  `MOVIEBOT_TEST_POSTGRES_URL`, and fails under `CI=true`);
* `store`: an open, migrated, empty storage on that database;
* `sql_value(sql, *params)`: the first value a raw query (written with `?` placeholders)
  returns on `store`'s database, for the few checks the contract has no method for;
* `sqlite_store`: an SQLite storage, for tests of what only SQLite has (its raw connection,
  the online backup API).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.storage import PostgresStorage, Storage, is_postgres_url

BACKENDS = ("sqlite", "postgres")


async def open_database(target: str | Path) -> Storage:
    """Open (and migrate) the storage at `target`: an SQLite path or a PostgreSQL URL."""
    if is_postgres_url(target):
        return await PostgresStorage.open(str(target))
    return await Storage.open(target)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return str(tmp_path / "bot.sqlite3")
    # Already migrated (tests/conftest.py): `store` opens it as the bot would a second time.
    return str(request.getfixturevalue("migrated_postgres_database"))


@pytest.fixture
async def store(database: str) -> AsyncIterator[Storage]:
    storage = await open_database(database)
    try:
        yield storage
    finally:
        await storage.close()


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[Storage]:
    storage = await Storage.open(tmp_path / "bot.sqlite3")
    try:
        yield storage
    finally:
        await storage.close()


@pytest.fixture
def sql_value(store: Storage) -> Callable[..., Awaitable[Any]]:
    async def value(sql: str, *params: Any) -> Any:
        if isinstance(store, PostgresStorage):
            numbered = iter(range(1, len(params) + 1))
            return await store.pool.fetchval(re.sub(r"\?", lambda _m: f"${next(numbered)}", sql),
                                             *params)
        async with store.connection.execute(sql, params) as cursor:
            row = await cursor.fetchone()
        return row[0] if row else None

    return value
