"""Files only the bot's user can read, backups that fail cleanly, redacted crashes (issue 13,
rows 9-11).

* The database, its -wal/-shm files and backups are 0600 and a data folder the bot creates is
  0700, whatever the umask (checked with os.stat under umask 022).
* `python -m bot backup` to a path that cannot be written prints one line, exits non-zero
  and leaves nothing behind (no `.partial`).
* An exception nobody catches, in a thread or in the main thread, is printed with the token
  redacted, as log lines are.
"""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import timeouts
from rel_support import REPO, run_cli, subprocess_env

from bot.storage import Storage

pytestmark = pytest.mark.slow
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.thread-secret_0123456789abcdef"


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _config(tmp_path: Path, database: Path, *, token: str | None = None) -> Path:
    path = tmp_path / "config.toml"
    text = f'[storage]\ndatabase = "{database.as_posix()}"\n'
    if token:
        text = f'[discord]\ntoken = "{token}"\n' + text
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


async def _open_write_and_backup(database: Path, backup: Path) -> dict[str, int]:
    storage = await Storage.open(database)
    try:
        movie = await storage.add_movie(f"Private Film {backup.stem}", 2001, guild_id=7)
        await storage.upsert_rating(7, 42, movie.id, 9)
        modes = {name: _mode(database.with_name(database.name + name))
                 for name in ("-wal", "-shm")}
        modes[""] = _mode(database)
        await storage.backup(backup)
        return modes
    finally:
        await storage.close()


def test_database_wal_shm_backup_are_0600_and_a_new_data_folder_0700(tmp_path):
    old = os.umask(0o022)  # the usual umask: files 0644, folders 0755 unless the bot says so
    try:
        database = tmp_path / "data" / "nested" / "bot.sqlite3"
        backup = tmp_path / "backups" / "copy.sqlite3"
        modes = asyncio.run(_open_write_and_backup(database, backup))
    finally:
        os.umask(old)
    assert modes == {"": 0o600, "-wal": 0o600, "-shm": 0o600}
    assert _mode(database.parent) == 0o700
    assert _mode(backup) == 0o600
    assert _mode(backup.parent) == 0o700
    assert not list(backup.parent.glob("*.partial"))


def test_an_existing_world_readable_database_is_made_private(tmp_path):
    database = tmp_path / "bot.sqlite3"
    asyncio.run(_open_write_and_backup(database, tmp_path / "b1.sqlite3"))
    database.chmod(0o644)
    asyncio.run(_open_write_and_backup(database, tmp_path / "b2.sqlite3"))
    assert _mode(database) == 0o600


def _one_clean_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


def test_backup_to_an_unwritable_path_is_one_line_and_leaves_nothing(tmp_path):
    database = tmp_path / "bot.sqlite3"
    asyncio.run(_open_write_and_backup(database, tmp_path / "first.sqlite3"))
    config = str(_config(tmp_path, database))

    folder = tmp_path / "backups"
    folder.mkdir()  # a folder gets a new file inside it (issue 21, item 8: tests/test_backup_cli)

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    line = _one_clean_line(run_cli("--config", config, "backup", str(blocker / "copy.sqlite3")))
    assert "cannot write the backup" in line
    assert not list(tmp_path.rglob("*.partial"))

    line = _one_clean_line(run_cli("--config", config, "backup",
                                   "/proc/moviebot-no-such-dir/copy.sqlite3"))
    assert "cannot write the backup" in line

    # And the good case still works, private.
    good = run_cli("--config", config, "backup", str(folder / "ok.sqlite3"))
    assert good.returncode == 0, good.stderr
    assert _mode(folder / "ok.sqlite3") == 0o600


CRASHY = """
import sys, threading
import bot.__main__ as cli

TOKEN = {token!r}
code = cli.main(sys.argv[1:])  # installs the hooks, as every `python -m bot` run does
print("main returned", code, flush=True)

def worker():
    raise RuntimeError(f"thread failed for Bot {{TOKEN}}")

thread = threading.Thread(target=worker, name="fit-worker")
thread.start()
thread.join()
raise ValueError(f"after main: {{TOKEN}}")  # uncaught in the main thread
"""


def test_uncaught_exceptions_in_threads_and_main_are_redacted(tmp_path):
    config = _config(tmp_path, tmp_path / "bot.sqlite3", token=TOKEN)
    script = tmp_path / "crashy.py"
    script.write_text(CRASHY.format(token=TOKEN), encoding="utf-8")
    result = subprocess.run([sys.executable, str(script), "--config", str(config), "purge"],
                            cwd=REPO, env=subprocess_env(), capture_output=True, text=True,
                            timeout=timeouts.scaled(60), check=False)
    output = result.stdout + result.stderr
    assert "main returned" in output
    assert "uncaught exception in thread fit-worker" in output
    assert "thread failed for Bot [token]" in output
    assert "uncaught exception in the main thread" in output
    assert "after main: [token]" in output
    assert TOKEN not in output and TOKEN.split(".")[-1] not in output
    assert result.returncode == 1
