"""Helpers shared by the reliability tests (subprocesses, integrity checks, row counts)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import timeouts

REPO = Path(__file__).resolve().parents[2]
HELPERS = Path(__file__).resolve().parent / "helpers"


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for `python -m bot ...` subprocesses: repo on the path, no token or
    database from the caller's environment."""
    environ = {k: v for k, v in os.environ.items()
               if k not in ("DISCORD_TOKEN", "MOVIEBOT_DATABASE", "MOVIEBOT_CONFIG")}
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO),
                                                          environ.get("PYTHONPATH")]))
    environ["PYTHONUNBUFFERED"] = "1"
    environ.update(extra)
    return environ


def run_cli(*args: str, timeout: float = 60, **extra_env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=REPO,
                          env=subprocess_env(**extra_env), capture_output=True, text=True,
                          timeout=timeouts.scaled(timeout), check=False)


def integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def table_counts(conn: sqlite3.Connection) -> dict[str, int]:
    tables = ("movies", "ratings", "guild_settings", "model_state")
    return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}
