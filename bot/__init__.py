"""The Discord movie bot: entry point, configuration, wiring, storage and the recommendation
service. Build it with `create_bot(load_settings(path))`."""

from bot.client import MovieBot, create_bot
from bot.config import ConfigError, Settings, load_settings

__all__ = ["ConfigError", "MovieBot", "Settings", "create_bot", "load_settings"]
