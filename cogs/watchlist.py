"""/watchlist add|remove|show: the movies a member means to watch, in this server.

Everything here is ephemeral: a watchlist is the member's own. Rating a movie takes it off the
watchlist; `/forgetme` empties it and `/export` includes it; movie night ranks up what the
attendees watchlisted. `WatchlistButton` is the "Add to watchlist" select that `/recommend`
and `/similar` results carry.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.models import Movie
from bot.i18n import _, number
from cogs.errors import UserError, report_failure
from cogs.lazy_select import LazySelect
from cogs.ui.budgets import reads_a_lot
from cogs.ui.guild import guild_id_of
from cogs.ui.lookup import MovieParam, bot_of
from cogs.ui.paginator import Paginator
from cogs.ui.text import NO_PINGS, movie_label

if TYPE_CHECKING:
    from bot.client import MovieBot

PAGE_SIZE = 10
PAGE_TIMEOUT = 180.0


def added_text(movie: Movie, added: bool) -> str:
    if added:
        return _("Added **{movie}** to your watchlist.").format(movie=movie_label(movie))
    return _("**{movie}** is already on your watchlist.").format(movie=movie_label(movie))


class WatchlistSelect(LazySelect):
    """"Add to watchlist…": one option per listed movie, for the member who asked."""

    def __init__(self, movies: list[Movie], *, row: int | None = None) -> None:
        options = [discord.SelectOption(label=movie_label(m, 95)[:100], value=str(m.id))
                   for m in movies[:25]]
        super().__init__(placeholder=_("Add to watchlist…"), options=options, row=row)
        self.movies = {m.id: m for m in movies[:25]}

    async def callback(self, interaction: discord.Interaction) -> None:
        guild_id = guild_id_of(interaction)
        movie = self.movies.get(int(self.values[0]))
        if movie is None:
            raise UserError(_("That movie is no longer in this list."))
        added = await bot_of(interaction).app.watchlist.add(guild_id,
                                                            interaction.user.id, movie)
        await interaction.response.send_message(added_text(movie, added), ephemeral=True,
                                                allowed_mentions=NO_PINGS)


class WatchlistView(discord.ui.View):
    """A view holding only the "Add to watchlist" select (for /similar)."""

    def __init__(self, owner_id: int, movies: list[Movie], *,
                 timeout: float = PAGE_TIMEOUT) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id
        self.add_item(WatchlistSelect(movies))

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(
                _("These buttons belong to the member who ran the command; run it yourself "
                  "to get your own."), ephemeral=True, allowed_mentions=NO_PINGS)
            return False
        return True

    async def on_error(self, interaction: discord.Interaction, error: Exception,
                       item: discord.ui.Item) -> None:
        await report_failure(interaction, error)


class Watchlist(commands.Cog):
    watchlist = app_commands.Group(name="watchlist", guild_only=True,
                                   description="Movies you mean to watch, in this server")

    def __init__(self, bot: MovieBot) -> None:
        self.bot = bot

    @watchlist.command(name="add", description="Put a movie on your watchlist")
    @app_commands.describe(movie="The movie to watch later (pick one from the suggestions)")
    async def add(self, interaction: discord.Interaction, movie: MovieParam) -> None:
        guild_id = guild_id_of(interaction)
        added = await self.bot.app.watchlist.add(guild_id, interaction.user.id,
                                                 movie)
        await interaction.response.send_message(added_text(movie, added), ephemeral=True,
                                                allowed_mentions=NO_PINGS)

    @watchlist.command(name="remove", description="Take a movie off your watchlist")
    @app_commands.describe(movie="The movie to take off your watchlist")
    async def remove(self, interaction: discord.Interaction, movie: MovieParam) -> None:
        guild_id = guild_id_of(interaction)
        await self.bot.app.watchlist.remove(guild_id, interaction.user.id, movie)
        await interaction.response.send_message(
            _("Took **{movie}** off your watchlist.").format(movie=movie_label(movie)),
            ephemeral=True,
            allowed_mentions=NO_PINGS)

    @watchlist.command(name="show", description="Show your watchlist (only you see it)")
    @reads_a_lot
    async def show(self, interaction: discord.Interaction) -> None:
        guild_id = guild_id_of(interaction)
        service = self.bot.app.watchlist
        user_id = interaction.user.id
        total = await service.count(guild_id, user_id)
        if total == 0:
            raise UserError(_("Your watchlist is empty. Add movies with `/watchlist add`, the "
                              "\"Add to watchlist\" menu of `/recommend`, or `/import` a "
                              "Letterboxd watchlist.csv."))

        async def render(page: int) -> discord.Embed:
            rows = await service.page(guild_id, user_id, limit=PAGE_SIZE,
                                      offset=page * PAGE_SIZE)
            lines = [f"{page * PAGE_SIZE + i + 1}. {movie_label(row.movie)}"
                     for i, row in enumerate(rows)]
            return discord.Embed(title=_("Your watchlist ({count})").format(count=number(total)),
                                 description="\n".join(lines) or _("Nothing on this page."),
                                 colour=discord.Colour.blurple())

        paginator = Paginator(user_id, render, math.ceil(total / PAGE_SIZE),
                              timeout=PAGE_TIMEOUT)
        await paginator.send(interaction, ephemeral=True)


async def setup(bot: MovieBot) -> None:
    await bot.add_cog(Watchlist(bot))
