"""Privacy: /forgetme and /export for members, and the guild lifecycle for the host.

* `/forgetme` deletes all of the member's ratings, their watchlist and the picks they marked
  "Not interested" in this server after a confirmation button.
* `/export` sends the member their ratings, their watchlist (CSV files `/import` reads back) and
  their "Not interested" list in this server, ephemerally.
* When the bot is removed from a server, the server is marked as left; its data is purged after
  `privacy.purge_grace_days` by an hourly task (or at once with `python -m bot purge`). Joining
  again before then cancels the purge.
"""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.i18n import N_, _, ngettext, number
from bot.service.exports import CSV_COLUMNS
from bot.service.gate import ShuttingDown
from cogs.errors import UserError
from cogs.ui.guild import guild_id_of
from cogs.ui.paginator import OwnedView
from cogs.ui.text import NO_PINGS

if TYPE_CHECKING:
    from bot.client import MovieBot

log = logging.getLogger(__name__)

CONFIRM_TIMEOUT = 60.0  # seconds the /forgetme buttons stay live
# How /forgetme's prompt names each kind of member data after the ratings; a kind registered
# later without a phrase here is still named (`_also`).
_ALSO = {
    "watchlist": lambda n: " " + _("and your watchlist ({movies})").format(movies=_movies(n)),
    "not_interested": lambda n: ", " + _("and the {movies} you marked “Not interested”").format(
        movies=_movies(n)),
    "media": lambda n: ", " + _("and your {accounts} (/link) with the history synced from "
                                "them").format(accounts=_accounts(n)),
}
# How /export's message describes each file.
_EXPORTED = {
    "ratings": lambda n: _("Your {ratings} in this server (columns: {columns}).").format(
        ratings=_ratings(n), columns=", ".join(CSV_COLUMNS)),
    "watchlist": lambda n: _("Your watchlist: {movies}.").format(movies=_movies(n)),
    "not-interested": lambda n: _("Not interested: {movies}.").format(movies=_movies(n)),
    "linked-accounts": lambda n: _("Your linked accounts and the history synced from them "
                                   "(never a token; `/link` syncs it again)."),
}


def _movies(count: int) -> str:
    return ngettext("{n} movie", "{n} movies", count).format(n=number(count))


def _accounts(count: int) -> str:
    return ngettext("{n} linked account", "{n} linked accounts", count).format(
        n=number(count))


def _ratings(count: int) -> str:
    return ngettext("{n} rating", "{n} ratings", count).format(n=number(count))


def _also(kind: str, count: int) -> str:
    if kind in _ALSO:
        return _ALSO[kind](count)
    return ", " + _("and your {kind} ({count})").format(kind=kind.replace("_", " "),
                                                         count=number(count))


class ForgetConfirm(OwnedView):
    """'Delete my ratings' / 'Cancel' for the member who ran /forgetme."""

    def __init__(self, bot: MovieBot, guild_id: int, owner_id: int, *,
                 timeout: float = CONFIRM_TIMEOUT) -> None:
        super().__init__(owner_id, timeout=timeout)
        self.bot = bot
        self.guild_id = guild_id
        self.deleted: int | None = None
        self.links = 0  # linked media accounts the prompt named
        self.confirm.label, self.cancel.label = _("Delete my ratings"), _("Cancel")

    @discord.ui.button(label=N_("Delete my ratings"), style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.stop()
        self.disable_all()
        deleted = await self.bot.app.member_data.forget(self.guild_id, self.owner_id)
        self.deleted = deleted.get("ratings", 0)
        watchlisted = deleted.get("watchlist", 0)
        text = _("Done: deleted {ratings} of yours in this server").format(
            ratings=_ratings(self.deleted))
        if watchlisted:
            text += " " + _("and your watchlist ({movies})").format(movies=_movies(watchlisted))
        if self.links:
            text += ", " + _("unlinked {accounts} and deleted the history synced from "
                             "them").format(accounts=_accounts(self.links))
        await interaction.response.edit_message(content=text + ".", view=self,
                                                allowed_mentions=NO_PINGS)

    @discord.ui.button(label=N_("Cancel"), style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.stop()
        self.disable_all()
        await interaction.response.edit_message(
            content=_("Cancelled: your ratings are unchanged."), view=self,
            allowed_mentions=NO_PINGS)


class Privacy(commands.Cog):
    def __init__(self, bot: MovieBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.purge_task.start()

    async def cog_unload(self) -> None:
        self.purge_task.cancel()

    # --------------------------------------------------------------- commands
    @app_commands.command(name="forgetme",
                          description="Delete all your ratings in this server (asks first)")
    @app_commands.guild_only()
    async def forgetme(self, interaction: discord.Interaction) -> None:
        guild_id = guild_id_of(interaction)
        counts = await self.bot.app.member_data.counts(guild_id,
                                                       interaction.user.id)
        if not any(counts.values()):
            raise UserError(_("You have no ratings in this server, so there is nothing to "
                              "delete."))
        view = ForgetConfirm(self.bot, guild_id, interaction.user.id,
                             timeout=CONFIRM_TIMEOUT)
        view.interaction = interaction
        view.links = counts.get("media", 0)
        also = "".join(_also(kind, count) for kind, count in counts.items()
                       if kind != "ratings" and count)
        await interaction.response.send_message(
            _("This deletes all {ratings} of yours{also} in this server, for good. Your "
              "ratings in other servers are not affected.").format(
                ratings=_ratings(counts.get("ratings", 0)), also=also),
            view=view, ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name="export",
                          description="Get your ratings in this server as a CSV file")
    @app_commands.guild_only()
    async def export(self, interaction: discord.Interaction) -> None:
        guild_id = guild_id_of(interaction)
        exports = await self.bot.app.member_data.export(guild_id,
                                                        interaction.user.id)
        if not exports:
            raise UserError(_("You have no ratings in this server yet, so there is nothing "
                              "to export."))
        files = [discord.File(io.BytesIO(item.content),
                              filename=f"{item.name}-{guild_id}.csv")
                 for item in exports]
        parts = [_EXPORTED[item.name](item.rows) if item.name in _EXPORTED
                 else f"{item.name.replace('-', ' ').capitalize()}: {item.rows}."
                 for item in exports]
        if any(item.name != "linked-accounts" for item in exports):
            parts.append(_("`/import` reads these files back, here or in another server."))
        await interaction.response.send_message(
            " ".join(parts), files=files, ephemeral=True, allowed_mentions=NO_PINGS)

    # -------------------------------------------------------- guild lifecycle
    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        if self.bot.services is not None:
            await self.bot.services.guilds.left(guild.id)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        if self.bot.services is not None:
            await self.bot.services.guilds.joined(guild.id, guild.name, guild.member_count)

    @commands.Cog.listener()
    async def on_guild_update(self, before: discord.Guild, after: discord.Guild) -> None:
        if self.bot.services is not None and before.name != after.name:
            await self.bot.services.guilds.renamed(after.id, after.name, after.member_count)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        # Joins and removals while the bot was offline send no event: reconcile here.
        if self.bot.services is not None:
            guilds = list(self.bot.guilds)
            await self.bot.services.guilds.reconcile(
                (guild.id for guild in guilds),
                [(guild.id, guild.name, guild.member_count) for guild in guilds])

    @tasks.loop(hours=1)
    async def purge_task(self) -> None:
        await self.purge_now()

    @purge_task.before_loop
    async def _before_purge(self) -> None:
        await self.bot.wait_until_ready()

    async def purge_now(self) -> list[int]:
        """Purge guilds past the grace period and drop their cached models."""
        services = self.bot.services
        if services is None:
            return []
        try:
            return await services.guilds.purge_departed(keep=[g.id for g in self.bot.guilds])
        except ShuttingDown:
            return []
        except Exception:  # keep the hourly loop alive; try again next hour
            log.exception("purging departed guilds failed")
            return []


async def setup(bot: MovieBot) -> None:
    await bot.add_cog(Privacy(bot))
