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

import csv
import io
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.domain.models import NotInterested, RatedMovie, WatchlistEntry
from bot.service.gate import ShuttingDown
from cogs.errors import UserError
from cogs.paginator import OwnedView
from cogs.text import NO_PINGS

if TYPE_CHECKING:
    from bot.client import MovieBot

log = logging.getLogger(__name__)

CONFIRM_TIMEOUT = 60.0  # seconds the /forgetme buttons stay live
CSV_COLUMNS = ("title", "year", "genres", "score", "updated_at")
WATCHLIST_COLUMNS = ("title", "year", "genres", "added_at")
NOT_INTERESTED_COLUMNS = ("title", "year", "genres", "hidden_at")
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """A CSV cell that spreadsheets will not run as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


def ratings_csv(rows: Iterable[RatedMovie]) -> bytes:
    """The member's ratings (RatedMovie rows) as UTF-8 CSV with a header line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        movie = row.movie
        writer.writerow([csv_cell(movie.title), csv_cell(movie.year),
                         csv_cell("|".join(movie.genres)), csv_cell(row.score),
                         csv_cell(row.updated_at.isoformat(timespec="seconds"))])
    return buffer.getvalue().encode("utf-8")


def watchlist_csv(rows: Iterable[WatchlistEntry]) -> bytes:
    """The member's watchlist as UTF-8 CSV with a header line (what /import reads back)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(WATCHLIST_COLUMNS)
    for row in rows:
        movie = row.movie
        writer.writerow([csv_cell(movie.title), csv_cell(movie.year),
                         csv_cell("|".join(movie.genres)),
                         csv_cell(row.added_at.isoformat(timespec="seconds"))])
    return buffer.getvalue().encode("utf-8")


def not_interested_csv(rows: Iterable[NotInterested]) -> bytes:
    """The movies the member hid from their picks, as UTF-8 CSV with a header line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(NOT_INTERESTED_COLUMNS)
    for row in rows:
        movie = row.movie
        writer.writerow([csv_cell(movie.title), csv_cell(movie.year),
                         csv_cell("|".join(movie.genres)),
                         csv_cell(row.since.isoformat(timespec="seconds"))])
    return buffer.getvalue().encode("utf-8")


def _movies(count: int) -> str:
    return f"{count} movie{'s' if count != 1 else ''}"


def _ratings(count: int) -> str:
    return f"{count} rating{'s' if count != 1 else ''}"


class ForgetConfirm(OwnedView):
    """'Delete my ratings' / 'Cancel' for the member who ran /forgetme."""

    def __init__(self, bot: MovieBot, guild_id: int, owner_id: int, *,
                 timeout: float = CONFIRM_TIMEOUT) -> None:
        super().__init__(owner_id, timeout=timeout)
        self.bot = bot
        self.guild_id = guild_id
        self.deleted: int | None = None

    @discord.ui.button(label="Delete my ratings", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.stop()
        self.disable_all()
        self.deleted, watchlisted = await self.bot.app.ratings.forget_all(self.guild_id,
                                                                          self.owner_id)
        text = f"Done: deleted {_ratings(self.deleted)} of yours in this server"
        if watchlisted:
            text += f" and your watchlist ({_movies(watchlisted)})"
        await interaction.response.edit_message(content=text + ".", view=self,
                                                allowed_mentions=NO_PINGS)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.stop()
        self.disable_all()
        await interaction.response.edit_message(
            content="Cancelled: your ratings are unchanged.", view=self,
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
        assert interaction.guild_id is not None
        count = await self.bot.app.ratings.count(interaction.guild_id, interaction.user.id)
        watching = await self.bot.app.watchlist.count(interaction.guild_id,
                                                      interaction.user.id)
        hidden = await self.bot.app.not_interested.count(interaction.guild_id,
                                                         interaction.user.id)
        if count == 0 and watching == 0 and hidden == 0:
            raise UserError("You have no ratings in this server, so there is nothing to "
                            "delete.")
        view = ForgetConfirm(self.bot, interaction.guild_id, interaction.user.id,
                             timeout=CONFIRM_TIMEOUT)
        view.interaction = interaction
        also = f" and your watchlist ({_movies(watching)})" if watching else ""
        if hidden:
            also += f", and the {_movies(hidden)} you marked “Not interested”"
        await interaction.response.send_message(
            f"This deletes all {_ratings(count)} of yours{also} in this server, for good. "
            "Your ratings in other servers are not affected.",
            view=view, ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name="export",
                          description="Get your ratings in this server as a CSV file")
    @app_commands.guild_only()
    async def export(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        rows = await self.bot.app.ratings.export(interaction.guild_id, interaction.user.id)
        watching = await self.bot.app.watchlist.export(interaction.guild_id,
                                                       interaction.user.id)
        hidden = await self.bot.app.not_interested.export(interaction.guild_id,
                                                          interaction.user.id)
        if not rows and not watching and not hidden:
            raise UserError("You have no ratings in this server yet, so there is nothing to "
                            "export.")
        files = []
        parts = []
        if rows:
            files.append(discord.File(io.BytesIO(ratings_csv(rows)),
                                      filename=f"ratings-{interaction.guild_id}.csv"))
            parts.append(f"Your {_ratings(len(rows))} in this server (columns: "
                         f"{', '.join(CSV_COLUMNS)}).")
        if watching:
            files.append(discord.File(io.BytesIO(watchlist_csv(watching)),
                                      filename=f"watchlist-{interaction.guild_id}.csv"))
            parts.append(f"Your watchlist: {_movies(len(watching))}.")
        if hidden:
            files.append(discord.File(io.BytesIO(not_interested_csv(hidden)),
                                      filename=f"not-interested-{interaction.guild_id}.csv"))
            parts.append(f"Not interested: {_movies(len(hidden))}.")
        parts.append("`/import` reads these files back, here or in another server.")
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
