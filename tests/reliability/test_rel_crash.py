"""A crash (SIGKILL) in the middle of a burst of writes, or inside a migration, leaves a
consistent database that opens on restart with every committed write in it."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import timeouts
from processes import kill_group, spawn
from rel_support import integrity, subprocess_env

from bot.storage import Storage
from bot.storage.sqlite.migrations import LATEST_VERSION, MIGRATIONS

HELPER = Path(__file__).resolve().parent / "crash_helper.py"
GUILD = 42
pytestmark = pytest.mark.slow


def _start(mode: str, db: Path) -> subprocess.Popen:
    """The helper in a process group of its own (`_kill` ends the whole group)."""
    return spawn([sys.executable, str(HELPER), mode, str(db)], env=subprocess_env(),
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _kill(proc: subprocess.Popen) -> str:
    """SIGKILL the helper's group; its remaining output."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    try:
        # Read through the text wrapper the caller's readline() used: communicate() reads the
        # pipe itself and would skip the lines already buffered there (undercounting what
        # the helper printed as committed).
        out = proc.stdout.read() if proc.stdout else ""
        err = proc.stderr.read() if proc.stderr else ""
        proc.wait(timeout=timeouts.scaled(10))
    finally:
        kill_group(proc)  # whatever happened above, nothing of the group is left
    assert proc.returncode == -signal.SIGKILL, err
    return out


def test_sigkill_mid_burst_loses_no_committed_rating(tmp_path):
    db = tmp_path / "crash.sqlite3"
    proc = _start("ratings", db)
    lines = []
    try:
        deadline = time.monotonic() + timeouts.scaled(30)
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            lines.append(line.strip())
            if line.startswith("committed") and int(line.split()[1]) >= 400:
                break
    finally:
        rest = _kill(proc)  # SIGKILL while it is still writing as fast as it can
    lines += rest.split("\n")
    committed = max(int(x.split()[1]) for x in lines if x.startswith("committed"))
    movie_id = int(lines[0].split()[1])
    assert committed >= 400

    assert integrity(db) == "ok"

    async def check() -> None:
        storage = await Storage.open(db)  # reopens (WAL recovery) and the bot could go on
        try:
            scores = {}
            for user in range(1, committed + 1):
                scores[user] = await storage.get_rating(GUILD, user, movie_id)
            lost = [u for u, s in scores.items() if s is None]
            assert not lost, f"{len(lost)} committed ratings lost"
            for user, score in scores.items():
                rerated = user + 3 <= committed and (user + 3) % 7 == 0
                assert score == (10 if rerated else 1 + user % 10), user
            arrays = await storage.guild_ratings(GUILD)
            assert committed <= len(arrays) <= committed + 1  # maybe one more, never fewer
            await storage.upsert_rating(GUILD, 10**6, movie_id, 5)  # writable again
        finally:
            await storage.close()

    import asyncio
    asyncio.run(check())
    assert integrity(db) == "ok"


def _v1_database(db: Path, movies: int = 3000) -> None:
    import asyncio

    async def build() -> None:
        storage = await Storage.open(db, migrations=[MIGRATIONS[0]])
        await storage.close()

    asyncio.run(build())
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO movies (id, title, year, norm_title) VALUES (?, ?, ?, ?)",
                     [(i, f"Movie {i}", 2000, f"movie {i}") for i in range(1, movies + 1)])
    conn.executemany("INSERT INTO ratings (guild_id, user_id, movie_id, score, updated_at) "
                     "VALUES (?, ?, ?, ?, 0)",
                     [(GUILD, u, m, 1 + (u + m) % 10) for u in range(1, 21)
                      for m in range(1, 101)])
    conn.execute("COMMIT")
    conn.close()


def _columns(db: Path, table: str) -> set[str]:
    conn = sqlite3.connect(db)
    try:
        return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
    finally:
        conn.close()


def _user_version(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def _write_locked(db: Path) -> bool:
    conn = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as error:
        return "locked" in str(error) or "busy" in str(error)
    finally:
        conn.close()


def test_sigkill_inside_a_migration_leaves_old_version_and_reopens(tmp_path):
    db = tmp_path / "migrate.sqlite3"
    _v1_database(db)
    assert _user_version(db) == 1
    proc = _start("migrate", db)
    try:
        assert proc.stdout.readline().strip() == "migrating"
        deadline = time.monotonic() + timeouts.scaled(20)
        while not _write_locked(db):  # the migration transaction is open
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "the migration never started"
            time.sleep(0.02)
        time.sleep(0.3)  # well inside the stalled statement, after the ALTER and UPDATE
        assert proc.poll() is None
    finally:
        _kill(proc)

    # Never half: still version 1, none of migration 2's changes, data intact.
    assert integrity(db) == "ok"
    assert _user_version(db) == 1
    assert "search_text" not in _columns(db, "movies")
    assert "left_at" not in _columns(db, "guild_settings")

    import asyncio

    async def reopen() -> None:
        storage = await Storage.open(db)  # the real migrations finish the job
        try:
            assert storage.path == db
            assert await storage.movie_count() == 3000
            arrays = await storage.guild_ratings(GUILD)
            assert len(arrays) == 2000
            hits = await storage.search_movies(GUILD, "Movie 2999", limit=1)
            assert hits and hits[0].title == "Movie 2999"  # FTS built by the migration
        finally:
            await storage.close()

    asyncio.run(reopen())
    assert _user_version(db) == LATEST_VERSION
    assert "search_text" in _columns(db, "movies")
    assert integrity(db) == "ok"
