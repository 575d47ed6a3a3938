"""/ratings [member]: a member's ratings in this server, newest first, 10 per page.

Your own by default; another member's only when the server's `ratings_visible` setting allows.
Your own list also shows the picks you marked "Not interested" (newest first), with a select
that shows one in your picks again (`cogs.ui.not_interested`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.i18n import _, number
from cogs.errors import UserError
from cogs.taste import plain_name
from cogs.ui.budgets import reads_a_lot
from cogs.ui.guild import guild_id_of
from cogs.ui.not_interested import UndoNotInterestedSelect
from cogs.ui.pictures import PicturePaginator
from cogs.ui.text import movie_label, safe, stars

if TYPE_CHECKING:
    from bot.client import MovieBot

PAGE_SIZE = 10
PAGE_TIMEOUT = 180.0  # seconds the page buttons stay live
HIDDEN_SHOWN = 25  # "Not interested" movies listed (and undoable) on /ratings


class Ratings(commands.Cog):
    def __init__(self, bot: MovieBot) -> None:
        self.bot = bot

    @app_commands.command(name="ratings", description="List your ratings (or another "
                                                      "member's) in this server")
    @app_commands.guild_only()
    @reads_a_lot
    @app_commands.describe(member="Whose ratings to show (default: yours)")
    async def ratings(self, interaction: discord.Interaction,
                      member: discord.Member | None = None) -> None:
        guild_id = guild_id_of(interaction)
        own = member is None or member.id == interaction.user.id
        target_id = interaction.user.id if member is None else member.id
        name = "" if own or member is None else safe(member.display_name, 80)
        service = self.bot.app.ratings
        overview = await self.bot.app.ratings_list.overview(
            guild_id, interaction.user.id, target_id, hidden_limit=HIDDEN_SHOWN,
            member_name=_("you") if own or member is None else plain_name(member))
        total, hidden, hidden_count = overview.total, overview.hidden, overview.hidden_count
        if total == 0:
            if own:
                raise UserError(_("You haven't rated any movies in this server yet. Rate one "
                                  "with `/rate` (find titles with `/movies search`, or `/import` "
                                  "your Letterboxd or IMDb history), and it will show up here."))
            raise UserError(_("{member} hasn't rated any movies in this server yet.").format(
                member=name))
        title = (_("Your ratings ({count})").format(count=number(total)) if own
                 else _("{member}'s ratings ({count})").format(member=name, count=number(total)))

        async def render(page: int) -> discord.Embed:
            rows = await service.page(guild_id, interaction.user.id, target_id,
                                      limit=PAGE_SIZE, offset=page * PAGE_SIZE)
            lines = [f"{movie_label(row.movie)} — {stars(row.score)}" for row in rows]
            embed = discord.Embed(title=title[:256],
                                  description="\n".join(lines) or _("No ratings on this page."),
                                  colour=discord.Colour.blurple())
            if hidden:
                names = ", ".join(movie_label(h.movie, 60) for h in hidden[:10])
                more = " " + _("and {n} more").format(n=number(hidden_count - 10)) \
                    if hidden_count > 10 else ""
                embed.add_field(name=_("Not interested ({count})").format(
                                    count=number(hidden_count)),
                                value=(names + more)[:1024], inline=False)
            return embed

        # One picture for the whole list (scores and favourite genres), on every page.
        summary = overview.summary
        paginator = PicturePaginator(interaction.user.id, render, math.ceil(total / PAGE_SIZE),
                                     timeout=PAGE_TIMEOUT, picture=summary)
        if hidden:
            paginator.add_item(UndoNotInterestedSelect([h.movie for h in hidden]))
        await paginator.send(interaction, ephemeral=True)


async def setup(bot: MovieBot) -> None:
    await bot.add_cog(Ratings(bot))
