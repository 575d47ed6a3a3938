"""/settings: per-guild options (who may add movies, rating visibility, model tuning).

Needs Manage Server, checked here in the bot (`interaction.permissions`), not only through the
command's default permissions, which a server can override. Values are bounded by the option
ranges so a guild cannot make the model unreasonably large or unstable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.models import GuildSettings
from cogs.text import NO_PINGS

if TYPE_CHECKING:
    from bot.client import MovieBot

ADD_MOVIES_CHOICES = [
    app_commands.Choice(name="Moderators (Manage Server)", value="manage_guild"),
    app_commands.Choice(name="Everyone", value="everyone"),
]
ADD_MOVIES_LABELS = {choice.value: choice.name for choice in ADD_MOVIES_CHOICES}


def _number(value: float | None, default: float, fmt: str = "{}") -> str:
    if value is None:
        return f"{fmt.format(default)} (default)"
    return fmt.format(value)


def settings_embed(bot: MovieBot, current: GuildSettings,
                   title: str = "Server settings") -> discord.Embed:
    """The guild's settings; None values show the config default."""
    defaults = bot.settings.recommender
    embed = discord.Embed(title=title, colour=discord.Colour.blurple())
    embed.add_field(name="Who can add movies",
                    value=ADD_MOVIES_LABELS.get(current.add_movie_permission,
                                                current.add_movie_permission), inline=False)
    embed.add_field(name="Ratings visible to other members",
                    value="Yes" if current.ratings_visible else "No", inline=False)
    embed.add_field(name="Minimum ratings for personal picks",
                    value=_number(current.min_ratings_for_personal,
                                  defaults.min_ratings_for_personal))
    embed.add_field(name="Model features",
                    value=_number(current.features, defaults.features))
    embed.add_field(name="Regularisation",
                    value=_number(current.regularization, defaults.regularization, "{:g}"))
    return embed


class Settings(commands.Cog):
    def __init__(self, bot: MovieBot) -> None:
        self.bot = bot

    @app_commands.command(name="settings", description="Show or change this server's settings")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.describe(
        add_movies="Who may add movies to this server's list",
        ratings_visible="Whether members can see each other's ratings with /ratings",
        min_ratings="Ratings a member needs before getting personal picks (1-50)",
        features="Taste dimensions of the model (2-50; more needs more ratings)",
        regularization="How strongly the model avoids overfitting (0.01-100)",
    )
    @app_commands.choices(add_movies=ADD_MOVIES_CHOICES)
    async def settings(
        self,
        interaction: discord.Interaction,
        add_movies: app_commands.Choice[str] | None = None,
        ratings_visible: bool | None = None,
        min_ratings: app_commands.Range[int, 1, 50] | None = None,
        features: app_commands.Range[int, 2, 50] | None = None,
        regularization: app_commands.Range[float, 0.01, 100.0] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        update = await self.bot.app.settings.update(
            interaction.guild_id, can_manage_guild=interaction.permissions.manage_guild,
            add_movie_permission=add_movies.value if add_movies is not None else None,
            ratings_visible=ratings_visible, min_ratings_for_personal=min_ratings,
            features=features, regularization=regularization)
        changed = any(v is not None for v in (add_movies, ratings_visible, min_ratings,
                                              features, regularization))
        if not changed:
            await interaction.response.send_message(
                embed=settings_embed(self.bot, update.settings), ephemeral=True,
                allowed_mentions=NO_PINGS)
            return
        # A model parameter changed: the model is refitted (debounced like a new rating).
        note = ("The recommendation model will be retrained with the new settings shortly."
                if update.retraining else None)
        await interaction.response.send_message(
            content=note, embed=settings_embed(self.bot, update.settings, "Settings updated"),
            ephemeral=True, allowed_mentions=NO_PINGS)


async def setup(bot: MovieBot) -> None:
    await bot.add_cog(Settings(bot))
