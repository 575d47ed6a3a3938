"""Settings: read and validate the TOML configuration file.

`load_settings(path)` is the one way the bot, the CLI and the tests get their settings. Every
problem is reported as a single `ConfigError` line that names the file and the key; the entry
point prints that line instead of a traceback. `DISCORD_TOKEN` and `MOVIEBOT_DATABASE` in the
environment win over the file (`default_settings()` is the same without a file, for containers),
as does `MOVIEBOT_<SECTION>_<KEY>` for the media servers' settings (`[jellyfin] api_key` ->
`MOVIEBOT_JELLYFIN_API_KEY`; also `[plex]`, `[trakt]`, `[seerr]`, `[security]`, `[media]`).
Relative paths in the file are resolved against the file's own folder.

One default database path everywhere: `data/moviebot.sqlite3` (relative to the config file, or
to the working directory without one), the same as `config.example.toml`. The bounds of the
settings guilds may override with `/settings` come from `bot.domain.tuning`, shared with the
settings service, so the config and `/settings` accept the same ranges.
"""

from __future__ import annotations

import os
import stat
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.config_sections import (  # noqa: F401 (re-exported: bot.config is the public name)
    _BOUNDS,
    _SECTION_TYPES,
    CLUSTER_ID_ENV,
    DATABASE_ENV,
    DATABASE_URL_ENV,
    DEFAULT_DATABASE,
    DEFAULT_LETTERBOXD_URL,
    DEFAULT_METRICS_PORT,
    DEFAULT_MOVIELENS_URL,
    DEFAULT_TMDB_URL,
    DEFAULT_TRAKT_URL,
    LEGACY_DATABASE,
    LOG_LEVELS,
    MIN_JOB_KEY_LENGTH,
    QUIET_LOGGERS,
    REDIS_JOB_KEY_ENV,
    REDIS_URL_ENV,
    TMDB_KEY_ENV,
    TOKEN_ENV,
    ConfigError,
    JellyfinSettings,
    LimitSettings,
    MediaSettings,
    MetricsSettings,
    PlexSettings,
    PrivacySettings,
    RecommenderSettings,
    RedisSettings,
    SecuritySettings,
    SeerrSettings,
    Settings,
    ShardingSettings,
    TmdbSettings,
    TrainingSettings,
    TraktSettings,
    setting_bounds,
)

# The text settings of the numeric sections, and the values each accepts.
_CHOICES: dict[str, tuple[str, ...]] = {
    "training.mode": ("auto", "thread", "process", "queue"),
}


def _fail(path: Path, key: str, message: str) -> ConfigError:
    return ConfigError(f"{path}: setting '{key}' {message}")


def _check_number(path: Path, key: str, value: Any, kind: type) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(path, key, f"must be a number, got {type(value).__name__}")
    if kind is int and not isinstance(value, int):
        raise _fail(path, key, "must be a whole number")
    low, high = _BOUNDS.get(key, (float("-inf"), float("inf")))
    if not low <= value <= high:
        raise _fail(path, key, f"must be between {low:g} and {high:g}, got {value}")
    return kind(value)


def _check_choice(path: Path, key: str, value: Any) -> str:
    allowed = _CHOICES[key]
    if not isinstance(value, str) or value.strip().lower() not in allowed:
        listed = " or ".join(f'"{a}"' for a in allowed)
        raise _fail(path, key, f"must be {listed}, got {value!r}")
    return value.strip().lower()


def _check_id(path: Path, key: str, value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _fail(path, key, "must be a Discord id (a positive whole number)")
    return value


def _section(path: Path, data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise _fail(path, name, "must be a table ([" + name + "])")
    return value


def _build_section(path: Path, data: dict[str, Any], name: str, cls: Any) -> Any:
    raw = _section(path, data, name)
    defaults = cls()
    known = {f for f in cls.__dataclass_fields__}
    for key in raw:
        if key not in known:
            raise _fail(path, f"{name}.{key}", "is not a known setting")
    values: dict[str, Any] = {}
    for key in known:
        if key in raw:
            kind = type(getattr(defaults, key))
            if kind is str:
                values[key] = _check_choice(path, f"{name}.{key}", raw[key])
            else:
                values[key] = _check_number(path, f"{name}.{key}", raw[key], kind)
    return cls(**values)


def _check_permissions(path: Path) -> list[str]:
    """Warnings about a config file that others on the machine can read."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return []
    if mode & stat.S_IROTH:
        return [f"{path} is readable by every user on this machine; it may hold the bot token "
                f"(fix: chmod 600 {path})"]
    return []


def load_settings(path: str | os.PathLike[str]) -> Settings:
    """Read, validate and return the settings in the TOML file at `path`.

    Raises ConfigError with one line naming the file and the key on any problem.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: config file not found (copy config.example.toml to {path} and edit it)"
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read config file: {error.strerror}") from None

    base = path.parent
    known_top = {"discord", "storage", "logging", "catalog", "metrics", "redis", "tmdb",
                 *_SECTION_TYPES, *_TEXT_SECTIONS, "media"}
    for key in data:
        if key not in known_top:
            raise _fail(path, key, "is not a known section")

    discord = _section(path, data, "discord")
    for key in discord:
        if key not in {"token", "dev_guild_id", "owner_ids", "application_id"}:
            raise _fail(path, f"discord.{key}", "is not a known setting")
    token = discord.get("token") or None
    if token is not None and not isinstance(token, str):
        raise _fail(path, "discord.token", "must be a string")
    dev_guild = discord.get("dev_guild_id")
    dev_guild_id = None if dev_guild in (None, 0, "") else _check_id(
        path, "discord.dev_guild_id", dev_guild)
    owners = discord.get("owner_ids", [])
    if not isinstance(owners, list):
        raise _fail(path, "discord.owner_ids", "must be a list of Discord ids")
    owner_ids = tuple(_check_id(path, "discord.owner_ids", o) for o in owners)
    application = discord.get("application_id")
    application_id = None if application in (None, 0, "") else _check_id(
        path, "discord.application_id", application)

    storage = _section(path, data, "storage")
    for key in storage:
        if key not in ("database", "url"):
            raise _fail(path, f"storage.{key}", "is not a known setting")
    database_url = storage.get("url", "")
    if not isinstance(database_url, str) or (database_url.strip() and not database_url.strip()
                                             .startswith(("postgresql://", "postgres://"))):
        raise _fail(path, "storage.url", 'must be a "postgresql://..." URL or empty')
    database_raw = storage.get("database")
    notes: tuple[str, ...] = ()
    if database_raw is None:
        database, notes = default_database(base)
    else:
        if not isinstance(database_raw, str) or not database_raw.strip():
            raise _fail(path, "storage.database", "must be a non-empty path")
        database = Path(database_raw).expanduser()
        if not database.is_absolute():
            database = base / database

    logging_section = _section(path, data, "logging")
    for key in logging_section:
        if key not in ("level", "levels"):
            raise _fail(path, f"logging.{key}", "is not a known setting")
    level = logging_section.get("level", "INFO")
    if not isinstance(level, str) or level.upper() not in LOG_LEVELS:
        raise _fail(path, "logging.level", f"must be one of {', '.join(LOG_LEVELS)}")
    levels_raw = logging_section.get("levels", {})
    if not isinstance(levels_raw, dict):
        raise _fail(path, "logging.levels", 'must be a table of logger = "LEVEL"')
    log_levels = []
    for name, value in levels_raw.items():
        if not isinstance(value, str) or value.upper() not in LOG_LEVELS:
            raise _fail(path, f"logging.levels.{name}",
                        f"must be one of {', '.join(LOG_LEVELS)}")
        log_levels.append((str(name), value.upper()))

    metrics = _metrics(path, _section(path, data, "metrics"))
    redis = _redis(path, _section(path, data, "redis"))
    tmdb = _tmdb(path, _section(path, data, "tmdb"))
    text_sections = {name: _text_section(path, name, _section(path, data, name))
                     for name in _TEXT_SECTIONS}
    media = _media(path, _section(path, data, "media"))

    catalog = _section(path, data, "catalog")
    for key in catalog:
        if key != "movielens_url":
            raise _fail(path, f"catalog.{key}", "is not a known setting")
    url = catalog.get("movielens_url", DEFAULT_MOVIELENS_URL)
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise _fail(path, "catalog.movielens_url", "must be an http(s) URL")

    sections = {name: _build_section(path, data, name, cls)
                for name, cls in _SECTION_TYPES.items()}
    return _apply_environment(Settings(
        token=token,
        database=database,
        database_url=database_url.strip(),
        dev_guild_id=dev_guild_id,
        owner_ids=owner_ids,
        application_id=application_id,
        log_level=level.upper(),
        log_levels=tuple(log_levels),
        movielens_url=url,
        metrics=metrics,
        tmdb=tmdb,
        redis=redis,
        media=media,
        **text_sections,
        source=path,
        database_from="default" if database_raw is None else "config",
        notes=notes,
        **sections,
    ))


def default_settings() -> Settings:
    """Built-in defaults plus the environment, for running without a config file."""
    database, notes = default_database(Path())
    return _apply_environment(Settings(database=database, notes=notes))


def default_database(base: Path) -> tuple[Path, tuple[str, ...]]:
    """The default database path in `base`, and a note when an older default is used.

    Before 0.2 the built-in default was `moviebot.sqlite3` (the example config's was already
    `data/moviebot.sqlite3`); an existing database there is kept, with a warning, so an upgrade
    never silently starts over on an empty database.
    """
    database = base / DEFAULT_DATABASE
    legacy = base / LEGACY_DATABASE
    if not database.exists() and legacy.is_file():
        return legacy, (f"using {legacy}, the old default database path; move it to "
                        f"{database} or set [storage] database to keep it there",)
    return database, ()


def _metrics(path: Path, raw: dict[str, Any]) -> MetricsSettings:
    for key in raw:
        if key not in ("enabled", "host", "port"):
            raise _fail(path, f"metrics.{key}", "is not a known setting")
    enabled = raw.get("enabled", False)
    if not isinstance(enabled, bool):
        raise _fail(path, "metrics.enabled", "must be true or false")
    host = raw.get("host", MetricsSettings.host)
    if not isinstance(host, str) or not host.strip():
        raise _fail(path, "metrics.host", "must be an address such as \"127.0.0.1\"")
    port = raw.get("port", DEFAULT_METRICS_PORT)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise _fail(path, "metrics.port", "must be a port number (0-65535; 0 = any free one)")
    return MetricsSettings(enabled=enabled, host=host.strip(), port=port)


def _redis(path: Path, raw: dict[str, Any]) -> RedisSettings:
    for key in raw:
        if key not in ("url", "job_key"):
            raise _fail(path, f"redis.{key}", "is not a known setting")
    url = raw.get("url", "")
    if not isinstance(url, str) or (url and not url.startswith(("redis://", "rediss://",
                                                                  "unix://"))):
        raise _fail(path, "redis.url", 'must be a redis:// URL (or "" for none)')
    job_key = raw.get("job_key", "")
    if not isinstance(job_key, str) or job_key_problem(job_key.strip()):
        raise _fail(path, "redis.job_key", job_key_problem(str(job_key).strip())
                    or "must be a string")
    return RedisSettings(url=url.strip(), job_key=job_key.strip())


def job_key_problem(key: str) -> str:
    """Why `key` cannot sign refit jobs ("" when it can, or when it is not set)."""
    if key and len(key) < MIN_JOB_KEY_LENGTH:
        return (f"must be at least {MIN_JOB_KEY_LENGTH} characters (e.g. the output of "
                "`openssl rand -hex 32`)")
    return ""


def _tmdb(path: Path, raw: dict[str, Any]) -> TmdbSettings:
    for key in raw:
        if key not in ("api_key", "base_url", "cache_days"):
            raise _fail(path, f"tmdb.{key}", "is not a known setting")
    key = raw.get("api_key", "")
    if not isinstance(key, str):
        raise _fail(path, "tmdb.api_key", "must be a string")
    url = raw.get("base_url", DEFAULT_TMDB_URL)
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise _fail(path, "tmdb.base_url", "must be an http(s) URL")
    days = raw.get("cache_days", 30)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
        raise _fail(path, "tmdb.cache_days", "must be a whole number from 1 to 365")
    return TmdbSettings(api_key=key.strip(), base_url=url.rstrip("/"), cache_days=days)


# The sections of text settings (the media servers' and the secret key): each key is a
# string, a `url` key an http(s) URL; `MOVIEBOT_<SECTION>_<KEY>` overrides it.
_TEXT_SECTIONS: dict[str, type] = {
    "jellyfin": JellyfinSettings,
    "plex": PlexSettings,
    "trakt": TraktSettings,
    "seerr": SeerrSettings,
    "security": SecuritySettings,
}
_TEST_ONLY = {"base_url", "letterboxd_url"}  # fields never read from the file


def _text_keys(cls: Any) -> tuple[str, ...]:
    return tuple(f for f in cls.__dataclass_fields__ if f not in _TEST_ONLY)


def _text_value(key: str, value: Any) -> Any:
    """A text setting's value, checked; ValueError with the problem. `webhook_port` is the
    one number among them (from the environment it arrives as text)."""
    if key == "webhook_port":
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
            raise ValueError("must be a port number from 1 to 65535 (or 0 for none)")
        return value
    if not isinstance(value, str):
        raise ValueError("must be a string")
    value = value.strip()
    if key == "url":
        if value and not value.startswith(("http://", "https://")):
            raise ValueError('must be an http(s) URL (or "" for none)')
        value = value.rstrip("/")
    return value


def _text_section(path: Path, name: str, raw: dict[str, Any]) -> Any:
    cls = _TEXT_SECTIONS[name]
    keys = _text_keys(cls)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in keys:
            raise _fail(path, f"{name}.{key}", "is not a known setting")
        try:
            values[key] = _text_value(key, value)
        except ValueError as error:
            raise _fail(path, f"{name}.{key}", str(error)) from None
    return cls(**values)


_MEDIA_HOURS = ("sync_hours", "library_hours")


def _media(path: Path, raw: dict[str, Any]) -> MediaSettings:
    for key in raw:
        if key not in _MEDIA_HOURS:
            raise _fail(path, f"media.{key}", "is not a known setting")
    values: dict[str, float] = {}
    for key in _MEDIA_HOURS:
        hours = raw.get(key, getattr(MediaSettings, key))
        if (isinstance(hours, bool) or not isinstance(hours, (int, float))
                or not 0.1 <= hours <= 720):
            raise _fail(path, f"media.{key}", "must be a number of hours from 0.1 to 720")
        values[key] = float(hours)
    return MediaSettings(sync_hours=values["sync_hours"],
                         library_hours=values["library_hours"])


def env_name(section: str, key: str) -> str:
    """The environment variable that overrides `[section] key`, e.g. MOVIEBOT_PLEX_TOKEN."""
    return f"MOVIEBOT_{section.upper()}_{key.upper()}"


def _media_environment(settings: Settings) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name, cls in _TEXT_SECTIONS.items():
        updates: dict[str, Any] = {}
        for key in _text_keys(cls):
            variable = env_name(name, key)
            raw = os.environ.get(variable, "").strip()
            if raw:
                try:
                    updates[key] = _text_value(key, raw)
                except ValueError as error:
                    raise ConfigError(f"{variable} {error}") from None
        if updates:
            changes[name] = replace(getattr(settings, name), **updates)
    for key in _MEDIA_HOURS:
        hours = os.environ.get(env_name("media", key), "").strip()
        if hours:
            try:
                value = float(hours)
            except ValueError:
                value = -1.0
            if not 0.1 <= value <= 720:
                raise ConfigError(f"{env_name('media', key)} must be a number of hours "
                                  f"from 0.1 to 720, got {hours!r}")
            changes["media"] = replace(changes.get("media", settings.media), **{key: value})
    return changes


def _apply_environment(settings: Settings) -> Settings:
    token = os.environ.get(TOKEN_ENV, "").strip()
    database = os.environ.get(DATABASE_ENV, "").strip()
    changes: dict[str, Any] = {}
    if token:
        changes["token"] = token
    if database:
        changes["database"] = Path(database).expanduser()
        changes["database_from"] = "environment"
        changes["notes"] = ()
    database_url = os.environ.get(DATABASE_URL_ENV, "").strip()
    if database_url:
        changes["database_url"] = database_url
    cluster_id = os.environ.get(CLUSTER_ID_ENV, "").strip()
    if cluster_id:
        if not cluster_id.isdigit():
            raise ConfigError(f"{CLUSTER_ID_ENV} must be a whole number, got {cluster_id!r}")
        changes["sharding"] = replace(settings.sharding, cluster_id=int(cluster_id))
    redis_url = os.environ.get(REDIS_URL_ENV, "").strip()
    if redis_url:
        changes["redis"] = replace(settings.redis, url=redis_url)
    job_key = os.environ.get(REDIS_JOB_KEY_ENV, "").strip()
    if job_key:
        if job_key_problem(job_key):
            raise ConfigError(f"{REDIS_JOB_KEY_ENV} {job_key_problem(job_key)}")
        changes["redis"] = replace(changes.get("redis", settings.redis), job_key=job_key)
    tmdb_key = os.environ.get(TMDB_KEY_ENV, "").strip()
    if tmdb_key:
        changes["tmdb"] = replace(settings.tmdb, api_key=tmdb_key)
    changes.update(_media_environment(settings))
    return replace(settings, **changes) if changes else settings


def permission_warnings(settings: Settings) -> list[str]:
    """Start-up warnings about the config file (world-readable while it may hold a token)."""
    return _check_permissions(settings.source) if settings.source else []
