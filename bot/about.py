"""What is running: the version (package metadata or the checkout's pyproject) and the start line.

`version()` is what `python -m bot --version`, `/about` and the start-up log line show.
`startup_line(settings)` names the config file, the database (a path, or host/database for a
server URL, never credentials), the version and the enabled features, so an admin can tell at a
glance which config and which database a running bot uses.
"""

from __future__ import annotations

import functools
import re
import tomllib
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit

from bot.config import Settings

DISTRIBUTION = "moviebot"


def version() -> str:
    """The version this code is: the installed package's metadata, or the `pyproject.toml` of
    the checkout the code runs from (an uninstalled tree); "unknown" without either.

    The checkout's pyproject wins over the metadata when the two differ: `python -m bot` in a
    checkout imports the checkout's code, and an install's metadata (an editable one too) keeps
    the version of the day it was installed until the next `pip install`."""
    source = _checkout_version()
    if source is not None:
        return source
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown"


@functools.cache
def _checkout_version() -> str | None:
    """[project] version of the pyproject.toml beside this package, if it is this project's."""
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    except (OSError, ValueError):
        return None
    if project.get("name") != DISTRIBUTION or not isinstance(project.get("version"), str):
        return None
    return str(project["version"])


def describe_url(url: str) -> str:
    """A server URL for a log line: scheme, host, port and path (the database name or
    number), without the user name, the password and the query; "none" when empty."""
    if not url:
        return "none"
    # A URL kept in a Path has lost one slash ("postgresql:/user:pw@host/db"): put it back.
    try:
        parts = urlsplit(re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*):/+", r"\1://", url.strip()))
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
    except ValueError:  # a malformed port: say what is safe to say
        return f"{url.split(':', 1)[0]}://(unreadable URL)"
    return f"{parts.scheme}://{host}{parts.path}"


def describe_database(database: Path | str) -> str:
    """The database for a log line: an absolute path, or host/name for a URL without the
    user name and password."""
    text = str(database)
    if is_url(text):
        return describe_url(text)
    return str(Path(text).expanduser().resolve())


def database_server(settings: Settings) -> str:
    """The database server URL the settings select ([storage] url), or "" for SQLite."""
    return str(getattr(settings, "database_url", "") or "")


def is_url(database: Path | str) -> bool:
    """Whether the database setting is a server URL (scheme://...), not a SQLite file."""
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:/", str(database)) is not None


def features(settings: Settings) -> list[str]:
    """The optional features this configuration turns on, in words."""
    enabled = [f"training mode {settings.training.mode}"]
    if settings.dev_guild_id:
        enabled.append(f"command sync to dev guild {settings.dev_guild_id}")
    if settings.metrics.enabled:
        enabled.append(f"metrics on http://{settings.metrics.host}:{settings.metrics.port}"
                       "/metrics")
    if settings.recommender.auto_regularization_max_ratings:
        enabled.append("auto-tuned regularisation")
    return enabled


def startup_line(settings: Settings) -> str:
    config = (f"config {settings.source}" if settings.source is not None
              else "no config file (built-in defaults + environment)")
    origin = {"environment": " (from MOVIEBOT_DATABASE)", "default": " (default)"}.get(
        settings.database_from, "")
    database = describe_database(settings.database) + origin
    server = database_server(settings)
    if server:  # PostgreSQL ([storage] url): host and database name, never the password
        database = describe_database(server)
    return (f"moviebot {version()} starting: {config}; database {database}; "
            f"{cluster_part(settings)}features: {', '.join(features(settings))}")


def cluster_part(settings: Settings) -> str:
    """Which shards this process runs and which Redis it shares ("" for neither)."""
    text = ""
    sharding = settings.sharding
    if sharding.shard_count:
        from bot.domain.shards import shard_slice

        shards = shard_slice(sharding.shard_count, sharding.clusters, sharding.cluster_id)
        text += (f"cluster {sharding.cluster_id} of {sharding.clusters}, shards "
                 f"{shards[0]}-{shards[-1]} of {sharding.shard_count}; " if shards else
                 f"cluster {sharding.cluster_id} of {sharding.clusters}, no shards; ")
    if settings.redis.url:
        text += f"Redis {describe_url(settings.redis.url)}; "
    return text
