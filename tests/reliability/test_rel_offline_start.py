"""Offline start (issue 21, item 3): `run` creates and migrates the database, loads the starter
catalog, serves metrics and keeps the health status file before it ever reaches Discord.

The real `main(["run", ...])` runs in a subprocess (start_helper.py, mode `offline`: nothing
listens where Discord should be, the bot's own backoff between attempts). While it keeps
retrying: the database exists with the latest schema and the starter catalog, `python -m bot
health` says `starting: cannot reach Discord (attempt N, next in S s)` with exit code 3,
`python -m bot stats` works and the metrics page answers. SIGTERM then stops it and the
process is gone.
"""

from __future__ import annotations

import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import timeouts
from processes import live_processes, running
from rel_support import REPO, subprocess_env

from bot.health import STARTING, status_path
from bot.storage.sqlite.migrations import LATEST_VERSION

pytestmark = pytest.mark.slow
HELPER = Path(__file__).resolve().parent / "start_helper.py"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=REPO, env=subprocess_env(),
                          capture_output=True, text=True, timeout=timeouts.scaled(120), check=False)


def _schema(database: Path) -> tuple[int, int]:
    """(schema version, movies in the catalog), read-only."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        movies = conn.execute("SELECT count(*) FROM movies").fetchone()[0] if version else 0
    finally:
        conn.close()
    return version, movies


def _wait_for(what: str, probe, deadline: float):
    """Poll `probe()` until it returns something truthy (its value) or `deadline` passes."""
    while True:
        value = probe()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_run_creates_the_database_serves_metrics_and_reports_starting_before_discord(
        tmp_path, timeout_factor):
    port = _free_port()
    config = tmp_path / "moviebot.toml"
    config.write_text('[discord]\ntoken = "test-token"\n[storage]\ndatabase = "db/bot.sqlite3"\n'
                      f'[metrics]\nenabled = true\nport = {port}\n', encoding="utf-8")
    config.chmod(0o600)
    database = tmp_path / "db" / "bot.sqlite3"
    with running([sys.executable, str(HELPER), "offline", str(config)], env=subprocess_env(),
                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) as proc:
        deadline = time.monotonic() + 60 * timeout_factor

        def starting() -> subprocess.CompletedProcess[str] | None:
            assert proc.poll() is None, proc.communicate()[1]
            if not status_path(database).exists():
                return None
            result = _cli("health", "--config", str(config))
            return result if "cannot reach Discord" in result.stdout else None

        health = _wait_for("health to report the failed login", starting, deadline)
        assert health.returncode == STARTING == 3, health
        line = health.stdout.strip()
        assert line.startswith("starting: cannot reach Discord (attempt "), line
        assert "next in " in line and " s)" in line and "cannot connect to 127.0.0.1" in line

        assert _schema(database)[0] == LATEST_VERSION  # created and migrated
        assert _schema(database)[1] >= 400  # the starter catalog is in

        stats = _cli("stats", "--config", str(config))
        assert stats.returncode == 0, stats.stderr
        assert "Bot:      running, cannot reach Discord yet (attempt " in stats.stdout
        assert "Movies:   " in stats.stdout

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as page:
            assert page.status == 200
            assert "moviebot_info{" in page.read().decode()

        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30 * timeout_factor)
        assert proc.returncode == 0, err
        assert "stopped cleanly" in err and "Traceback" not in err
    assert not live_processes(pgid=proc.pid)  # the bot and its children are gone
    assert not status_path(database).exists()
    after = _cli("health", "--config", str(config))
    assert after.returncode == 1 and "no status file" in after.stderr
