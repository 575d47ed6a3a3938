"""/settings: per-guild options (who may add movies, rating visibility, model tuning).

Needs Manage Server, checked here in the bot (`interaction.permissions`), not only through the
command's default permissions, which a server can override. Values are bounded by the option
ranges (`bot.domain.tuning`, the same the config file accepts) so a guild cannot make the model
unreasonably large or unstable. Each number shows where it comes from: the config default, a
value set here, or (regularisation) the value the last fit chose from this server's ratings;
`reset:` puts a setting (or all of them) back to its default.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.models import GuildSettings
from bot.domain.tuning import FEATURES_RANGE, MIN_RATINGS_RANGE, REGULARIZATION_RANGE
from cogs.text import NO_PINGS

if TYPE_CHECKING:
    from bot.client import MovieBot

ADD_MOVIES_CHOICES = [
    app_commands.Choice(name="Moderators (Manage Server)", value="manage_guild"),
    app_commands.Choice(name="Everyone", value="everyone"),
]
ADD_MOVIES_LABELS = {choice.value: choice.name for choice in ADD_MOVIES_CHOICES}
RESET_CHOICES = [
    app_commands.Choice(name="Everything", value="all"),
    app_commands.Choice(name="Who can add movies", value="add_movie_permission"),
    app_commands.Choice(name="Ratings visible", value="ratings_visible"),
    app_commands.Choice(name="Minimum ratings", value="min_ratings_for_personal"),
    app_commands.Choice(name="Model features", value="features"),
    app_commands.Choice(name="Regularisation", value="regularization"),
]
RESETTABLE = tuple(c.value for c in RESET_CHOICES if c.value != "all")
ORIGINS = {
    "default": "default",
    "set": "set here",
    "auto": "auto-tuned to this server's ratings",
}
MIN_RATINGS_LOW, MIN_RATINGS_HIGH = MIN_RATINGS_RANGE
FEATURES_LOW, FEATURES_HIGH = FEATURES_RANGE
REG_LOW, REG_HIGH = REGULARIZATION_RANGE


def _number(value: float | None, default: float, fmt: str = "{}") -> str:
    if value is None:
        return f"{fmt.format(default)} (default)"
    return f"{fmt.format(value)} (set here)"


def _effective(value: tuple[float, str], fmt: str) -> str:
    number, origin = value
    return f"{fmt.format(number)} ({ORIGINS.get(origin, origin)})"


def settings_embed(bot: MovieBot, current: GuildSettings,
                   title: str = "Server settings",
                   effective: dict[str, tuple[float, str]] | None = None) -> discord.Embed:
    """The guild's settings: each value with where it comes from (default, set here,
    auto-tuned). `effective` is what the model uses now (from the recommendation service)."""
    effective = effective or {}
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
    features = effective.get("features")
    embed.add_field(name="Model features",
                    value=_effective(features, "{:g}") if features is not None
                    else _number(current.features, defaults.features))
    regularization = effective.get("regularization")
    embed.add_field(name="Regularisation",
                    value=_effective(regularization, "{:.3g}") if regularization is not None
                    else _number(current.regularization, defaults.regularization, "{:g}"))
    embed.set_footer(text="reset: puts a setting back to its default")
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
        min_ratings=f"Ratings a member needs before getting personal picks "
                    f"({MIN_RATINGS_LOW}-{MIN_RATINGS_HIGH})",
        features=f"Taste dimensions of the model ({FEATURES_LOW}-{FEATURES_HIGH}; more needs "
                 "more ratings)",
        regularization=f"How strongly the model avoids overfitting ({REG_LOW:g}-{REG_HIGH:g}; "
                       "default: tuned to this server's ratings)",
        reset="Put a setting (or everything) back to its default",
    )
    @app_commands.choices(add_movies=ADD_MOVIES_CHOICES, reset=RESET_CHOICES)
    async def settings(
        self,
        interaction: discord.Interaction,
        add_movies: app_commands.Choice[str] | None = None,
        ratings_visible: bool | None = None,
        min_ratings: app_commands.Range[int, MIN_RATINGS_LOW, MIN_RATINGS_HIGH] | None = None,
        features: app_commands.Range[int, FEATURES_LOW, FEATURES_HIGH] | None = None,
        regularization: app_commands.Range[float, REG_LOW, REG_HIGH] | None = None,
        reset: app_commands.Choice[str] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        names: tuple[str, ...] = ()
        if reset is not None:
            names = RESETTABLE if reset.value == "all" else (reset.value,)
        update = await self.bot.app.settings.update(
            interaction.guild_id, can_manage_guild=interaction.permissions.manage_guild,
            reset=names,
            add_movie_permission=add_movies.value if add_movies is not None else None,
            ratings_visible=ratings_visible, min_ratings_for_personal=min_ratings,
            features=features, regularization=regularization)
        changed = reset is not None or any(
            v is not None for v in (add_movies, ratings_visible, min_ratings, features,
                                    regularization))
        if not changed:
            await interaction.response.send_message(
                embed=settings_embed(self.bot, update.settings, effective=update.effective),
                ephemeral=True, allowed_mentions=NO_PINGS)
            return
        # A model parameter changed: the model is refitted (debounced like a new rating).
        note = ("The recommendation model will be retrained with the new settings shortly."
                if update.retraining else None)
        await interaction.response.send_message(
            content=note, embed=settings_embed(self.bot, update.settings, "Settings updated",
                                               update.effective),
            ephemeral=True, allowed_mentions=NO_PINGS)


async def setup(bot: MovieBot) -> None:
    await bot.add_cog(Settings(bot))
