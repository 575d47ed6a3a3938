"""The command line in subprocesses: `purge --now` / `--guild ID` against a temporary database
and config file; the token never appears in output and a world-readable config is warned about."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import timeouts
from rel_support import REPO, run_cli, subprocess_env

from bot.storage import Storage

pytestmark = pytest.mark.slow
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.secret-token-value_0123456789abcdef"


def _config(tmp_path: Path, database: Path, *, token: str | None = None, mode=0o600,
            grace: int = 30) -> Path:
    path = tmp_path / "config.toml"
    text = f'[storage]\ndatabase = "{database.as_posix()}"\n[privacy]\npurge_grace_days = {grace}\n'
    if token:
        text = f'[discord]\ntoken = "{token}"\n' + text
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


async def _seed(db: Path) -> None:
    storage = await Storage.open(db)
    try:
        now = time.time()
        for guild, left_days_ago in ((101, 40), (102, 5), (103, None), (104, None)):
            movie = await storage.add_movie(f"Film of {guild}", 2000, (), guild_id=guild)
            for user in range(3):
                await storage.upsert_rating(guild, user, movie.id, 5)
            await storage.update_guild_settings(guild, ratings_visible=False)
            if left_days_ago is not None:
                await storage.mark_guild_left(guild, now - left_days_ago * 86400)
    finally:
        await storage.close()


def _guild_rows(db: Path) -> dict[int, int]:
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute("SELECT guild_id, COUNT(*) FROM ratings GROUP BY guild_id"))
    finally:
        conn.close()


def test_purge_cli(tmp_path):
    db = tmp_path / "bot.sqlite3"
    asyncio.run(_seed(db))
    config = str(_config(tmp_path, db))

    # Default grace (30 days): only the guild left 40 days ago goes.
    result = run_cli("--config", config, "purge")
    assert result.returncode == 0, result.stderr
    assert "Purged 1 departed guild: 101" in result.stdout
    assert _guild_rows(db) == {102: 3, 103: 3, 104: 3}

    # --now ignores the grace period for guilds the bot has left (102), not others.
    result = run_cli("--config", config, "purge", "--now")
    assert result.returncode == 0, result.stderr
    assert "Purged 1 departed guild: 102" in result.stdout
    assert _guild_rows(db) == {103: 3, 104: 3}

    # --guild ID purges that guild at once, whatever its state.
    result = run_cli("--config", config, "purge", "--guild", "103")
    assert result.returncode == 0, result.stderr
    assert "Purged guild 103:" in result.stdout
    assert _guild_rows(db) == {104: 3}
    conn = sqlite3.connect(db)
    try:
        left = {r[0] for r in conn.execute(
            "SELECT guild_id FROM movies WHERE guild_id IS NOT NULL")}
        settings = {r[0] for r in conn.execute("SELECT guild_id FROM guild_settings")}
    finally:
        conn.close()
    assert left == {104} and settings == {104}

    result = run_cli("--config", config, "purge", "--now")  # nothing left to do
    assert result.returncode == 0 and "Purged 0 departed guilds" in result.stdout


LEAKY = """
import logging, sys
import discord
import bot.__main__ as cli

TOKEN = {token!r}

async def leaky_login(self, token):
    # What discord.py may log: a request URL with the token in it, an error message carrying
    # it (with a traceback), and finally an unexpected exception mentioning it.
    http = logging.getLogger("discord.http")
    http.warning("POST https://discord.com/api/v10/webhooks/1/%s responded 401", token)
    logging.getLogger("discord").info("token in the message itself: " + token)
    try:
        raise RuntimeError(f"request failed for Bot {{token}}")
    except RuntimeError:
        logging.getLogger("discord.client").exception("Attempting a login failed")
    raise ValueError(f"unexpected: {{token}}")

discord.Client.login = leaky_login
sys.exit(cli.main(sys.argv[1:]))
"""


def test_token_never_logged_and_world_readable_config_warned(tmp_path):
    db = tmp_path / "bot.sqlite3"
    config = _config(tmp_path, db, token=TOKEN, mode=0o644)
    script = tmp_path / "leaky.py"
    script.write_text(LEAKY.format(token=TOKEN), encoding="utf-8")
    result = subprocess.run([sys.executable, str(script), "--config", str(config), "run"],
                            cwd=REPO, env=subprocess_env(), capture_output=True, text=True,
                            timeout=timeouts.scaled(60), check=False)
    output = result.stdout + result.stderr
    assert f"{config} is readable by every user on this machine" in output
    assert f"chmod 600 {config}" in output
    # Every leak attempt was logged (redacted), and the failure ended the run.
    assert "webhooks/1/[token] responded 401" in output
    assert "token in the message itself: [token]" in output
    assert "request failed for Bot [token]" in output  # inside the logged traceback
    assert "unexpected: [token]" in output  # the last-resort handler's traceback
    assert result.returncode == 1
    assert TOKEN not in output
    assert TOKEN.split(".")[-1] not in output

    # The same token from the environment, and a private config: no warning, no token.
    private = _config(tmp_path, db, mode=0o600)
    result = subprocess.run([sys.executable, str(script), "--config", str(private), "run"],
                            cwd=REPO, env=subprocess_env(DISCORD_TOKEN=TOKEN),
                            capture_output=True, text=True, timeout=timeouts.scaled(60),
                            check=False)
    output = result.stdout + result.stderr
    assert "readable by every user" not in output
    assert "[token]" in output and TOKEN not in output
