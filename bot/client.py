"""The bot object: wiring of settings, storage, the recommendation service and the cogs.

`bot.create_bot(settings)` returns an unstarted `MovieBot` (or the cluster's sharded one);
nothing touches the network or the database until `prepare()` or `start()`. `prepare()` does
everything that needs no network: opens the database (migrations, starter catalog) and the
services, starts the health status file and, with `[metrics] enabled`, the Prometheus endpoint
(`bot.metrics`). `bot.lifecycle.serve` calls it before the first login attempt, so a bot that
cannot reach Discord yet already has its database, answers `python -m bot health`
("starting: ...") and `stats`, and serves metrics. discord.py's `setup_hook` (after login)
calls it too (a no-op when done), then adds the cogs and, with a dev guild configured, syncs
the commands. `setup_hook` may run again when a login is
retried (see `bot.lifecycle`): each step is done once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.config import Settings
from bot.domain.plural import plural
from bot.domain.servers import server_name
from bot.health import LoginRetry
from bot.i18n import _
from bot.i18n.interactions import ServerLanguages, settle, speak_per_interaction
from bot.service import gcstats
from bot.service.gate import SHUTTING_DOWN, ShuttingDown

if TYPE_CHECKING:
    from bot.metrics import Metrics
    from bot.service import RecommendationService
    from bot.service.app import Services
    from bot.storage import Storage

log = logging.getLogger(__name__)

# The cogs, in load order. Each module has an async `setup(bot)`.
EXTENSIONS: tuple[str, ...] = (
    "cogs.error_handler",  # first: in place before any command
    "cogs.rating",
    "cogs.recommend",
    "cogs.movies",
    "cogs.ratings",
    "cogs.taste",
    "cogs.settings",
    "cogs.privacy",
    "cogs.admin",
    "cogs.history",
    "cogs.watchlist",
    "cogs.link",
    "cogs.library",
    "cogs.movienight",
    "cogs.setup",
    "cogs.help",
)


def bot_intents() -> discord.Intents:
    """Only what the commands need: guilds, and voice states for '/recommend voice:'."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.voice_states = True
    return intents


__all__ = ["SHUTTING_DOWN", "MovieBot", "MovieTree", "bot_intents"]

IN_FLIGHT_GRACE = 5.0  # seconds close() waits for running service calls to finish


class MovieTree(app_commands.CommandTree["MovieBot"]):
    """The command tree: commands only in servers, none once the bot is shutting down.

    Refusing *new* commands here is only politeness: the shutdown guarantee is the services'
    gate (`bot.service.gate`), which every command, button, select and form passes through.
    """

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        interaction.extras.setdefault("started", time.perf_counter())  # command latency
        if interaction.guild_id is None:  # every command is guild-only; Discord hides them
            if interaction.type is discord.InteractionType.application_command:  # in DMs,
                raise app_commands.NoPrivateMessage()  # but a client could still send one
            return False
        if self.client.accepting_commands:
            # The member's language was set from the payload; one whose language the bot does
            # not speak gets the server's (read once per server).
            await settle(interaction, self.client.languages, self.client.app.settings.get)
            return True
        with contextlib.suppress(Exception):  # the connection may already be closing
            if interaction.type is discord.InteractionType.application_command:
                await interaction.response.send_message(
                    _(SHUTTING_DOWN), ephemeral=True,
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
        silence_voice_warnings()
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
        self.metrics: Metrics | None = None  # with [metrics] enabled, from setup_hook
        self._status_task: asyncio.Task[None] | None = None
        self.login_retry: LoginRetry | None = None  # the last failed login, until one works
        self.status_changed = asyncio.Event()  # wakes the status writer (`bot.health`)
        self._frozen_when_ready = False  # gcstats.freeze_when_ready ran (first on_ready)
        # Each interaction runs in its member's language (`bot.i18n.interactions`).
        self.languages = ServerLanguages()
        speak_per_interaction(self, self.languages)
        # The tree's error handler is installed by an extension (`cogs.error_handler`): the
        # bot object does not depend on the cogs.

    async def on_app_command_completion(
            self, interaction: discord.Interaction,
            command: app_commands.Command[Any, ..., Any] | app_commands.ContextMenu) -> None:
        self.record_command(interaction, ok=True)

    def record_command(self, interaction: discord.Interaction, *, ok: bool) -> None:
        """Count a finished command (and its latency) in the metrics, when they are on."""
        if self.metrics is None or interaction.command is None:
            return
        started = interaction.extras.get("started")
        seconds = time.perf_counter() - started if isinstance(started, float) else 0.0
        self.metrics.command_done(interaction.command.qualified_name, seconds, ok=ok)

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

    async def prepare(self) -> None:
        """The start-up steps that need no network, each done once: the database (created and
        migrated, starter catalog loaded) and the services, the metrics endpoint, the health
        status file. Safe to call again (`setup_hook` does)."""
        from bot.health import cluster_of, keep_status, status_path
        from bot.service.app import Services

        if self.services is None:
            self.services = await Services.open(self.settings)
            if self._close_task is not None:  # a signal arrived while the database opened
                await self.services.close(0)
                self.services = None
                return
        if self.settings.metrics.enabled and self.metrics is None:
            from bot.about import version
            from bot.metrics import Metrics

            metrics = Metrics(version())
            metrics.watch(self.services.recommendations)
            host, port = self.settings.metrics.host, self.settings.metrics.port
            try:
                metrics.serve(host, port)
            except OSError as error:  # the port is taken: the bot itself still runs
                log.error("metrics off: cannot listen on %s:%s (%s); change [metrics] port",
                          host, port, error.strerror or error)
            else:
                self.metrics = metrics
        if self._status_task is None and str(self.settings.database) != ":memory:":
            self._status_task = asyncio.get_running_loop().create_task(
                keep_status(self, status_path(self.settings.database, cluster_of(self.settings))),
                name="health-status")

    def note_login_retry(self, attempt: int, retry_at: float, error: str) -> None:
        """Discord could not be reached (`bot.lifecycle`): the status file says so at once
        (`python -m bot health`: "starting: cannot reach Discord (attempt N, next in S s)")."""
        self.login_retry = LoginRetry(attempt, retry_at, error)
        self.status_changed.set()

    def note_logged_in(self) -> None:
        self.login_retry = None
        self.status_changed.set()

    async def setup_hook(self) -> None:
        await self.prepare()
        if self.services is None:  # closed while preparing
            return
        if self.tree.translator is None:  # names and descriptions in the members' languages
            from bot.i18n.catalogs import load_all
            from bot.i18n.translator import CatalogTranslator

            await asyncio.to_thread(load_all)
            await self.tree.set_translator(CatalogTranslator())
        for extension in EXTENSIONS:
            if extension not in self.extensions:
                await self.load_extension(extension)
        if self.settings.dev_guild_id:
            guild = discord.Object(id=self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %s to dev guild %s", plural(len(synced), "command"), guild.id)

    async def on_ready(self) -> None:
        log.info("connected to Discord as %s in %s", self.user, plural(len(self.guilds), "server"))
        self._count_guilds()
        if not self._frozen_when_ready:  # the servers' caches are long-lived: out of the GC's walk
            self._frozen_when_ready = True
            gcstats.freeze_when_ready()

    # ------------------------------------------------------- servers and the gateway
    async def on_guild_join(self, guild: discord.Guild) -> None:
        log.info("joined server %s", _server_line(guild, len(self.guilds)))
        self._count_guilds()

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        log.info("left server %s", _server_line(guild, len(self.guilds)))
        self._count_guilds()

    def _count_guilds(self) -> None:
        if self.metrics is not None:
            self.metrics.guild_count(len(self.guilds))

    def _gateway(self, shard_id: int | None, *, connected: bool) -> None:
        if self.metrics is not None:
            self.metrics.gateway(shard_id or 0, connected=connected)

    # An unsharded client reports connect/disconnect/resumed; a sharded one reports the same
    # per shard (shard_connect, ...) as well: each kind of client counts its own events.
    async def on_connect(self) -> None:
        if not isinstance(self, discord.AutoShardedClient):
            self._gateway(0, connected=True)

    async def on_resumed(self) -> None:
        if not isinstance(self, discord.AutoShardedClient):
            self._gateway(0, connected=True)

    async def on_disconnect(self) -> None:
        if not isinstance(self, discord.AutoShardedClient):
            self._gateway(0, connected=False)

    async def on_shard_connect(self, shard_id: int) -> None:
        self._gateway(shard_id, connected=True)

    async def on_shard_resumed(self, shard_id: int) -> None:
        self._gateway(shard_id, connected=True)

    async def on_shard_disconnect(self, shard_id: int) -> None:
        self._gateway(shard_id, connected=False)

    async def close(self) -> None:
        """Stop taking commands, stop training, disconnect, then close the database.

        Safe to call more than once and concurrently (a signal handler and `async with bot`
        both close it): every caller waits for the one shutdown."""
        self.accepting_commands = False
        if self._close_task is None:
            self._close_task = asyncio.get_running_loop().create_task(self._close_once())
        await asyncio.shield(self._close_task)

    async def _close_once(self) -> None:
        if self._status_task is not None:
            self._status_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._status_task
            self._status_task = None
        if self.metrics is not None:
            self.metrics.close()
            self.metrics = None
        # Drain first, while the gateway is still up, so running calls can still answer.
        if self.services is not None:
            await self.services.close(IN_FLIGHT_GRACE)
            self.services = None
        await super().close()


def _server_line(guild: discord.Guild, now_in: int) -> str:
    """A server for a join/leave log line: its name (sanitised), id and member count."""
    members = ("members unknown" if guild.member_count is None
               else plural(guild.member_count, "member"))
    return (f"{server_name(guild.name)} (id {guild.id}, {members}); now in "
            f"{plural(now_in, 'server')}")


def silence_voice_warnings() -> None:
    """The bot never joins voice (it only reads who is in a voice channel), so discord.py's
    start-up warnings about missing voice libraries (PyNaCl, davey) do not apply to it."""
    from discord.voice_client import VoiceClient

    for flag in ("warn_nacl", "warn_dave"):
        if hasattr(VoiceClient, flag):
            setattr(VoiceClient, flag, False)
