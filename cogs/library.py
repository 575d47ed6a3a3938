"""The media server's library and "now available" DMs (issue 25 items 3 and 5).

* `/notify on` and `/notify off`: a member's "now available" DMs in this server (opt-in,
  `bot.service.notify`). When a movie on their watchlist here becomes available on the media
  server they get one DM; a member who closed their DMs (Discord's 50007) is dropped quietly.
* `/library refresh` (Manage Server): read the media server's library now (it is also read
  every `[media] library_hours`, `library_task`).
* With `[seerr] webhook_port` and `webhook_secret` set, the cog runs the listener Seerr's
  webhook posts `MEDIA_AVAILABLE` to (`bot.media.webhook`) for as long as it is loaded (in
  cluster 0 of a sharded bot; any process can send the DMs).
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.domain.library import NotifyTarget
from bot.i18n import _, number, speaking
from bot.media.webhook import SeerrWebhook
from bot.service.gate import ShuttingDown
from bot.service.media import MediaProblem
from cogs.errors import UserError
from cogs.ui.guild import guild_id_of
from cogs.ui.text import NO_PINGS, safe

if TYPE_CHECKING:
    from bot.client import MovieBot

log = logging.getLogger(__name__)

CHECK_EVERY_MINUTES = 1.0  # how often the library's next read is looked for
DM_CLOSED = 50007  # "Cannot send messages to this user"
MAX_NAMED = 10  # movies one DM names


def notice_text(targets: list[NotifyTarget], guild_names: dict[int, str]) -> str:
    """The DM: which watchlisted movies became available, and in which server's watchlist
    (in the current language: `send_notice` speaks the first server's)."""
    lines = [_("Now available on the media server:")]
    for target in targets[:MAX_NAMED]:
        where = guild_names.get(target.guild_id)
        lines.append(f"• **{safe(target.label, 120)}**"
                     + (" " + _("(on your watchlist in {server})").format(
                         server=safe(where, 80)) if where else ""))
    if len(targets) > MAX_NAMED:
        lines.append(_("…and {n} more.").format(n=number(len(targets) - MAX_NAMED)))
    lines.append(_("You get these because you ran `/notify on`; `/notify off` in that server "
                   "stops them."))
    return "\n".join(lines)


class Library(commands.Cog):
    notify = app_commands.Group(name="notify", guild_only=True,
                                description="DMs when a movie on your watchlist becomes "
                                            "available on the media server")
    library = app_commands.Group(name="library", guild_only=True,
                                 description="The media server's library",
                                 default_permissions=discord.Permissions(manage_guild=True))

    def __init__(self, bot: MovieBot) -> None:
        self.bot = bot
        self.webhook: SeerrWebhook | None = None

    async def cog_load(self) -> None:
        services = self.bot.services
        if services is not None:
            services.notify.sender = self.send_notice
        seerr = self.bot.settings.seerr
        # A sharded bot runs several processes on the one config: cluster 0 listens.
        first = self.bot.settings.sharding.cluster_id == 0
        if services is not None and seerr.webhook_port and seerr.webhook_secret and first:
            notify = services.notify

            async def on_available(tmdb: int) -> object:
                return await notify.available([tmdb])

            hook = SeerrWebhook(seerr.webhook_secret, on_available, host=seerr.webhook_host,
                                port=seerr.webhook_port)
            try:
                await hook.start()
            except OSError as error:
                log.error("Seerr webhook off: cannot listen on %s:%s (%s); change [seerr] "
                          "webhook_port", seerr.webhook_host, seerr.webhook_port, error)
            else:
                self.webhook = hook
        elif seerr.webhook_port and not seerr.webhook_secret:
            log.warning("Seerr webhook off: [seerr] webhook_port is set but webhook_secret "
                        "is not (the listener never runs without a secret)")
        self.library_task.start()

    async def cog_unload(self) -> None:
        self.library_task.cancel()
        if self.webhook is not None:
            await self.webhook.close()
            self.webhook = None
        services = self.bot.services
        if services is not None and services.notify.sender == self.send_notice:
            services.notify.sender = None

    # ------------------------------------------------------------------ DMs
    async def send_notice(self, user_id: int, targets: list[NotifyTarget]) -> bool:
        """DM one member; False (quietly) when Discord refuses: closed DMs, unknown user."""
        names = {}
        for target in targets:
            guild = self.bot.get_guild(target.guild_id)
            if guild is not None:
                names[target.guild_id] = guild.name
        language = None  # no interaction here: the (first) server's /settings language
        with contextlib.suppress(Exception):
            language = (await self.bot.app.settings.get(targets[0].guild_id)).language
        with speaking(language):
            text = notice_text(targets, names)
        try:
            user = self.bot.get_user(user_id) or await self.bot.fetch_user(user_id)
            await user.send(text, allowed_mentions=NO_PINGS)
        except discord.Forbidden as error:
            if error.code != DM_CLOSED:
                log.info("a 'now available' DM was refused (%s)", error.code)
            return False
        except discord.NotFound:
            return False
        return True

    # ------------------------------------------------------------------ /notify
    @notify.command(name="on", description="DM me when a movie on my watchlist here becomes "
                                           "available on the media server")
    async def notify_on(self, interaction: discord.Interaction) -> None:
        guild_id = guild_id_of(interaction)
        await self.bot.app.notify.set(guild_id, interaction.user.id, True)
        text = _("I'll DM you when a movie on your watchlist in this server becomes available "
                 "on the media server (once per movie). `/notify off` stops it.")
        app = self.bot.app
        if not app.library.configured and self.webhook is None:
            text += " " + _("Note: this bot has no media server or Seerr webhook set up yet, so "
                            "nothing will arrive until a bot admin sets one.")
        await interaction.response.send_message(text, ephemeral=True,
                                                allowed_mentions=NO_PINGS)

    @notify.command(name="off", description="No more 'now available' DMs from this server")
    async def notify_off(self, interaction: discord.Interaction) -> None:
        guild_id = guild_id_of(interaction)
        await self.bot.app.notify.set(guild_id, interaction.user.id, False)
        await interaction.response.send_message(
            _("Done: no more 'now available' DMs for your watchlist in this server."),
            ephemeral=True, allowed_mentions=NO_PINGS)

    # ------------------------------------------------------------------ /library
    @library.command(name="refresh", description="Read the media server's library now")
    async def refresh(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            read = await self.bot.app.library.refresh(manual=True)
        except MediaProblem as error:
            raise UserError(safe(str(error), 1500)) from None
        await interaction.edit_original_response(
            content=_("Read the library: {summary}.").format(summary=safe(read.text(), 1500)),
            allowed_mentions=NO_PINGS)

    # ------------------------------------------------------------------ periodic read
    @tasks.loop(minutes=CHECK_EVERY_MINUTES)
    async def library_task(self) -> None:
        services = self.bot.services
        if services is None:
            return
        try:
            await services.library.refresh_due()
        except ShuttingDown:
            return
        except Exception:  # keep the loop alive; the next round tries again
            log.exception("periodic library read failed")

    @library_task.before_loop
    async def _before_read(self) -> None:
        await self.bot.wait_until_ready()


async def setup(bot: MovieBot) -> None:
    await bot.add_cog(Library(bot))
