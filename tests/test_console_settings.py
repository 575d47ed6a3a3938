"""The console on a bot configured for PostgreSQL (issue 21, item 9): with
MOVIEBOT_DATABASE_URL set, the demo server was empty (the demo ratings went to the console's
SQLite file while the bot read PostgreSQL), and the demo data landed in the admin's real
database. The console now always runs on its own demo database, and says so; a configured
cluster, queue or metrics endpoint is not used either."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = "/recommend count:3\n"


def _console(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items()
               if k not in ("MOVIEBOT_CONFIG", "MOVIEBOT_DATABASE", "MOVIEBOT_DATABASE_URL",
                            "MOVIEBOT_REDIS_URL")}
    environ.update(PYTHONPATH=str(REPO), **env)
    return subprocess.run([sys.executable, "-m", "bot", "console"], input=SCRIPT,
                          capture_output=True, text=True, cwd=tmp_path, env=environ,
                          timeout=180)


async def _tables_with_rows(url: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        names = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        total = 0
        for row in names:
            total += await conn.fetchval(f'SELECT count(*) FROM "{row["tablename"]}"')
        return total
    finally:
        await conn.close()


def _picks(output: str) -> list[str]:
    return re.findall(r"^\| \d+\. \*\*(.+?)\*\*", output, re.M)


def test_the_console_on_a_postgresql_config_shows_the_demo_server(tmp_path, request):
    if not os.environ.get("MOVIEBOT_TEST_POSTGRES_URL"):
        pytest.skip("MOVIEBOT_TEST_POSTGRES_URL is not set")
    url = request.getfixturevalue("postgres_database")
    config = tmp_path / "bot.toml"
    config.write_text('[metrics]\nenabled = true\nport = 1\n[training]\nmode = "queue"\n',
                      encoding="utf-8")
    config.chmod(0o600)
    result = _console(tmp_path, MOVIEBOT_DATABASE_URL=url, MOVIEBOT_CONFIG=str(config),
                      MOVIEBOT_REDIS_URL="redis://127.0.0.1:1/0")
    assert result.returncode == 0, result.stderr
    assert "Popular in this server" in result.stdout, result.stdout
    assert len(_picks(result.stdout)) == 3, result.stdout
    assert "the console uses its own demo database" in result.stdout
    assert asyncio.run(_tables_with_rows(url)) == 0  # nothing written to the real database


def test_the_console_without_a_config_says_nothing_about_it(tmp_path):
    result = _console(tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(_picks(result.stdout)) == 3, result.stdout
    assert "own demo database" not in result.stdout
