"""Opening the SQLite database: folders, pragmas, and the migration check.

The connection runs in autocommit mode (`isolation_level=None`); the repository and the
migrations open their own transactions explicitly with `BEGIN IMMEDIATE ... COMMIT`.
`open_bulk` opens a second connection for the fits' heavy traffic (reading a guild's whole
rating table, storing its model): under WAL it reads a consistent snapshot while members'
commands keep using the main connection, instead of queueing behind a million-row read.
"""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from .migrations import MIGRATIONS, Migration, apply_migrations, check_version

BUSY_TIMEOUT_MS = 5000


async def open_connection(
    path: str | Path, *, migrations: list[Migration] | None = None
) -> aiosqlite.Connection:
    """Open (creating folders and file as needed), set pragmas and apply pending migrations.

    Raises SchemaTooNewError for a database from a newer bot (before changing the file) and
    MigrationError when a migration fails (that migration is rolled back).
    """
    migrations = MIGRATIONS if migrations is None else migrations
    path = Path(path)
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = await aiosqlite.connect(str(path), isolation_level=None)
    try:
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA foreign_keys = ON")
        await check_version(conn, migrations, label=str(path))
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = NORMAL")
        await apply_migrations(conn, migrations, label=str(path))
    except BaseException:
        await conn.close()
        raise
    return conn


async def open_bulk(path: str | Path) -> aiosqlite.Connection:
    """A second connection to a database `open_connection` has already prepared."""
    conn = await aiosqlite.connect(str(path), isolation_level=None)
    try:
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        await conn.close()
        raise
    return conn
