"""The configuration's sections as frozen dataclasses (`Settings` and one class per TOML
section), their defaults, the environment variables' names and the bounds of the numeric
settings. `bot.config` reads and validates the file into them (and re-exports every name here:
import them from `bot.config`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.domain.tuning import TUNABLE_RANGES

TOKEN_ENV = "DISCORD_TOKEN"
DATABASE_ENV = "MOVIEBOT_DATABASE"
DATABASE_URL_ENV = "MOVIEBOT_DATABASE_URL"  # PostgreSQL; overrides [storage] url
CLUSTER_ID_ENV = "MOVIEBOT_CLUSTER_ID"
REDIS_URL_ENV = "MOVIEBOT_REDIS_URL"
REDIS_JOB_KEY_ENV = "MOVIEBOT_REDIS_JOB_KEY"  # overrides [redis] job_key
MIN_JOB_KEY_LENGTH = 16
TMDB_KEY_ENV = "MOVIEBOT_TMDB_API_KEY"  # overrides [tmdb] api_key
DEFAULT_TMDB_URL = "https://api.themoviedb.org"
DEFAULT_DATABASE = "data/moviebot.sqlite3"  # the same in config.example.toml
LEGACY_DATABASE = "moviebot.sqlite3"  # the built-in default before 0.2: still found, warned
DEFAULT_MOVIELENS_URL = "https://files.grouplens.org/datasets/movielens/ml-latest-small.zip"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Libraries' loggers are kept this quiet unless `[logging.levels]` says otherwise (and never
# louder than `[logging] level`): aiosqlite logs every statement at DEBUG, discord.http every
# request.
QUIET_LOGGERS: dict[str, str] = {
    "aiosqlite": "WARNING",
    "asyncio": "WARNING",
    "aiohttp": "WARNING",
    "discord": "INFO",
    "discord.client": "WARNING",  # "logging in using static token" at every login attempt
    "discord.http": "WARNING",
    "discord.gateway": "WARNING",
    "discord.state": "WARNING",
    "prometheus_client": "WARNING",
}
DEFAULT_METRICS_PORT = 9108
DEFAULT_TRAKT_URL = "https://api.trakt.tv"
DEFAULT_LETTERBOXD_URL = "https://letterboxd.com"


class ConfigError(Exception):
    """A configuration problem, phrased as one line for the person running the bot."""


@dataclass(frozen=True)
class RecommenderSettings:
    features: int = 10
    regularization: float = 15.0
    max_iterations: int = 20
    min_ratings_for_personal: int = 1
    max_guild_ratings: int = 2_000_000
    max_model_cells: int = 50_000_000  # (members + movies) x features
    auto_regularization_max_ratings: int = 250_000  # 0 = always use `regularization`


@dataclass(frozen=True)
class TrainingSettings:
    debounce_seconds: float = 30.0
    workers: int = 1
    cache_size: int = 32  # guild models always kept in memory (the most recently used)
    cache_megabytes: int = 512  # more kept while all cached models fit in this; 0: count only
    blas_threads: int = 1
    mode: str = "auto"  # where fits run: "auto" (threads; processes for big guilds),
    # "thread", "process" or "queue" (workers of `python -m bot worker`, over [redis])
    big_guild_ratings: int = 200_000  # from this many ratings a guild fits in the big lane


@dataclass(frozen=True)
class ShardingSettings:
    """Discord sharding over cluster processes (bot/cluster.py); shard_count 0 = one process,
    no sharding. `MOVIEBOT_CLUSTER_ID` overrides cluster_id."""

    shard_count: int = 0
    clusters: int = 1
    cluster_id: int = 0
    identify_seconds: float = 5.0  # Discord: one IDENTIFY per 5 s per max_concurrency bucket


@dataclass(frozen=True)
class RedisSettings:
    """Redis for the cluster (identify lock, one-time jobs) and queued training; `""` = none.
    `MOVIEBOT_REDIS_URL` overrides. `job_key` (`MOVIEBOT_REDIS_JOB_KEY`) signs the refit jobs
    (HMAC): the clusters and the workers share it; a worker refuses jobs not signed with it."""

    # Neither is in the repr: a logged settings object never shows a password or the key.
    url: str = field(default="", repr=False)
    job_key: str = field(default="", repr=False)


@dataclass(frozen=True)
class LimitSettings:
    recommend_cooldown_seconds: float = 5.0
    guild_movie_cap: int = 500
    # Per-member token buckets (bot.service.buckets): a burst, refilled at a rate; 0 = off.
    autocomplete_burst: int = 15
    autocomplete_per_second: float = 5.0
    command_burst: int = 10  # commands that read a lot, and page turns
    command_per_second: float = 0.5


@dataclass(frozen=True)
class PrivacySettings:
    purge_grace_days: int = 30


@dataclass(frozen=True)
class MetricsSettings:
    """The optional Prometheus endpoint (`/metrics`), off by default, on loopback."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = DEFAULT_METRICS_PORT


@dataclass(frozen=True)
class TmdbSettings:
    """Optional posters and details from TMDB (`bot.tmdb`); off without a key."""

    api_key: str = field(default="", repr=False)  # a v3 key, or a v4 token ("eyJ...")
    base_url: str = DEFAULT_TMDB_URL
    cache_days: int = 30
    # Image origins allowed besides https://image.tmdb.org (`bot.tmdb.IMAGE_ORIGINS`): for
    # tests' TMDB imitation only; never read from the config file.
    test_image_origins: tuple[str, ...] = ()

    @property
    def enabled(self) -> bool:
        return bool(self.api_key)


@dataclass(frozen=True)
class JellyfinSettings:
    """A Jellyfin server members may link their user of (`bot.media.jellyfin`); off without
    both. The API key (Dashboard > API Keys) is sent only as `Authorization: MediaBrowser
    Token="..."`."""

    url: str = ""
    api_key: str = field(default="", repr=False)

    @property
    def enabled(self) -> bool:
        return bool(self.url and self.api_key)


@dataclass(frozen=True)
class PlexSettings:
    """A Plex Media Server (`bot.media.plex`): its URL and the server admin's token."""

    url: str = ""
    token: str = field(default="", repr=False)

    @property
    def enabled(self) -> bool:
        return bool(self.url and self.token)


@dataclass(frozen=True)
class TraktSettings:
    """A Trakt API application (trakt.tv/oauth/applications) for the device flow."""

    client_id: str = field(default="", repr=False)
    client_secret: str = field(default="", repr=False)
    # Tests' imitation only; never read from the config file.
    base_url: str = DEFAULT_TRAKT_URL

    @property
    def enabled(self) -> bool:
        return bool(self.client_id and self.client_secret)


@dataclass(frozen=True)
class SeerrSettings:
    """A Seerr (Overseerr/Jellyseerr) instance, for requests (`bot.service.requests`), and
    its webhook: with `webhook_port` and `webhook_secret` set, the bot listens on
    `webhook_host:webhook_port` for Seerr's `MEDIA_AVAILABLE` notices (`bot.media.webhook`),
    sent with the secret as their Authorization header."""

    url: str = ""
    api_key: str = field(default="", repr=False)
    webhook_secret: str = field(default="", repr=False)
    webhook_host: str = "0.0.0.0"
    webhook_port: int = 0  # 0: no webhook listener

    @property
    def enabled(self) -> bool:
        return bool(self.url and self.api_key)


@dataclass(frozen=True)
class MediaSettings:
    """Linked accounts' history sync (`bot.service.media`)."""

    sync_hours: float = 6.0  # between two periodic syncs of one link (jittered)
    library_hours: float = 6.0  # between two reads of the media server's library (jittered)
    # Tests' Letterboxd imitation only; never read from the config file.
    letterboxd_url: str = DEFAULT_LETTERBOXD_URL


@dataclass(frozen=True)
class SecuritySettings:
    """`secret_key`: encrypts linked accounts' tokens at rest (`bot.media.secrets`)."""

    secret_key: str = field(default="", repr=False)


@dataclass(frozen=True)
class Settings:
    token: str | None = field(default=None, repr=False)  # secrets stay out of the repr
    database: Path = Path(DEFAULT_DATABASE)
    # [storage] url: a postgresql:// URL selects PostgreSQL; "" = the SQLite `database`.
    database_url: str = field(default="", repr=False)
    dev_guild_id: int | None = None
    owner_ids: tuple[int, ...] = ()
    # [discord] application_id: for `python -m bot invite` (default: read from the token).
    application_id: int | None = None
    log_level: str = "INFO"
    # Per-logger levels from `[logging.levels]` (logger name, level), over QUIET_LOGGERS.
    log_levels: tuple[tuple[str, str], ...] = ()
    movielens_url: str = DEFAULT_MOVIELENS_URL
    recommender: RecommenderSettings = field(default_factory=RecommenderSettings)
    training: TrainingSettings = field(default_factory=TrainingSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    sharding: ShardingSettings = field(default_factory=ShardingSettings)
    redis: RedisSettings = field(default_factory=RedisSettings)
    tmdb: TmdbSettings = field(default_factory=TmdbSettings)
    jellyfin: JellyfinSettings = field(default_factory=JellyfinSettings)
    plex: PlexSettings = field(default_factory=PlexSettings)
    trakt: TraktSettings = field(default_factory=TraktSettings)
    seerr: SeerrSettings = field(default_factory=SeerrSettings)
    media: MediaSettings = field(default_factory=MediaSettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    source: Path | None = None  # the file these settings came from, for messages
    # Where `database` came from: "default", "config" or "environment" (start-up log line).
    database_from: str = "default"
    notes: tuple[str, ...] = ()  # start-up warnings found while reading (legacy database)


# The numeric sections: each is validated by field type and the bounds below.
_SECTION_TYPES: dict[str, type] = {
    "recommender": RecommenderSettings,
    "training": TrainingSettings,
    "limits": LimitSettings,
    "privacy": PrivacySettings,
    "sharding": ShardingSettings,
}

_BOUNDS: dict[str, tuple[float, float]] = {
    # The settings a guild may override: one set of ranges with `/settings`.
    **{f"recommender.{name}": bounds for name, bounds in TUNABLE_RANGES.items()},
    "recommender.max_iterations": (1, 10_000),
    "recommender.max_guild_ratings": (100, 100_000_000),
    "recommender.max_model_cells": (1000, 2_000_000_000),
    "recommender.auto_regularization_max_ratings": (0, 100_000_000),
    "training.debounce_seconds": (0.0, 86_400.0),
    "training.workers": (1, 64),
    "training.cache_size": (1, 100_000),
    "training.cache_megabytes": (0, 1_000_000),
    "training.blas_threads": (1, 64),
    "training.big_guild_ratings": (1, 1_000_000_000),
    "limits.recommend_cooldown_seconds": (0.0, 3600.0),
    "limits.guild_movie_cap": (0, 1_000_000),
    "limits.autocomplete_burst": (0, 10_000),
    "limits.autocomplete_per_second": (0.01, 1000.0),
    "limits.command_burst": (0, 10_000),
    "limits.command_per_second": (0.01, 1000.0),
    "privacy.purge_grace_days": (0, 3650),
    "sharding.shard_count": (0, 100_000),
    "sharding.clusters": (1, 10_000),
    "sharding.cluster_id": (0, 9_999),
    "sharding.identify_seconds": (0.0, 60.0),
}


def setting_bounds(key: str) -> tuple[float, float]:
    """The range a numeric setting accepts, e.g. "recommender.features" (the same as
    `/settings` for the settings a guild may override)."""
    return _BOUNDS[key]
