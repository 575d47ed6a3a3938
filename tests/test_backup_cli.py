"""`python -m bot backup PATH` into a folder (issue 21, item 8).

`backup backups/` into a folder that did not exist wrote a file named `backups` and reported
success; the README's own dated backup command then failed with "Not a directory". A trailing
slash or an existing folder now means "a new file inside" (the folder created if missing); any
other PATH is the backup file itself.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import timeouts

from bot.backups import backup_destination
from bot.storage import Storage

REPO = Path(__file__).resolve().parents[1]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items()
               if k not in ("DISCORD_TOKEN", "MOVIEBOT_CONFIG", "MOVIEBOT_DATABASE")}
    environ["PYTHONPATH"] = str(REPO)
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, env=environ,
                          capture_output=True, text=True, timeout=timeouts.scaled(120))


async def make_database(path: Path) -> None:
    storage = await Storage.open(path)
    try:
        movie = await storage.add_movie("Backed Up Film", 2001, guild_id=7)
        await storage.upsert_rating(7, 42, movie.id, 9)
    finally:
        await storage.close()


def setup(tmp_path: Path) -> Path:
    asyncio.run(make_database(tmp_path / "bot.sqlite3"))
    config = tmp_path / "bot.toml"
    config.write_text('[storage]\ndatabase = "bot.sqlite3"\n', encoding="utf-8")
    config.chmod(0o600)
    return config


def ratings_in(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT COUNT(*) FROM ratings").fetchone()[0]
    finally:
        conn.close()


@pytest.mark.slow
def test_a_trailing_slash_makes_the_folder_and_a_new_file_inside(tmp_path):
    config = setup(tmp_path)
    result = cli("--config", str(config), "backup", "backups/", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "backups"
    assert folder.is_dir()
    [copy] = folder.iterdir()
    assert copy.name.startswith("moviebot-") and copy.suffix == ".sqlite3"
    assert ratings_in(copy) == 1
    assert result.stdout.strip().endswith(f"to {Path('backups') / copy.name}")

    # The README's dated command into the same folder now works too.
    dated = cli("--config", str(config), "backup", "backups/moviebot-2026-12-07.sqlite3",
                cwd=tmp_path)
    assert dated.returncode == 0, dated.stderr
    assert ratings_in(folder / "moviebot-2026-12-07.sqlite3") == 1


@pytest.mark.slow
def test_an_existing_folder_gets_new_files_and_keeps_the_old_ones(tmp_path):
    config = setup(tmp_path)
    folder = tmp_path / "existing"
    folder.mkdir()
    for _ in range(2):
        result = cli("--config", str(config), "backup", "existing", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    copies = sorted(folder.iterdir())
    assert len(copies) == 2
    assert all(ratings_in(copy) == 1 for copy in copies)


def test_a_path_without_a_slash_is_the_file(tmp_path):
    config = setup(tmp_path)
    result = cli("--config", str(config), "backup", "copy.sqlite3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert ratings_in(tmp_path / "copy.sqlite3") == 1


def test_the_destination_rule(tmp_path):
    noon = datetime(2026, 12, 7, 12, 0, 5, tzinfo=UTC)
    assert backup_destination(str(tmp_path / "x.sqlite3"), noon) == tmp_path / "x.sqlite3"
    assert backup_destination(f"{tmp_path}/new/", noon) == (
        tmp_path / "new" / "moviebot-2026-12-07-120005.sqlite3")
    (tmp_path / "moviebot-2026-12-07-120005.sqlite3").touch()
    assert backup_destination(str(tmp_path), noon) == (
        tmp_path / "moviebot-2026-12-07-120005-2.sqlite3")
