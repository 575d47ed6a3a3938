"""The Discord movie bot: entry point, configuration, wiring, storage and the recommendation
service. Build it with `create_bot(load_settings(path))`."""

from typing import Any

from bot.client import MovieBot
from bot.config import ConfigError, Settings, load_settings

__all__ = ["ConfigError", "MovieBot", "Settings", "create_bot", "load_settings"]


def create_bot(settings: Settings, **options: Any) -> MovieBot:
    """An unstarted bot for these settings. Extra keyword arguments go to discord.py's Client
    (tests pass e.g. `guild_ready_timeout=0.1`). With `[sharding] shard_count` set, the
    cluster's sharded bot (`bot.cluster`, which builds on `bot.client`: it lives here, so
    neither of the two imports the other back)."""
    if settings.sharding.shard_count:
        from bot.cluster import ShardedMovieBot

        return ShardedMovieBot(settings, **options)
    return MovieBot(settings, **options)
