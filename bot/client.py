"""The bot object: wiring of settings, storage, the recommendation service and the cogs.

`create_bot(settings)` returns an unstarted `MovieBot`; nothing touches the network or the
database until `start()` (discord.py then calls `setup_hook`, where the database is opened, the
starter catalog loaded, the cogs added and, with a dev guild configured, the commands synced).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.config import Settings
from bot.service.gate import SHUTTING_DOWN, ShuttingDown

if TYPE_CHECKING:
    from bot.service import RecommendationService
    from bot.service.app import Services
    from bot.storage import Storage

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


__all__ = ["SHUTTING_DOWN", "MovieBot", "MovieTree", "bot_intents", "create_bot"]

IN_FLIGHT_GRACE = 5.0  # seconds close() waits for running service calls to finish


class MovieTree(app_commands.CommandTree["MovieBot"]):
    """The command tree: commands only in servers, none once the bot is shutting down.

    Refusing *new* commands here is only politeness: the shutdown guarantee is the services'
    gate (`bot.service.gate`), which every command, button, select and form passes through.
    """

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.guild_id is None:  # every command is guild-only; Discord hides them
            if interaction.type is discord.InteractionType.application_command:  # in DMs,
                raise app_commands.NoPrivateMessage()  # but a client could still send one
            return False
        if self.client.accepting_commands:
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
        self.services: Services | None = None  # opened in setup_hook
        self.accepting_commands = True
        self._close_task: asyncio.Task[None] | None = None
        from cogs.errors import on_tree_error

        self.tree.error(on_tree_error)

    @property
    def storage(self) -> Storage | None:
        """The open storage (tests, the console); cogs go through `services` instead."""
        return self.services.storage if self.services is not None else None

    @property
    def recommendations(self) -> RecommendationService | None:
        return self.services.recommendations if self.services is not None else None

    @property
    def app(self) -> Services:
        """The services, for the cogs (which only run once `setup_hook` opened them)."""
        if self.services is None:
            if self._close_task is not None:
                raise ShuttingDown()
            raise RuntimeError("the bot's services are not open (setup_hook has not run)")
        return self.services

    async def setup_hook(self) -> None:
        from bot.service.app import Services

        self.services = await Services.open(self.settings)
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
        # Drain first, while the gateway is still up, so running calls can still answer.
        if self.services is not None:
            await self.services.close(IN_FLIGHT_GRACE)
            self.services = None
        await super().close()


def create_bot(settings: Settings, **options: Any) -> MovieBot:
    """An unstarted bot for these settings. Extra keyword arguments go to discord.py's Client
    (tests pass e.g. `guild_ready_timeout=0.1`)."""
    return MovieBot(settings, **options)
