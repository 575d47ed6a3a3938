"""The Discord movie bot: entry point, configuration, wiring, storage and the recommendation
service. Build it with `create_bot(load_settings(path))`.

The public names are imported on first use (PEP 562 `__getattr__`), not when `bot` is: every
`import bot.x` runs this file, and the light command lines (`python -m bot --help`,
`--version`, `health`, run by Docker every few seconds) must not pay for discord.py, SciPy and
the recommender they never use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.client import MovieBot
    from bot.config import ConfigError, Settings, load_settings

__all__ = ["ConfigError", "MovieBot", "Settings", "create_bot", "load_settings"]

# Each lazily imported public name, and the module it lives in.
_LAZY = {
    "ConfigError": "bot.config",
    "MovieBot": "bot.client",
    "Settings": "bot.config",
    "load_settings": "bot.config",
}


def __getattr__(name: str) -> Any:
    """Import a public name on first use, then keep it here (later look-ups are plain)."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def create_bot(settings: Settings, **options: Any) -> MovieBot:
    """An unstarted bot for these settings. Extra keyword arguments go to discord.py's Client
    (tests pass e.g. `guild_ready_timeout=0.1`). With `[sharding] shard_count` set, the
    cluster's sharded bot (`bot.cluster`, which builds on `bot.client`: it lives here, so
    neither of the two imports the other back)."""
    if settings.sharding.shard_count:
        from bot.cluster import ShardedMovieBot

        return ShardedMovieBot(settings, **options)
    from bot.client import MovieBot

    return MovieBot(settings, **options)
