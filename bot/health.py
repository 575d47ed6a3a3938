"""Health: a small status file the running bot keeps fresh, and `python -m bot health`.

The running bot rewrites `<database>.status.json` every `HEARTBEAT_EVERY` seconds (atomically:
a temporary file renamed over it) with its pid, version and whether its gateway connection is
up, plus `heartbeat_at` — the last time it saw the gateway connected with a heartbeat
acknowledged (a finite latency) — and, while Discord cannot be reached, the failed login attempt
and when the next one is due (rewritten at once when that changes). The bot writes it from the
moment its database is ready, before it first tries Discord.

`python -m bot health` (Docker's HEALTHCHECK, a monitoring script) reads only files — no
network, no Discord token — and prints one line:

* `healthy: ...`, exit 0 (`HEALTHY`): the database opens read-only with a schema this bot knows
  and the gateway heartbeat is younger than `MAX_HEARTBEAT_AGE`;
* `starting: ...`, exit 3 (`STARTING`): the bot runs and its database is ready, but it has not
  reached Discord yet: `starting: cannot reach Discord (attempt N, next in S s)` while logins
  fail, `starting: connecting to Discord` in its first `MAX_HEARTBEAT_AGE` seconds;
* `unhealthy: ...`, exit 1 (`UNHEALTHY`): anything else (no database, no status file, a stale
  one, a heartbeat that stopped).

Each cluster process of a sharded bot (`bot.cluster`) keeps its own file,
`<database>.cluster-<K>.status.json`, so clusters sharing a host (and a database path) never
overwrite each other's status. `health --cluster K` checks one; a cluster's container (with
`MOVIEBOT_CLUSTER_ID`) checks its own; otherwise `health` reports every cluster of
`[sharding] clusters`, one line each, healthy only when all are.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import math
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

HEARTBEAT_EVERY = 15.0  # seconds between two writes of the status file
MAX_HEARTBEAT_AGE = 90.0  # older than this: unhealthy (Discord heartbeats every ~41 s)

# `python -m bot health` exit codes (2 is the entry point's configuration error).
HEALTHY, UNHEALTHY, STARTING = 0, 1, 3


@dataclass(frozen=True)
class LoginRetry:
    """A failed attempt to reach Discord: its number, when the next one starts (epoch
    seconds), and why (one line, no credentials)."""

    attempt: int
    retry_at: float
    error: str


def status_path(database: Path, cluster_id: int | None = None) -> Path:
    """The status file next to the database (the data volume is writable, /app is not): one
    per cluster process when `cluster_id` is given."""
    kind = "" if cluster_id is None else f".cluster-{cluster_id}"
    return database.with_name(f"{database.name}{kind}.status.json")


def cluster_of(settings: Any) -> int | None:
    """The cluster id whose status file a bot with these settings keeps (None: not sharded,
    the one file of a single process)."""
    sharding = settings.sharding
    return int(sharding.cluster_id) if sharding.shard_count else None


def write_status(path: Path, data: dict[str, Any]) -> None:
    """Replace the status file atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


def bot_status(bot: Any, started_at: float, heartbeat_at: float | None) -> dict[str, Any]:
    from bot.about import version

    status: dict[str, Any] = {
        "pid": os.getpid(), "version": version(), "started_at": started_at,
        "updated_at": time.time(), "connected": heartbeat_at is not None,
        "heartbeat_at": heartbeat_at}
    retry = getattr(bot, "login_retry", None)
    if isinstance(retry, LoginRetry):
        status["login_attempt"] = retry.attempt
        status["login_retry_at"] = retry.retry_at
        status["login_error"] = retry.error
    return status


def gateway_alive(bot: Any) -> bool:
    """Connected with a heartbeat acknowledged (discord.py's latency is finite only then)."""
    try:
        return bool(bot.is_ready() and not bot.is_closed() and math.isfinite(bot.latency))
    except Exception:
        return False


async def _wait(bot: Any, seconds: float) -> None:
    """Sleep `seconds`, or less when the bot signals a change (its `status_changed` event)."""
    changed = getattr(bot, "status_changed", None)
    if not isinstance(changed, asyncio.Event):
        await asyncio.sleep(seconds)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(changed.wait(), seconds)
    changed.clear()


async def keep_status(bot: Any, path: Path, every: float | None = None) -> None:
    """Rewrite the status file until cancelled; removes it when the bot stops."""
    every = HEARTBEAT_EVERY if every is None else every
    started = time.time()
    heartbeat_at: float | None = None
    writing: asyncio.Future[None] | None = None
    try:
        while True:
            if gateway_alive(bot):
                heartbeat_at = time.time()
            writing = asyncio.ensure_future(asyncio.to_thread(
                write_status, path, bot_status(bot, started, heartbeat_at)))
            try:
                await asyncio.shield(writing)
            except OSError as error:
                log.warning("cannot write the health status file %s: %s", path,
                            error.strerror or error)
            writing = None
            await _wait(bot, every)
    finally:
        if writing is not None:  # stopped mid-write: the thread would recreate the file
            with contextlib.suppress(Exception):
                await writing
        with contextlib.suppress(OSError):
            path.unlink()  # noqa: ASYNC240 - once, at shutdown, a tiny local file


@dataclass(frozen=True)
class Health:
    ok: bool
    message: str
    starting: bool = False  # running with its database ready, Discord not reached yet

    @property
    def exit_code(self) -> int:
        return HEALTHY if self.ok else STARTING if self.starting else UNHEALTHY


def check_database(database: Path) -> str | None:
    """Why the database is unusable, or None when it opens and its schema is known."""
    from bot.about import is_url
    from bot.storage import LATEST_VERSION

    if is_url(database):
        return None  # a database server: the bot's own heartbeat says whether it reaches it
    if not database.is_file():
        return f"no database at {database}"
    try:
        conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as error:
        return f"database {database} cannot be read: {error}"
    if version > LATEST_VERSION:
        return (f"database {database} has schema version {version}, newer than this bot's "
                f"{LATEST_VERSION}")
    return None


def check(database: Path, *, now: float | None = None, max_age: float = MAX_HEARTBEAT_AGE,
          server: bool = False, cluster_id: int | None = None) -> Health:
    """The database and the running bot's gateway heartbeat, as one verdict. With a database
    server (`server`, PostgreSQL) only the heartbeat is checked: the status file still lives
    where the SQLite path points, and the running bot reaching its server is what counts.
    `cluster_id`: the heartbeat of that cluster process (its own status file)."""
    verdict = _check(database, now=now, max_age=max_age, server=server, cluster_id=cluster_id)
    if cluster_id is None:
        return verdict
    return dataclasses.replace(verdict, message=f"cluster {cluster_id} {verdict.message}")


def _check(database: Path, *, now: float | None, max_age: float, server: bool,
           cluster_id: int | None) -> Health:
    problem = None if server else check_database(database)
    if problem is not None:
        return Health(False, f"unhealthy: {problem}")
    path = status_path(database, cluster_id)
    try:
        status = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Health(False, f"unhealthy: no status file {path} (is the bot running?)")
    except (OSError, ValueError) as error:
        return Health(False, f"unhealthy: cannot read {path}: {error}")
    now = time.time() if now is None else now
    updated = float(status.get("updated_at") or 0)
    if now - updated > max_age:
        return Health(False, f"unhealthy: the bot last updated {path.name} {now - updated:.0f} s "
                             "ago (stopped or stuck)")
    heartbeat = status.get("heartbeat_at")
    if heartbeat is None:
        return _not_connected_yet(status, now, max_age)
    age = now - float(heartbeat)
    if age > max_age:
        return Health(False, f"unhealthy: no gateway heartbeat for {age:.0f} s (Discord "
                             "unreachable? see the bot's log)")
    return Health(True, f"healthy: gateway heartbeat {age:.0f} s ago, database {database}")


def _not_connected_yet(status: dict[str, Any], now: float, max_age: float) -> Health:
    """A fresh status file, never a heartbeat: starting (still trying, or in its first
    `max_age` seconds) or unhealthy (connected to nothing long after its start)."""
    attempt = status.get("login_attempt")
    if attempt:
        wait = max(0.0, float(status.get("login_retry_at") or now) - now)
        error = status.get("login_error")
        return Health(False, f"starting: cannot reach Discord (attempt {int(attempt)}, next in "
                             f"{wait:.0f} s)" + (f": {error}" if error else ""), starting=True)
    started = status.get("started_at")
    if started is not None and now - float(started) <= max_age:
        return Health(False, "starting: connecting to Discord", starting=True)
    return Health(False, "unhealthy: not connected to Discord yet (see the bot's log)")
