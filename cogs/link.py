"""/link and /unlink: a member links their Jellyfin, Plex, Trakt or Letterboxd account in this
server, so what they watched there is never recommended back and their ratings there count
(`bot.service.media`, issue 25).

* `/link jellyfin user:` and `/link plex user:` offer the users the admin's server lists
  (autocomplete); only a listed user can be linked.
* `/link trakt` shows a code and https://trakt.tv/activate; the bot waits in the background
  for the member to approve it, then says so in a follow-up.
* `/link letterboxd username:` reads the member's public RSS feed (no login).
* `/link status` lists the member's links, their last sync and what it imported.
* `/unlink service:` removes a link, its synced history and the ratings it brought (a Trakt
  token is revoked).

Every answer is ephemeral: links are the member's own. A big history's first sync edits the
reply with a progress line (`cogs.ui.progress`) before its summary. A service the admin did
not configure answers what the admin must set. Linked accounts sync again every
`[media] sync_hours` (`sync_task`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.i18n import _, ngettext, number
from bot.media.models import SERVICE_NAMES
from bot.service.gate import ShuttingDown
from bot.service.media import LinkStatus, MediaProblem, SyncSummary
from cogs.errors import UserError
from cogs.ui.budgets import may_autocomplete
from cogs.ui.guild import guild_id_of
from cogs.ui.progress import ProgressLine
from cogs.ui.text import NO_PINGS, safe

if TYPE_CHECKING:
    from bot.client import MovieBot

log = logging.getLogger(__name__)

SYNC_EVERY_MINUTES = 5.0  # how often due links are looked for

SERVICE_CHOICES = [app_commands.Choice(name=SERVICE_NAMES[s], value=s)
                   for s in ("jellyfin", "plex", "trakt", "letterboxd")]


def _when(epoch: float | None) -> str:
    return f"<t:{int(epoch)}:R>" if epoch else _("never")


def status_lines(found: list[LinkStatus]) -> list[str]:
    lines = []
    for item in found:
        name = SERVICE_NAMES[item.service]
        if item.account_name is not None:
            line = f"**{name}**: " + _("linked as **{account}**").format(
                account=safe(item.account_name, 80))
            if item.summary:
                line += "; " + _("last sync {when}: {summary}").format(
                    when=_when(item.synced_at), summary=safe(item.summary, 300))
            if item.next_sync_at:
                line += "; " + _("next {when}").format(when=_when(item.next_sync_at))
        elif item.pending:
            line = f"**{name}**: " + _("waiting for you to approve the code `/link trakt` "
                                       "showed")
        elif not item.configured:
            line = f"**{name}**: " + _("not set up on this bot (a bot admin can add it)")
        else:
            option = {"jellyfin": " user:", "plex": " user:", "letterboxd": " username:"}
            line = f"**{name}**: " + _("not linked ({command})").format(
                command=f"`/link {item.service}{option.get(item.service, '')}`")
        lines.append(line)
    return lines


def linked_text(service: str, account: str, summary: SyncSummary | None,
                problem: str) -> str:
    head = _("Linked {service} account **{account}**").format(
        service=SERVICE_NAMES[service], account=safe(account, 80))
    if summary is None:
        return _("{head}, but the first sync failed ({problem}); it is tried again later. "
                 "`/link status` shows how it went.").format(head=head,
                                                             problem=safe(problem, 300))
    text = f"{head}: {safe(summary.text(), 300)}."
    if summary.unmatched:
        named = ", ".join(safe(t, 60) for t in summary.unmatched[:5])
        more = len(summary.unmatched) - 5
        text += "\n" + _("Not in this server's catalog: {titles}").format(titles=named) + (
            " " + _("and {n} more").format(n=number(more)) if more > 0 else "") + "."
        if not summary.tmdb:
            text += " " + _("With a TMDB key (`[tmdb] api_key`, set by a bot admin) they "
                            "would be added to it from TMDB.")
    return text + "\n" + _("Movies you watched there are no longer recommended to you and "
                           "shape your picks; it syncs again every few hours.")


def _progress(interaction: discord.Interaction, service: str) -> ProgressLine:
    """A progress line on the interaction's (deferred, ephemeral) reply."""
    async def edit(text: str) -> None:
        await interaction.edit_original_response(content=text, allowed_mentions=NO_PINGS)

    return ProgressLine(service, edit)


class Link(commands.Cog):
    link = app_commands.Group(name="link", guild_only=True,
                              description="Link your media server or tracking accounts")

    def __init__(self, bot: MovieBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.sync_task.start()

    async def cog_unload(self) -> None:
        self.sync_task.cancel()

    # ------------------------------------------------------------------ autocomplete
    async def _accounts(self, interaction: discord.Interaction, service: str,
                        current: str) -> list[app_commands.Choice[str]]:
        if not may_autocomplete(interaction):
            return []
        found = await self.bot.app.media.suggest(service, current)
        return [app_commands.Choice(name=a.name[:100], value=a.id[:100]) for a in found]

    async def _jellyfin_users(self, interaction: discord.Interaction,
                              current: str) -> list[app_commands.Choice[str]]:
        return await self._accounts(interaction, "jellyfin", current)

    async def _plex_users(self, interaction: discord.Interaction,
                          current: str) -> list[app_commands.Choice[str]]:
        return await self._accounts(interaction, "plex", current)

    # ------------------------------------------------------------------ commands
    async def _link_listed(self, interaction: discord.Interaction, service: str,
                           user: str) -> None:
        guild_id = guild_id_of(interaction)
        media = self.bot.app.media
        try:
            media.require(service)
        except MediaProblem as error:
            raise UserError(safe(str(error), 1900)) from None
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            link, summary, problem = await media.link_listed(
                guild_id, interaction.user.id, service, user, _progress(interaction, service))
        except MediaProblem as error:
            raise UserError(safe(str(error), 1900)) from None
        await interaction.edit_original_response(
            content=linked_text(service, link.account_name, summary, problem),
            allowed_mentions=NO_PINGS)

    @link.command(name="jellyfin", description="Link your user on this server's Jellyfin")
    @app_commands.describe(user="Your Jellyfin user (pick one from the suggestions)")
    @app_commands.autocomplete(user=_jellyfin_users)
    async def jellyfin(self, interaction: discord.Interaction,
                       user: app_commands.Range[str, 1, 100]) -> None:
        await self._link_listed(interaction, "jellyfin", user)

    @link.command(name="plex", description="Link your account on this server's Plex")
    @app_commands.describe(user="Your Plex account (pick one from the suggestions)")
    @app_commands.autocomplete(user=_plex_users)
    async def plex(self, interaction: discord.Interaction,
                   user: app_commands.Range[str, 1, 100]) -> None:
        await self._link_listed(interaction, "plex", user)

    @link.command(name="trakt", description="Link your Trakt account (you approve it on trakt.tv)")
    async def trakt(self, interaction: discord.Interaction) -> None:
        guild_id = guild_id_of(interaction)
        media = self.bot.app.media
        try:
            media.require("trakt")
        except MediaProblem as error:
            raise UserError(safe(str(error), 1900)) from None
        await interaction.response.defer(ephemeral=True, thinking=True)
        line = _progress(interaction, "trakt")

        async def report(account: str | None, summary: SyncSummary | None,
                         problem: str) -> None:
            text = (linked_text("trakt", account, summary, problem) if account is not None
                    else safe(problem, 1900))
            if line.shown:  # the code's message shows a progress line: it ends with this
                await interaction.edit_original_response(content=text,
                                                         allowed_mentions=NO_PINGS)
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)

        try:
            code = await media.begin_trakt(guild_id, interaction.user.id, report, line)
        except MediaProblem as error:
            raise UserError(safe(str(error), 1900)) from None
        minutes = max(1, code.expires_in // 60)
        await interaction.edit_original_response(
            content=ngettext(
                "Open {url} and enter the code **`{code}`** (within {n} minute). I'll tell you "
                "here when Trakt says yes.",
                "Open {url} and enter the code **`{code}`** (within {n} minutes). I'll tell you "
                "here when Trakt says yes.", minutes).format(
                url=code.verification_url, code=code.user_code, n=minutes),
            allowed_mentions=NO_PINGS)

    @link.command(name="letterboxd", description="Link your public Letterboxd diary (RSS)")
    @app_commands.describe(username="Your Letterboxd username (as in letterboxd.com/username)")
    async def letterboxd(self, interaction: discord.Interaction,
                         username: app_commands.Range[str, 1, 40]) -> None:
        guild_id = guild_id_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            link, summary, problem = await self.bot.app.media.link_letterboxd(
                guild_id, interaction.user.id, username, _progress(interaction, "letterboxd"))
        except MediaProblem as error:
            raise UserError(safe(str(error), 1900)) from None
        await interaction.edit_original_response(
            content=linked_text("letterboxd", link.account_name, summary, problem),
            allowed_mentions=NO_PINGS)

    @link.command(name="status", description="Show your linked accounts and their last sync")
    async def status(self, interaction: discord.Interaction) -> None:
        guild_id = guild_id_of(interaction)
        found = await self.bot.app.media.status(guild_id, interaction.user.id)
        lines = status_lines(found)
        if not any(item.account_name for item in found):
            lines.append("\n" + _("What you watched on a linked account is never recommended "
                                  "back, and your ratings there count (your own `/rate` always "
                                  "wins)."))
        await interaction.response.send_message("\n".join(lines)[:1900], ephemeral=True,
                                                allowed_mentions=NO_PINGS)

    @app_commands.command(name="unlink",
                          description="Unlink an account and forget its synced history here")
    @app_commands.describe(service="The service to unlink")
    @app_commands.choices(service=SERVICE_CHOICES)
    @app_commands.guild_only()
    async def unlink(self, interaction: discord.Interaction,
                     service: app_commands.Choice[str]) -> None:
        guild_id = guild_id_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        gone = await self.bot.app.media.unlink(guild_id, interaction.user.id,
                                               service.value)
        name = SERVICE_NAMES[service.value]
        if gone is None:
            raise UserError(_("You have no {service} account linked in this server.").format(
                service=name))
        text = _("Unlinked {service} account **{account}**: its synced history is deleted "
                 "here").format(service=name, account=safe(gone.account_name, 80))
        if gone.ratings_removed:
            text += ", " + ngettext("with the {n} rating it brought",
                                    "with the {n} ratings it brought",
                                    gone.ratings_removed).format(
                n=number(gone.ratings_removed))
        text += "."
        if gone.revoked is True:
            text += " " + _("The bot's access token was revoked at Trakt.")
        elif gone.revoked is False:
            text += " " + _("Trakt could not be told to revoke the token now; it expires within "
                            "24 hours (or revoke it at trakt.tv/oauth/authorized_applications).")
        await interaction.edit_original_response(content=text, allowed_mentions=NO_PINGS)

    # ------------------------------------------------------------------ periodic sync
    @tasks.loop(minutes=SYNC_EVERY_MINUTES)
    async def sync_task(self) -> None:
        services = self.bot.services
        if services is None:
            return
        try:
            await services.media.sync_due()
        except ShuttingDown:
            return
        except Exception:  # keep the loop alive; the next round tries again
            log.exception("periodic media sync failed")

    @sync_task.before_loop
    async def _before_sync(self) -> None:
        await self.bot.wait_until_ready()


async def setup(bot: MovieBot) -> None:
    await bot.add_cog(Link(bot))
