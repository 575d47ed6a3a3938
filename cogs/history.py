"""/import file:<attachment>: a member brings their ratings (and watchlist) from Letterboxd,
IMDb or this bot's own /export.

The file is checked against Discord's attachment limit and our own cap before it is
downloaded, read whole (a malformed file is one clear line), matched to this server's catalog
and previewed ephemerally: how many rows matched, the first unmatched titles, how many
ratings would change. Confirm writes everything in one transaction and refits once; Cancel
(or the buttons timing out) writes nothing. A member may start a few imports a minute.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.models import ImportCounts
from bot.domain.watchlist import MAX_WATCHLIST
from bot.i18n import N_, _, ngettext, number
from bot.service.imports import MAX_IMPORT_BYTES, ImportPlan
from cogs.errors import UserError
from cogs.ui.guild import guild_id_of
from cogs.ui.paginator import OwnedView
from cogs.ui.text import NO_PINGS, safe

if TYPE_CHECKING:
    from bot.client import MovieBot

log = logging.getLogger(__name__)

CONFIRM_TIMEOUT = 120.0  # seconds the preview's buttons stay live
IMPORT_RATE = (3, 60.0)  # imports a member may start per this many seconds
UNMATCHED_SHOWN = 5


def preview_text(plan: ImportPlan) -> str:
    """The ephemeral preview: what Confirm would write."""
    lines = [f"**{_(plan.kind)}**: " + ngettext(
        "{n} row read, {matched} matched to this server's catalog, {missing} not found.",
        "{n} rows read, {matched} matched to this server's catalog, {missing} not found.",
        plan.rows).format(n=number(plan.rows), matched=number(plan.matched),
                          missing=number(len(plan.unmatched)))]
    if plan.ratings:
        unchanged = len(plan.ratings) - plan.new - plan.overwrites
        text = _("Ratings: {new} new, {overwrites} would overwrite a different score you gave "
                 "here").format(new=number(plan.new), overwrites=number(plan.overwrites))
        if unchanged > 0:
            text += ", " + _("{n} unchanged").format(n=number(unchanged))
        lines.append(text + ".")
    if plan.watchlist:
        fresh = len(plan.watchlist) - plan.already_watchlisted
        text = _("Watchlist: {n} to add").format(n=number(fresh))
        if plan.already_watchlisted:
            text += " " + _("({n} already on it)").format(n=number(plan.already_watchlisted))
        lines.append(text + ".")
        if fresh > plan.watchlist_room:
            lines.append(_("Only {room} of them fit: a watchlist holds {cap} movies.").format(
                room=number(plan.watchlist_room), cap=number(MAX_WATCHLIST)))
    if plan.unmatched:
        shown = ", ".join(safe(name, 80) for name in plan.unmatched[:UNMATCHED_SHOWN])
        more = len(plan.unmatched) - UNMATCHED_SHOWN
        text = _("Not found: {titles}").format(titles=shown)
        if more > 0:
            text += " " + _("and {n} more").format(n=number(more))
        lines.append(text + ".")
    if not plan.ratings and not plan.watchlist:
        lines.append(_("Nothing to import."))
    else:
        lines.append(_("Press **{confirm}** to save this, or **{cancel}**.").format(
            confirm=_("Import"), cancel=_("Cancel")))
    return "\n".join(lines)[:2000]


def done_text(counts: ImportCounts) -> str:
    parts = [ngettext("{n} new rating", "{n} new ratings", counts.added).format(
                 n=number(counts.added)),
             _("{n} changed").format(n=number(counts.changed))]
    if counts.unchanged:
        parts.append(_("{n} unchanged").format(n=number(counts.unchanged)))
    text = _("Imported: {parts}.").format(parts=", ".join(parts))
    if counts.watchlisted:
        text += " " + ngettext("{n} movie added to your watchlist.",
                               "{n} movies added to your watchlist.",
                               counts.watchlisted).format(n=number(counts.watchlisted))
    if counts.watchlist_full:
        text += " " + ngettext("{n} movie left off your watchlist: it holds {cap} at most.",
                               "{n} movies left off your watchlist: it holds {cap} at most.",
                               counts.watchlist_full).format(n=number(counts.watchlist_full),
                                                             cap=number(MAX_WATCHLIST))
    if counts.added or counts.changed:
        text += " " + _("Your `/recommend` picks use them now.")
    return text


class ImportConfirm(OwnedView):
    """Import / Cancel under the preview, for the member who uploaded the file."""

    def __init__(self, bot: MovieBot, plan: ImportPlan, *,
                 timeout: float = CONFIRM_TIMEOUT) -> None:
        super().__init__(plan.user_id, timeout=timeout)
        self.bot = bot
        self.plan = plan
        self.counts: ImportCounts | None = None
        self.confirm.label, self.cancel.label = _("Import"), _("Cancel")

    @discord.ui.button(label=N_("Import"), style=discord.ButtonStyle.primary)
    async def confirm(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.stop()
        self.disable_all()
        self.counts = await self.bot.app.imports.apply(self.plan)
        await interaction.response.edit_message(content=done_text(self.counts), view=self,
                                                allowed_mentions=NO_PINGS)

    @discord.ui.button(label=N_("Cancel"), style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.stop()
        self.disable_all()
        await interaction.response.edit_message(
            content=_("Cancelled: nothing was imported."), view=self, allowed_mentions=NO_PINGS)


def _member_key(interaction: discord.Interaction) -> tuple[int | None, int]:
    return interaction.guild_id, interaction.user.id


class History(commands.Cog):
    """Bringing ratings from elsewhere."""

    def __init__(self, bot: MovieBot) -> None:
        self.bot = bot

    @app_commands.command(name="import", description="Import your ratings or watchlist from "
                                                     "Letterboxd, IMDb or /export")
    @app_commands.guild_only()
    @app_commands.describe(file="Letterboxd ratings.csv, watchlist.csv or export zip; IMDb "
                                "ratings CSV; or this bot's /export file")
    @app_commands.checks.cooldown(*IMPORT_RATE, key=_member_key)
    async def import_(self, interaction: discord.Interaction,
                      file: discord.Attachment) -> None:
        guild_id = guild_id_of(interaction)
        # Discord's attachment_size_limit for this interaction (discord.py >= 2.6), and ours.
        discord_limit = getattr(interaction, "filesize_limit", None) or MAX_IMPORT_BYTES
        limit = min(MAX_IMPORT_BYTES, discord_limit)
        if file.size > limit:
            raise UserError(_("That file is {size} MB; imports take files up to {limit} MB. "
                              "Upload Letterboxd's ratings.csv instead of the whole zip, or "
                              "split the file.").format(
                size=number(file.size / 1_048_576, digits=1),
                limit=number(limit / 1_048_576, digits=0)))
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            data = await file.read()
        except (discord.HTTPException, discord.NotFound):
            raise UserError(_("I could not download that file from Discord; try uploading it "
                              "again.")) from None
        if len(data) > limit:  # the declared size was wrong
            raise UserError(_("That file is over the {limit} MB import limit.").format(
                limit=number(limit / 1_048_576, digits=0)))
        plan = await self.bot.app.imports.preview(guild_id, interaction.user.id,
                                                  file.filename, data)
        log.info("import preview guild=%s user=%s kind=%r rows=%d matched=%d",
                 guild_id, interaction.user.id, plan.kind, plan.rows, plan.matched)
        if not plan.ratings and not plan.watchlist:
            await interaction.edit_original_response(content=preview_text(plan),
                                                     allowed_mentions=NO_PINGS)
            return
        view = ImportConfirm(self.bot, plan)
        view.interaction = interaction
        await interaction.edit_original_response(content=preview_text(plan), view=view,
                                                 allowed_mentions=NO_PINGS)


async def setup(bot: MovieBot) -> None:
    await bot.add_cog(History(bot))
