"""`python -m bot backup PATH` copies the live database (SQLite online backup API) while the
bot runs and writes; the README's restore procedure brings that copy back."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest
import timeouts
from rel_support import REPO, integrity, run_cli, subprocess_env

from bot.storage import Storage

pytestmark = pytest.mark.slow


def _config(tmp_path: Path, database: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[storage]\ndatabase = "{database.as_posix()}"\n', encoding="utf-8")
    path.chmod(0o600)
    return path


async def test_backup_while_the_bot_runs_and_writes(env):
    movie = await env.movie("Alien")
    members = [env.guild.add_member(f"bk{i:03d}") for i in range(120)]
    for member in members[:40]:  # committed before the backup starts
        await env.answer(await env.slash(member, "rate", movie=f"#{movie.id}", score=6))
    config = _config(env.tmp_path, env.storage.path)
    dest = env.tmp_path / "backups" / "copy.sqlite3"

    backup = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), "backup", str(dest), cwd=REPO,
        env=subprocess_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        # Meanwhile the bot keeps taking ratings.
        inters = [await env.slash(m, "rate", movie=f"#{movie.id}", score=8)
                  for m in members[40:]]
        out, err = await asyncio.wait_for(backup.communicate(), timeouts.scaled(60))
    finally:
        if backup.returncode is None:  # failed or timed out above: the copy stops too
            backup.kill()
            await backup.wait()
    replies = [await env.answer(i, wait=30) for i in inters]
    assert backup.returncode == 0, err.decode()
    assert f"Backed up {env.storage.path} to {dest}" in out.decode()
    assert all("Rated" in r.rendered_text() for r in replies)

    assert integrity(dest) == "ok"
    assert not await asyncio.to_thread(os.path.exists, f"{dest}-wal")  # one whole file
    copy = sqlite3.connect(dest)
    try:
        rows = dict(copy.execute("SELECT user_id, score FROM ratings WHERE guild_id = ? AND "
                                 "movie_id = ?", (env.guild.id, movie.id)).fetchall())
        catalog = copy.execute("SELECT COUNT(*) FROM movies").fetchone()[0]
    finally:
        copy.close()
    # A consistent snapshot: everything committed before, then some prefix of the burst.
    assert all(rows.get(m.id) == 6 for m in members[:40])
    assert 40 <= len(rows) <= 120
    assert set(rows.values()) <= {6, 8}
    assert catalog == await env.storage.movie_count()
    # The live database is untouched and still complete.
    assert len(await env.storage.guild_ratings(env.guild.id)) == 120


async def test_restore_procedure_from_the_readme(tmp_path):
    live = tmp_path / "data" / "moviebot.sqlite3"
    storage = await Storage.open(live)
    movie = await storage.add_movie("Restore Me", 2001, (), guild_id=7)
    for user in range(1, 51):
        await storage.upsert_rating(7, user, movie.id, 1 + user % 10)
    await storage.close()
    config = _config(tmp_path, live)
    dest = tmp_path / "moviebot-backup.sqlite3"
    result = await asyncio.to_thread(run_cli, "--config", str(config), "backup", str(dest))
    assert result.returncode == 0, result.stderr

    # Damage after the backup: a member's ratings deleted, a rogue write left in the WAL.
    storage = await Storage.open(live)
    await storage.delete_member_ratings(7, 1)
    await storage.upsert_rating(7, 999, movie.id, 3)
    await storage.close()

    # README: stop the bot, replace the database file with the backup, delete -wal/-shm.
    def restore() -> None:
        for suffix in ("-wal", "-shm"):
            Path(f"{live}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(dest, live)

    await asyncio.to_thread(restore)

    storage = await Storage.open(live)
    try:
        assert await storage.get_rating(7, 1, movie.id) == 2
        assert await storage.get_rating(7, 999, movie.id) is None
        assert len(await storage.guild_ratings(7)) == 50
    finally:
        await storage.close()
    assert integrity(live) == "ok"
