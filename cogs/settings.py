"""/settings: per-guild options (who may add movies, rating visibility, model tuning, the
server's timezone, region and streaming services, the movie-night reminder).

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

from bot.domain.guild_settings import GUILD_SETTINGS, SETTINGS, GuildSetting
from bot.domain.models import GuildSettings
from bot.domain.places import matching_timezones
from bot.i18n import N_, _, number
from cogs.ui.guild import guild_id_of
from cogs.ui.text import NO_PINGS, safe

if TYPE_CHECKING:
    from bot.client import MovieBot

# Options, choices, ranges and labels come from the declarations (bot.domain.guild_settings).
# (Choice names as `locale_str`: Discord shows each member them in their language.)
ADD_MOVIES_CHOICES = [app_commands.Choice(name=app_commands.locale_str(label), value=value)
                      for value, label in SETTINGS["add_movie_permission"].choices]
# Languages by their own names ("Deutsch"), the same in every language.
LANGUAGE_CHOICES = [app_commands.Choice(name=label, value=value)
                    for value, label in SETTINGS["language"].choices]
RESET_CHOICES = [
    app_commands.Choice(name=app_commands.locale_str("Everything"), value="all"),
    *(app_commands.Choice(name=app_commands.locale_str(setting.short), value=setting.name)
      for setting in GUILD_SETTINGS),
]
RESETTABLE = tuple(setting.name for setting in GUILD_SETTINGS)
ORIGINS = {
    "default": N_("default"),
    "set": N_("set here"),
    "auto": N_("auto-tuned to this server's ratings"),
}


def _bounds(name: str) -> tuple[float, float]:
    bounds = SETTINGS[name].bounds
    assert bounds is not None, name
    return bounds


MIN_RATINGS_LOW, MIN_RATINGS_HIGH = map(int, _bounds("min_ratings_for_personal"))
FEATURES_LOW, FEATURES_HIGH = map(int, _bounds("features"))
REG_LOW, REG_HIGH = _bounds("regularization")
REMINDER_LOW, REMINDER_HIGH = map(int, _bounds("reminder_minutes"))
# How a number is shown: as set here or by default, and as the model uses it now.
_FORMATS = {"regularization": ("{:g}", "{:.3g}")}


def _localised(fmt: str, value: float) -> str:
    """`value` formatted by `fmt` ("{:g}", "{:.3g}"), in the language's number format."""
    return number(float(fmt.format(value))) if fmt != "{}" else number(value)


def _number(value: float | None, default: float, fmt: str = "{}") -> str:
    if value is None:
        return _("{value} (default)").format(value=_localised(fmt, default))
    return _("{value} (set here)").format(value=_localised(fmt, value))


def _effective(value: tuple[float, str], fmt: str) -> str:
    shown, origin = value
    return f"{_localised(fmt, shown)} ({_(ORIGINS[origin]) if origin in ORIGINS else origin})"


def _shown(bot: MovieBot, setting: GuildSetting, current: GuildSettings,
           effective: dict[str, tuple[float, str]]) -> str:
    value = getattr(current, setting.name)
    if setting.parse is not None:
        return safe(value, 1000) if value else _(setting.unset).capitalize()
    if setting.name == "language":  # a language's own name
        return dict(setting.choices).get(value, value)
    if setting.choices:
        return _(dict(setting.choices)[value]) if value in dict(setting.choices) else value
    if setting.kind is bool:
        return _("Yes") if value else _("No")
    fmt, effective_fmt = _FORMATS.get(setting.name, ("{}", "{:g}"))
    if setting.name in effective:
        return _effective(effective[setting.name], effective_fmt)
    default = getattr(bot.settings.recommender, setting.name) if setting.default is None \
        else setting.default
    if setting.default is not None:
        return (_("{value} (default)") if value == setting.default
                else _("{value} (set here)")).format(value=value)
    return _number(value, default, fmt)


def settings_embed(bot: MovieBot, current: GuildSettings,
                   title: str | None = None,
                   effective: dict[str, tuple[float, str]] | None = None) -> discord.Embed:
    """The guild's settings: each value with where it comes from (default, set here,
    auto-tuned). `effective` is what the model uses now (from the recommendation service)."""
    effective = effective or {}
    embed = discord.Embed(title=title or _("Server settings"), colour=discord.Colour.blurple())
    for setting in GUILD_SETTINGS:
        embed.add_field(name=_(setting.label), value=_shown(bot, setting, current, effective),
                        inline=setting.kind in (int, float))
    embed.set_footer(text=_("reset: puts a setting back to its default"))
    return embed


class Settings(commands.Cog):
    def __init__(self, bot: MovieBot) -> None:
        self.bot = bot

    @app_commands.command(name="settings", description="Show or change this server's settings")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.describe(
        **{setting.option: setting.help for setting in GUILD_SETTINGS},
        reset="Put a setting (or everything) back to its default",
    )
    @app_commands.choices(add_movies=ADD_MOVIES_CHOICES, language=LANGUAGE_CHOICES,
                          reset=RESET_CHOICES)
    async def settings(
        self,
        interaction: discord.Interaction,
        add_movies: app_commands.Choice[str] | None = None,
        ratings_visible: bool | None = None,
        min_ratings: app_commands.Range[int, MIN_RATINGS_LOW, MIN_RATINGS_HIGH] | None = None,
        features: app_commands.Range[int, FEATURES_LOW, FEATURES_HIGH] | None = None,
        regularization: app_commands.Range[float, REG_LOW, REG_HIGH] | None = None,
        timezone: app_commands.Range[str, 0, 64] | None = None,
        region: app_commands.Range[str, 0, 2] | None = None,
        services: app_commands.Range[str, 0, 900] | None = None,
        reminder_minutes: app_commands.Range[int, REMINDER_LOW, REMINDER_HIGH] | None = None,
        language: app_commands.Choice[str] | None = None,
        reset: app_commands.Choice[str] | None = None,
    ) -> None:
        guild_id = guild_id_of(interaction)
        names: tuple[str, ...] = ()
        if reset is not None:
            names = RESETTABLE if reset.value == "all" else (reset.value,)
        update = await self.bot.app.settings.update(
            guild_id, can_manage_guild=interaction.permissions.manage_guild,
            reset=names,
            add_movie_permission=add_movies.value if add_movies is not None else None,
            ratings_visible=ratings_visible, min_ratings_for_personal=min_ratings,
            features=features, regularization=regularization, timezone=timezone,
            region=region, services=services, reminder_minutes=reminder_minutes,
            language=language.value if language is not None else None)
        self.bot.languages.remember(guild_id, update.settings.language)
        changed = reset is not None or any(
            v is not None for v in (add_movies, ratings_visible, min_ratings, features,
                                    regularization, timezone, region, services,
                                    reminder_minutes, language))
        if not changed:
            await interaction.response.send_message(
                embed=settings_embed(self.bot, update.settings, effective=update.effective),
                ephemeral=True, allowed_mentions=NO_PINGS)
            return
        # A model parameter changed: the model is refitted (debounced like a new rating).
        note = (_("The recommendation model will be retrained with the new settings shortly.")
                if update.retraining else None)
        await interaction.response.send_message(
            content=note, embed=settings_embed(self.bot, update.settings, _("Settings updated"),
                                               update.effective),
            ephemeral=True, allowed_mentions=NO_PINGS)


    @settings.autocomplete("timezone")
    async def timezone_choices(self, interaction: discord.Interaction,
                               current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=name, value=name)
                for name in matching_timezones(current)]


async def setup(bot: MovieBot) -> None:
    await bot.add_cog(Settings(bot))
