"""The bot object: wiring of settings, storage, the recommendation service and the cogs.

`create_bot(settings)` returns an unstarted `MovieBot`; nothing touches the network or the
database until `start()` (discord.py then calls `setup_hook`, where the database is opened, the
starter catalog loaded, the cogs added and, with a dev guild configured, the commands synced).
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord.ext import commands

from bot.config import Settings

log = logging.getLogger(__name__)

# The cogs, in load order. Each module has an async `setup(bot)`.
EXTENSIONS: tuple[str, ...] = (
    "cogs.rating",
    "cogs.recommend",
    "cogs.movies",
    "cogs.ratings",
    "cogs.settings",
    "cogs.privacy",
    "cogs.admin",
)


def bot_intents() -> discord.Intents:
    """Only what the commands need: guilds, and voice states for '/recommend voice:'."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.voice_states = True
    return intents


class MovieBot(commands.Bot):
    """The movie bot. Slash commands only; it reads no message content."""

    def __init__(self, settings: Settings, **options: Any) -> None:
        options.setdefault("allowed_mentions", discord.AllowedMentions.none())
        if settings.owner_ids:
            options.setdefault("owner_ids", set(settings.owner_ids))
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=bot_intents(),
            help_command=None,
            **options,
        )
        self.settings = settings
        self.storage = None  # bot.storage.Storage, opened in setup_hook
        self.recommendations = None  # bot.service.RecommendationService
        self.accepting_commands = True
        from cogs.errors import on_tree_error

        self.tree.on_error = on_tree_error

    async def setup_hook(self) -> None:
        from bot.catalog.starter import ensure_starter_catalog
        from bot.service import RecommendationService
        from bot.storage import Storage

        self.storage = await Storage.open(self.settings.database)
        added = await ensure_starter_catalog(self.storage)
        if added:
            log.info("loaded the starter catalog: %d movies", added)
        self.recommendations = RecommendationService(self.storage, self.settings)
        await self.recommendations.start()
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        if self.settings.dev_guild_id:
            guild = discord.Object(id=self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to dev guild %s", len(synced), guild.id)

    async def close(self) -> None:
        """Stop taking commands, stop training, close the database, then disconnect."""
        self.accepting_commands = False
        if self.recommendations is not None:
            await self.recommendations.close()
        await super().close()
        if self.storage is not None:
            await self.storage.close()
            self.storage = None


def create_bot(settings: Settings, **options: Any) -> MovieBot:
    """An unstarted bot for these settings. Extra keyword arguments go to discord.py's Client
    (tests pass e.g. `guild_ready_timeout=0.1`)."""
    return MovieBot(settings, **options)
