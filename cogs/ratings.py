"""/ratings [member]: a member's ratings in this server, newest first, 10 per page.

Your own by default; another member's only when the server's `ratings_visible` setting allows.
"""

from __future__ import annotations

import math

import discord
from discord import app_commands
from discord.ext import commands

from cogs.errors import UserError
from cogs.paginator import Paginator
from cogs.text import movie_label, safe, stars

PAGE_SIZE = 10
PAGE_TIMEOUT = 180.0  # seconds the page buttons stay live


class Ratings(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @app_commands.command(name="ratings", description="List your ratings (or another "
                                                      "member's) in this server")
    @app_commands.guild_only()
    @app_commands.describe(member="Whose ratings to show (default: yours)")
    async def ratings(self, interaction: discord.Interaction,
                      member: discord.Member | None = None) -> None:
        storage = self.bot.storage
        guild_id = interaction.guild_id
        own = member is None or member.id == interaction.user.id
        target_id = interaction.user.id if own else member.id
        name = "You" if own else safe(member.display_name, 80)
        if not own:
            settings = await storage.get_guild_settings(guild_id)
            if not settings.ratings_visible:
                raise UserError("This server keeps ratings private: you can only see your own "
                                "with `/ratings`.")
        total = await storage.count_member_ratings(guild_id, target_id)
        if total == 0:
            if own:
                raise UserError("You haven't rated any movies in this server yet. Rate one "
                                "with `/rate`, and it will show up here.")
            raise UserError(f"{name} hasn't rated any movies in this server yet.")
        title = (f"Your ratings ({total})" if own
                 else f"{name}'s ratings ({total})")

        async def render(page: int) -> discord.Embed:
            rows = await storage.member_ratings(guild_id, target_id, limit=PAGE_SIZE,
                                                offset=page * PAGE_SIZE)
            lines = [f"{movie_label(row.movie)} — {stars(row.score)}" for row in rows]
            return discord.Embed(title=title[:256],
                                 description="\n".join(lines) or "No ratings on this page.",
                                 colour=discord.Colour.blurple())

        paginator = Paginator(interaction.user.id, render, math.ceil(total / PAGE_SIZE),
                              timeout=PAGE_TIMEOUT)
        await paginator.send(interaction, ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Ratings(bot))
