"""/settings: per-guild options (who may add movies, rating visibility, model tuning).

Needs Manage Server, checked here in the bot (`interaction.permissions`), not only through the
command's default permissions, which a server can override. Values are bounded by the option
ranges so a guild cannot make the model unreasonably large or unstable.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from cogs.errors import UserError
from cogs.text import NO_PINGS

ADD_MOVIES_CHOICES = [
    app_commands.Choice(name="Moderators (Manage Server)", value="manage_guild"),
    app_commands.Choice(name="Everyone", value="everyone"),
]
MIN_RATINGS_RANGE = (1, 50)
FEATURES_RANGE = (2, 50)
REGULARIZATION_RANGE = (0.01, 100.0)
ADD_MOVIES_LABELS = {choice.value: choice.name for choice in ADD_MOVIES_CHOICES}


def require_manage_guild(interaction: discord.Interaction, action: str) -> None:
    """Raise a UserError unless the member has Manage Server here (`action`: 'change the
    settings', 'add movies', ...)."""
    if not interaction.permissions.manage_guild:
        raise UserError(f"You need the Manage Server permission to {action}.")


def _number(value, default, fmt: str = "{}") -> str:
    if value is None:
        return f"{fmt.format(default)} (default)"
    return fmt.format(value)


def settings_embed(bot, current, title: str = "Server settings") -> discord.Embed:
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
    def __init__(self, bot: commands.Bot) -> None:
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
        require_manage_guild(interaction, "change the server settings")
        # Discord enforces the ranges too, but a client can send anything: check again.
        for name, value, low, high in (("min_ratings", min_ratings, *MIN_RATINGS_RANGE),
                                       ("features", features, *FEATURES_RANGE),
                                       ("regularization", regularization,
                                        *REGULARIZATION_RANGE)):
            if value is not None and not low <= value <= high:
                raise UserError(f"`{name}` must be between {low:g} and {high:g}.")
        storage = self.bot.storage
        guild_id = interaction.guild_id
        changes: dict = {}
        if add_movies is not None:
            changes["add_movie_permission"] = add_movies.value
        if ratings_visible is not None:
            changes["ratings_visible"] = ratings_visible
        if min_ratings is not None:
            changes["min_ratings_for_personal"] = min_ratings
        if features is not None:
            changes["features"] = features
        if regularization is not None:
            changes["regularization"] = float(regularization)
        if not changes:
            current = await storage.get_guild_settings(guild_id)
            await interaction.response.send_message(
                embed=settings_embed(self.bot, current), ephemeral=True,
                allowed_mentions=NO_PINGS)
            return
        try:
            current = await storage.update_guild_settings(guild_id, **changes)
        except ValueError as error:
            raise UserError(f"That setting is not valid: {error}.") from error
        note = None
        if "features" in changes or "regularization" in changes:
            # The model is refitted with the new parameters (debounced like a new rating).
            await self.bot.recommendations.settings_changed(guild_id)
            note = "The recommendation model will be retrained with the new settings shortly."
        await interaction.response.send_message(
            content=note, embed=settings_embed(self.bot, current, "Settings updated"),
            ephemeral=True, allowed_mentions=NO_PINGS)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Settings(bot))
