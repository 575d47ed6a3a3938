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


def _n(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def preview_text(plan: ImportPlan) -> str:
    """The ephemeral preview: what Confirm would write."""
    lines = [f"**{plan.kind}**: {_n(plan.rows, 'row')} read, {plan.matched:,} matched to "
             f"this server's catalog, {len(plan.unmatched):,} not found."]
    if plan.ratings:
        lines.append(f"Ratings: {plan.new:,} new, {plan.overwrites:,} would overwrite a "
                     "different score you gave here"
                     + (f", {len(plan.ratings) - plan.new - plan.overwrites:,} unchanged."
                        if len(plan.ratings) > plan.new + plan.overwrites else "."))
    if plan.watchlist:
        fresh = len(plan.watchlist) - plan.already_watchlisted
        lines.append(f"Watchlist: {fresh:,} to add"
                     + (f" ({plan.already_watchlisted:,} already on it)."
                        if plan.already_watchlisted else "."))
        if fresh > plan.watchlist_room:
            lines.append(f"Only {plan.watchlist_room:,} of them fit: a watchlist holds "
                         f"{MAX_WATCHLIST:,} movies.")
    if plan.unmatched:
        shown = ", ".join(safe(name, 80) for name in plan.unmatched[:UNMATCHED_SHOWN])
        more = len(plan.unmatched) - UNMATCHED_SHOWN
        lines.append(f"Not found: {shown}" + (f" and {more:,} more." if more > 0 else "."))
    if not plan.ratings and not plan.watchlist:
        lines.append("Nothing to import.")
    else:
        lines.append("Press **Import** to save this, or **Cancel**.")
    return "\n".join(lines)[:2000]


def done_text(counts: ImportCounts) -> str:
    parts = [f"{counts.added:,} new rating{'s' if counts.added != 1 else ''}",
             f"{counts.changed:,} changed"]
    if counts.unchanged:
        parts.append(f"{counts.unchanged:,} unchanged")
    text = "Imported: " + ", ".join(parts) + "."
    if counts.watchlisted:
        text += f" {_n(counts.watchlisted, 'movie')} added to your watchlist."
    if counts.watchlist_full:
        text += (f" {_n(counts.watchlist_full, 'movie')} left off your watchlist: it holds "
                 f"{MAX_WATCHLIST:,} at most.")
    if counts.added or counts.changed:
        text += " Your `/recommend` picks use them now."
    return text


class ImportConfirm(OwnedView):
    """Import / Cancel under the preview, for the member who uploaded the file."""

    def __init__(self, bot: MovieBot, plan: ImportPlan, *,
                 timeout: float = CONFIRM_TIMEOUT) -> None:
        super().__init__(plan.user_id, timeout=timeout)
        self.bot = bot
        self.plan = plan
        self.counts: ImportCounts | None = None

    @discord.ui.button(label="Import", style=discord.ButtonStyle.primary)
    async def confirm(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.stop()
        self.disable_all()
        self.counts = await self.bot.app.imports.apply(self.plan)
        await interaction.response.edit_message(content=done_text(self.counts), view=self,
                                                allowed_mentions=NO_PINGS)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.stop()
        self.disable_all()
        await interaction.response.edit_message(
            content="Cancelled: nothing was imported.", view=self, allowed_mentions=NO_PINGS)


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
            raise UserError(f"That file is {file.size / 1_048_576:.1f} MB; imports take files "
                            f"up to {limit / 1_048_576:.0f} MB. Upload Letterboxd's "
                            "ratings.csv instead of the whole zip, or split the file.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            data = await file.read()
        except (discord.HTTPException, discord.NotFound):
            raise UserError("I could not download that file from Discord; try uploading it "
                            "again.") from None
        if len(data) > limit:  # the declared size was wrong
            raise UserError(f"That file is over the {limit / 1_048_576:.0f} MB import limit.")
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
