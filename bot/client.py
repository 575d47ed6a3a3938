"""The bot object: wiring of settings, storage, the recommendation service and the cogs.

`create_bot(settings)` returns an unstarted `MovieBot`; nothing touches the network or the
database until `start()` (discord.py then calls `setup_hook`, where the database is opened, the
starter catalog loaded, the cogs added and, with a dev guild configured, the commands synced).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import discord
from discord import app_commands
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


IN_FLIGHT_GRACE = 5.0  # seconds close() waits for running commands to finish
SHUTTING_DOWN = "The bot is restarting or shutting down; please try again in a minute."


class MovieTree(app_commands.CommandTree):
    """The command tree: commands only in servers, none once the bot is shutting down."""

    in_flight = 0  # commands and autocompletes being handled right now

    async def _call(self, interaction: discord.Interaction) -> None:
        # Counted so that close() can let running commands finish before the database closes.
        self.in_flight += 1
        try:
            await super()._call(interaction)
        finally:
            self.in_flight -= 1

    async def wait_in_flight(self, timeout: float) -> int:  # noqa: ASYNC109
        """Wait (at most `timeout` s) until no command is running; returns how many still are."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.in_flight and loop.time() < deadline:  # noqa: ASYNC110 (bounded poll)
            await asyncio.sleep(0.02)
        return self.in_flight

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.guild_id is None:  # every command is guild-only; Discord hides them
            if interaction.type is discord.InteractionType.application_command:  # in DMs,
                raise app_commands.NoPrivateMessage()  # but a client could still send one
            return False
        if getattr(self.client, "accepting_commands", True):
            return True
        with contextlib.suppress(Exception):  # the connection may already be closing
            if interaction.type is discord.InteractionType.application_command:
                await interaction.response.send_message(
                    SHUTTING_DOWN, ephemeral=True,
                    allowed_mentions=discord.AllowedMentions.none())
            elif interaction.type is discord.InteractionType.autocomplete:
                await interaction.response.autocomplete([])
        return False


class MovieBot(commands.Bot):
    """The movie bot. Slash commands only; it reads no message content."""

    def __init__(self, settings: Settings, **options: Any) -> None:
        options.setdefault("allowed_mentions", discord.AllowedMentions.none())
        if settings.owner_ids:
            options.setdefault("owner_ids", set(settings.owner_ids))
        options.setdefault("tree_cls", MovieTree)
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
        self._close_task: asyncio.Task[None] | None = None
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
        """Stop taking commands, stop training, disconnect, then close the database.

        Safe to call more than once and concurrently (a signal handler and `async with bot`
        both close it): every caller waits for the one shutdown."""
        self.accepting_commands = False
        if self._close_task is None:
            self._close_task = asyncio.get_running_loop().create_task(self._close_once())
        await asyncio.shield(self._close_task)

    async def _close_once(self) -> None:
        if isinstance(self.tree, MovieTree):
            left = await self.tree.wait_in_flight(IN_FLIGHT_GRACE)
            if left:
                log.warning("closing with %d command(s) still running", left)
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
