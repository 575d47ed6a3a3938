"""`python -m bot stats`: a one-screen summary of the database, for the person running the bot.

Reads only (the database must exist): the catalog, guilds, members and ratings, recent
activity, saved models, the taste prior, guilds waiting for the purge, the busiest guilds, the
file's size and whether a bot is running on it (its health status file).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.about import describe_database, is_url, version
from bot.domain.plural import plural
from bot.domain.servers import server_name
from bot.health import status_path
from bot.storage import Storage
from bot.storage.models import DatabaseSummary


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


def _size(path: Path) -> str:
    total = float(sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists()))
    for unit in ("B", "KB", "MB", "GB"):
        if total < 1024 or unit == "GB":
            return f"{total:.0f} {unit}" if unit == "B" else f"{total:.1f} {unit}"
        total /= 1024
    return f"{total} B"


def _running(database: Path, now: float) -> str:
    """The single bot's status, or a sharded bot's clusters' (one status file each)."""
    import glob

    single = status_path(database)
    clusters = sorted(database.parent.glob(
        glob.escape(database.name) + ".cluster-*.status.json"))
    if single.exists() or not clusters:
        return _status(single, now)
    up = sum(_status(path, now).startswith("running, connected") for path in clusters)
    return f"{up} of {plural(len(clusters), 'cluster')} running and connected"


def _status(path: Path, now: float) -> str:
    try:
        status = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "not running (no status file)"
    age = now - float(status.get("updated_at") or 0)
    if age > 90:
        return f"not running (status last updated {age:.0f} s ago)"
    state = ("connected" if status.get("heartbeat_at") else
             f"cannot reach Discord yet (attempt {status['login_attempt']})"
             if status.get("login_attempt") else "not connected to Discord yet")
    up = now - float(status.get("started_at") or now)
    return f"running, {state} (pid {status.get('pid')}, up {up / 3600:.1f} h)"


def render(summary: DatabaseSummary, database: Path | str, *,
           now: float | None = None) -> str:
    """The summary as text, at most ~20 lines. `database` is the SQLite path or a server URL
    (shown without credentials; the bot's status file is then not looked for)."""
    now = time.time() if now is None else now
    server = is_url(database)
    size = "database server" if server else _size(Path(database))
    running = "see `python -m bot health`" if server else _running(Path(database), now)
    lines = [
        f"moviebot {version()} — {describe_database(database)} ({size}, "
        f"schema {summary.schema_version})",
        f"Bot:      {running}",
        f"Movies:   {summary.catalog_movies} in the catalog, {summary.guild_movies} added by "
        "servers",
        f"Servers:  {summary.guilds} with data ({summary.guilds_left} left, waiting for the "
        "purge)",
        f"Members:  {summary.members} who rated something",
        f"Ratings:  {summary.ratings} ({summary.ratings_last_week} in the last 7 days; last "
        f"{_when(summary.last_rating_at)})",
        f"Models:   {summary.saved_models} saved",
        f"Prior:    {'installed' if summary.prior_installed else 'none'}",
    ]
    if summary.busiest:
        lines.append("Busiest servers:")
        for guild in summary.busiest:
            name = (f"{server_name(guild.name)} ({guild.guild_id})" if guild.name
                    else str(guild.guild_id))
            lines.append(f"  {name}: {plural(guild.ratings, 'rating')} by "
                         f"{plural(guild.members, 'member')}, last "
                         f"{_when(guild.last_rating_at)}")
    return "\n".join(lines)


async def stats_text(database: Path | str) -> str:
    """The summary of the SQLite file or the PostgreSQL database (a URL) `database`."""
    from bot.storage import PostgresStorage, is_postgres_url

    if is_postgres_url(str(database)):
        async with await PostgresStorage.open(str(database)) as pg:
            summary = await pg.summary()
    else:
        async with await Storage.open(database) as storage:
            summary = await storage.summary()
    return render(summary, Path(database))
