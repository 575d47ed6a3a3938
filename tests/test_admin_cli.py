"""The command line as an admin uses it (issue 14, rows 1, 3-6, 10, 11 and `stats`), in
subprocesses from a scratch folder: --version, --config after the subcommand, help that says
what each command does, one default database, commands that read data refusing a missing
database, the starter catalog loading whatever the order, import errors reported line by line,
`stats` and `health`."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import timeouts

from bot.__main__ import build_parser, logger_levels
from bot.about import version
from bot.config import DEFAULT_DATABASE, default_settings, load_settings
from bot.health import status_path, write_status
from bot.storage import Storage

REPO = Path(__file__).resolve().parents[1]
MY_CSV = 'title,year,genres\nMy Home Movie,2019,comedy\n"Unclosed,2001,Drama\nOther Film,2020,\n'


def cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items()
               if k not in ("DISCORD_TOKEN", "MOVIEBOT_CONFIG", "MOVIEBOT_DATABASE")}
    environ["PYTHONPATH"] = str(REPO)
    environ.update(env)
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, env=environ,
                          capture_output=True, text=True, timeout=timeouts.scaled(120))


def config_file(folder: Path, database: str = "db/movies.sqlite3", extra: str = "") -> Path:
    path = folder / "bot.toml"
    path.write_text(f'[storage]\ndatabase = "{database}"\n{extra}', encoding="utf-8")
    path.chmod(0o600)
    return path


async def catalog_after_first_start(database: Path) -> tuple[int, bool]:
    """What the bot's first start leaves: (catalog size, has the imported film)."""
    from bot.config import Settings
    from bot.service.app import Services

    services = await Services.open(Settings(database=database))
    try:
        storage = services.storage
        return (await storage.catalog_count(),
                await storage.resolve_movie(1, "My Home Movie (2019)") is not None)
    finally:
        await services.close(1)


def test_version_comes_from_the_package_metadata(tmp_path):
    result = cli("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"moviebot {version()}" != "moviebot unknown"


def test_every_subcommand_says_what_it_does_and_takes_config_after_it(tmp_path):
    parser = build_parser()
    seen = []

    def walk(p, path):
        for action in p._actions:
            if hasattr(action, "choices") and isinstance(action.choices, dict):
                for name, sub in action.choices.items():
                    seen.append(" ".join([*path, name]))
                    assert sub.description and len(sub.description) > 15, name
                    assert any("--config" in a.option_strings for a in sub._actions), name
                    walk(sub, [*path, name])

    walk(parser, [])
    assert {"run", "sync", "backup", "purge", "stats", "health", "console", "catalog import",
            "catalog download", "prior build", "prior status"} <= set(seen)
    result = cli("purge", "--help", cwd=tmp_path)
    assert "Delete the data of servers the bot has left" in result.stdout
    assert "--config" in result.stdout


def test_commands_that_read_data_refuse_a_missing_database(tmp_path):
    config = config_file(tmp_path)
    for args in (["backup", "copy.sqlite3"], ["purge", "--now"], ["stats"],
                 ["prior", "status"], ["prior", "remove"],
                 ["backup", "--config", str(config), "copy.sqlite3"]):
        result = cli(*args, cwd=tmp_path)
        assert result.returncode == 1, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("No database at "), (args, lines)
        assert "only `python -m bot run` (or `console`) creates a new one" in lines[0]
    assert not (tmp_path / "data").exists() and not (tmp_path / "db").exists()
    assert not (tmp_path / "copy.sqlite3").exists()


def test_one_default_database_the_example_config_s(tmp_path, monkeypatch):
    example = tmp_path / "config.toml"
    example.write_text((REPO / "config.example.toml").read_text(encoding="utf-8"))
    monkeypatch.chdir(tmp_path)
    assert load_settings(example).database == tmp_path / DEFAULT_DATABASE
    assert default_settings().database.resolve() == tmp_path / DEFAULT_DATABASE
    # A database at the old built-in default is kept (with a note), never silently replaced.
    (tmp_path / "moviebot.sqlite3").write_bytes(b"")
    legacy = default_settings()
    assert legacy.database.name == "moviebot.sqlite3"
    assert "old default database path" in legacy.notes[0]


def test_per_logger_levels_quiet_libraries_by_default():
    settings = load_settings_text('[logging]\nlevel = "DEBUG"\n'
                                  '[logging.levels]\n"bot.catalog" = "error"\n')
    levels = logger_levels(settings)
    assert levels["aiosqlite"] == levels["discord.http"] == 30  # WARNING even at DEBUG
    assert levels["bot.catalog"] == 40
    loud = logger_levels(load_settings_text('[logging.levels]\naiosqlite = "DEBUG"\n'))
    assert loud["aiosqlite"] == 10  # asked for explicitly
    quiet = logger_levels(load_settings_text('[logging]\nlevel = "ERROR"\n'))
    assert quiet["discord"] == 40  # never louder than the root level


def load_settings_text(text: str):
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.toml"
        path.write_text(text, encoding="utf-8")
        return load_settings(path)


def test_import_before_first_start_then_start_gives_starter_and_imported(tmp_path):
    config = config_file(tmp_path)
    csv = tmp_path / "my.csv"
    csv.write_text(MY_CSV, encoding="utf-8")
    result = cli("catalog", "import", str(csv), "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Imported 2 movies (0 already present, 1 bad row) from {csv}"
    # The unclosed quote is reported on its line and swallowed nothing after it.
    assert "line 3: unclosed quote" in result.stderr
    # The progress bar counts the 3 data rows, not the header.
    assert "Importing my.csv (csv) [" in result.stderr and "3/3 rows" in result.stderr
    database = tmp_path / "db" / "movies.sqlite3"
    size, has_mine = asyncio.run(catalog_after_first_start(database))
    assert has_mine and size > 400  # the starter catalog loaded on the first start after all
    assert asyncio.run(catalog_after_first_start(database)) == (size, True)  # once only


def test_start_first_then_import_gives_both_too(tmp_path):
    database = tmp_path / "db" / "movies.sqlite3"
    size, _ = asyncio.run(catalog_after_first_start(database))
    csv = tmp_path / "my.csv"
    csv.write_text(MY_CSV, encoding="utf-8")
    result = cli("--config", str(config_file(tmp_path)), "catalog", "import", str(csv),
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert asyncio.run(catalog_after_first_start(database)) == (size + 2, True)


async def _seed(database: Path) -> None:
    storage = await Storage.open(database)
    try:
        heat = await storage.add_movie("Heat", 1995, ("Crime",))
        mine = await storage.add_movie("Club Film", 2020, (), guild_id=7)
        for user in range(3):
            await storage.upsert_rating(5, user, heat.id, 8)
        await storage.upsert_rating(7, 1, mine.id, 6)
        await storage.mark_guild_left(7)
    finally:
        await storage.close()


def test_stats_prints_a_one_screen_summary(tmp_path):
    config = config_file(tmp_path)
    database = tmp_path / "db" / "movies.sqlite3"
    asyncio.run(_seed(database))
    result = cli("stats", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert len(out.splitlines()) <= 24
    assert f"moviebot {version()} — {database.resolve()}" in out
    assert "Bot:      not running (no status file)" in out
    assert "Movies:   1 in the catalog, 1 added by servers" in out
    assert "Servers:  2 with data (1 left, waiting for the purge)" in out
    assert "Members:  4 who rated something" in out
    assert "Ratings:  4 (4 in the last 7 days; last 20" in out
    assert "  5: 3 ratings by 3 members" in out


def test_health_checks_the_database_and_the_heartbeat(tmp_path):
    config = config_file(tmp_path)
    database = tmp_path / "db" / "movies.sqlite3"
    result = cli("health", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1 and "unhealthy: no database at" in result.stderr
    asyncio.run(_seed(database))
    result = cli("health", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1 and "no status file" in result.stderr
    now = time.time()
    status = {"pid": 1, "started_at": now - 60, "updated_at": now, "heartbeat_at": now - 5}
    write_status(status_path(database), status)
    result = cli("health", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("healthy: gateway heartbeat")
    write_status(status_path(database), {**status, "heartbeat_at": now - 600})
    result = cli("health", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1 and "no gateway heartbeat for" in result.stderr
    write_status(status_path(database), {**status, "heartbeat_at": None,
                                         "started_at": now - 600})
    result = cli("health", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1 and "not connected to Discord yet" in result.stderr
    assert json.loads(status_path(database).read_text())["pid"] == 1
    # Started, database ready, Discord not reached yet: "starting", exit code 3.
    write_status(status_path(database), {**status, "heartbeat_at": None})
    result = cli("health", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 3 and result.stdout.strip() == "starting: connecting to Discord"
    write_status(status_path(database), {
        **status, "heartbeat_at": None, "started_at": now - 3600, "login_attempt": 7,
        "login_retry_at": now + 41.6, "login_error": "cannot connect to discord.com:443"})
    result = cli("health", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    line = re.fullmatch(r"starting: cannot reach Discord \(attempt 7, next in (\d+) s\): "
                        r"cannot connect to discord\.com:443", result.stdout.strip())
    assert line is not None and 0 <= int(line[1]) <= 42, result.stdout


@pytest.mark.parametrize("flag", ["--config", "--version"])
def test_help_mentions_global_options(tmp_path, flag):
    assert flag in cli("--help", cwd=tmp_path).stdout


def test_with_a_database_server_health_checks_the_heartbeat_only(tmp_path):
    from bot.about import startup_line
    from bot.config import Settings
    from bot.dbcheck import require_database
    from bot.health import check

    settings = Settings(database=tmp_path / "none.sqlite3")
    object.__setattr__(settings, "database_url", "postgresql://bot:pw@db.example:5432/movies")
    assert require_database(settings) == tmp_path / "none.sqlite3"  # left to the connection
    line = startup_line(settings)
    assert "database postgresql://db.example:5432/movies;" in line and "pw" not in line
    now = time.time()
    write_status(status_path(tmp_path / "none.sqlite3"),
                 {"updated_at": now, "heartbeat_at": now - 1})
    assert check(tmp_path / "none.sqlite3", server=True).ok
    assert not check(tmp_path / "none.sqlite3").ok  # as SQLite: no such file


async def test_stopping_mid_write_leaves_no_status_file(tmp_path, monkeypatch):
    """The heartbeat writes in a thread; a stop while a write is in flight must not let that
    thread recreate the file after it was removed (a stale file would say 'running')."""
    import threading

    from bot import health

    path = tmp_path / "bot.sqlite3.status.json"
    started = threading.Event()

    def slow_write(target, data):
        started.set()
        time.sleep(0.3)
        write_status(target, data)

    class Stopped:
        def is_ready(self):
            return False

    monkeypatch.setattr(health, "write_status", slow_write)
    task = asyncio.create_task(health.keep_status(Stopped(), path, every=0.01))
    assert await asyncio.to_thread(started.wait, 5)  # the write is in flight
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.4)  # longer than any write still running
    assert not path.exists()
