"""Opening the SQLite database: folders, pragmas, and the migration check.

The connection runs in autocommit mode (`isolation_level=None`); the storage and the
migrations open their own transactions explicitly with `BEGIN IMMEDIATE ... COMMIT`.
`open_bulk` opens a second connection for the fits' heavy traffic (reading a guild's whole
rating table, storing its model): under WAL it reads a consistent snapshot while members'
commands keep using the main connection, instead of queueing behind a million-row read.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import aiosqlite

from ..migration import Migration
from .migrations import MIGRATIONS, apply_migrations, check_version

BUSY_TIMEOUT_MS = 5000
PRIVATE_FILE = 0o600  # the database, its -wal/-shm, backups: owner only
PRIVATE_DIR = 0o700  # a data folder the bot creates


def make_private_dir(folder: Path) -> None:
    """Create `folder` (and its parents) if missing; a folder created here is 0700. An existing
    folder keeps its mode: it may be the working directory or a mounted volume."""
    if not folder.exists():
        folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
        with contextlib.suppress(OSError):
            folder.chmod(PRIVATE_DIR)  # mkdir's mode is filtered by the umask


def create_private_file(path: Path, *, exclusive: bool = False) -> None:
    """Create `path` empty with mode 0600 (an empty file is a valid empty SQLite database), or
    take group and other permissions away from an existing one. SQLite gives the -wal, -shm
    and -journal files it creates the database file's permissions, so they are 0600 too."""
    if exclusive or not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        except FileExistsError:
            if exclusive:
                raise
        else:
            os.close(fd)
    _tighten(path)


def _tighten(path: Path) -> None:
    with contextlib.suppress(OSError):  # not ours to change (another owner): leave it
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            path.chmod(mode & 0o700)


def make_private_database(path: Path) -> None:
    """The database file and its folder before SQLite opens them: folder 0700 when created
    here, file (and leftover -wal/-shm files) 0600."""
    make_private_dir(path.parent)
    create_private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        _tighten(path.with_name(path.name + suffix))


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
        make_private_database(path)
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
