"""Guild settings, declared once: name, type, default, bounds, help.

`GUILD_SETTINGS` is what every other place reads: `/settings` (its options' descriptions,
choices and ranges, the reset choices and the embed's labels; `cogs.settings`), the checks of
the settings service and of storage (`check_changes`: one validator, member-facing messages),
the stored row (`settings_from_row`) and the docs (`settings_table`: the markdown table for the
README). A new setting is one entry here, its `GuildSettings` field and its column (a
migration), and its `/settings` parameter.

Numbers whose `default` is None follow the config file's `[recommender]` value of the same
name until a server sets them (`reset:` puts that back); their bounds are the config's
(`bot.domain.tuning`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.domain.errors import DomainError
from bot.domain.models import GuildSettings
from bot.domain.places import region_code, service_names, timezone_name
from bot.domain.tuning import FEATURES_RANGE, MIN_RATINGS_RANGE, REGULARIZATION_RANGE
from bot.i18n import N_, _
from bot.i18n.catalogs import language_names


@dataclass(frozen=True, slots=True)
class GuildSetting:
    """One per-guild setting."""

    name: str  # the GuildSettings field and guild_settings column
    kind: type  # bool, int, float or str
    default: Any  # what `reset:` puts back; None: the config's [recommender] value
    label: str  # how /settings shows it
    short: str  # its name among the reset: choices
    help: str  # the /settings option's description (and the docs)
    option: str  # the /settings option
    bounds: tuple[float, float] | None = None  # numbers: inclusive
    choices: tuple[tuple[str, str], ...] = ()  # text: (value, label)
    refits: bool = False  # a change refits the guild's model
    invalid: str = ""  # text: the message for a value not among the choices
    parse: Callable[[str], str] | None = None  # free text: normalises or raises DomainError
    unset: str = ""  # free text: how /settings and the docs show it unset

    def check(self, value: Any) -> Any:
        """`value` as stored (a float for a float setting); DomainError (a ValueError, with a
        message for the member) when it is not valid. None resets a number to the config
        default."""
        if self.kind is str and self.parse is not None:
            if not isinstance(value, str):
                raise DomainError(_("`{name}` must be text.").format(name=self.name))
            return self.parse(value)
        if self.kind is str:
            if value not in {choice for choice, _label in self.choices}:
                raise DomainError(_(self.invalid) if self.invalid else _(
                    "`{name}` must be one of {choices}.").format(
                    name=self.name, choices=", ".join(choice for choice, _l in self.choices)))
            return value
        if self.kind is bool:
            if not isinstance(value, bool):
                raise DomainError(_("`{name}` must be true or false.").format(name=self.name))
            return value
        if value is None and self.default is None:
            return None
        low, high = self.bounds or (-math.inf, math.inf)
        whole = self.kind is int
        bad_type = isinstance(value, bool) or not isinstance(value, int if whole else int | float)
        if bad_type or not low <= value <= high:
            if not bad_type:
                message = _("`{name}` must be between {low} and {high}.")
            elif whole:
                message = _("`{name}` must be a whole number between {low} and {high}.")
            else:
                message = _("`{name}` must be a number between {low} and {high}.")
            raise DomainError(message.format(name=self.name, low=f"{low:g}", high=f"{high:g}"))
        return float(value) if self.kind is float else value


GUILD_SETTINGS: tuple[GuildSetting, ...] = (
    GuildSetting(
        "add_movie_permission", str, "manage_guild", N_("Who can add movies"),
        "Who can add movies", "Who may add movies to this server's list", "add_movies",
        choices=(("manage_guild", N_("Moderators (Manage Server)")),
                 ("everyone", N_("Everyone"))),
        invalid=N_("Who can add movies must be moderators or everyone.")),
    GuildSetting(
        "ratings_visible", bool, True, N_("Ratings visible to other members"), "Ratings visible",
        "Whether members can see each other's ratings with /ratings", "ratings_visible"),
    GuildSetting(
        "min_ratings_for_personal", int, None, N_("Minimum ratings for personal picks"),
        "Minimum ratings",
        f"Ratings a member needs before getting personal picks "
        f"({MIN_RATINGS_RANGE[0]}-{MIN_RATINGS_RANGE[1]})", "min_ratings",
        bounds=MIN_RATINGS_RANGE),
    GuildSetting(
        "features", int, None, N_("Model features"), "Model features",
        f"Taste dimensions of the model ({FEATURES_RANGE[0]}-{FEATURES_RANGE[1]}; more needs "
        "more ratings)", "features", bounds=FEATURES_RANGE, refits=True),
    GuildSetting(
        "regularization", float, None, N_("Regularisation"), "Regularisation",
        f"How strongly the model avoids overfitting ({REGULARIZATION_RANGE[0]:g}-"
        f"{REGULARIZATION_RANGE[1]:g}; default: tuned to this server's ratings)",
        "regularization", bounds=REGULARIZATION_RANGE, refits=True),
    GuildSetting(
        "timezone", str, "", N_("Timezone"), "Timezone",
        "The server's timezone for movie-night times (an IANA name, e.g. Europe/Berlin)",
        "timezone", parse=timezone_name, unset=N_("UTC")),
    GuildSetting(
        "region", str, "", N_("Region"), "Region",
        "The server's country (two letters, e.g. US): age ratings and streaming services",
        "region", parse=region_code, unset=N_("not set")),
    GuildSetting(
        "services", str, "", N_("Streaming services"), "Streaming services",
        "The streaming services the server has, comma-separated (e.g. Netflix, Disney Plus)",
        "services", parse=service_names, unset=N_("none named")),
    GuildSetting(
        "reminder_minutes", int, 30, N_("Movie-night reminder"), "Reminder",
        "Minutes before a movie-night event to post a reminder (0-1440; 0: no reminder)",
        "reminder_minutes", bounds=(0, 1440)),
    GuildSetting(
        "language", str, "en", N_("Language"), "Language",
        "The server's language, for members whose Discord language the bot does not speak",
        "language", choices=language_names(),
        invalid=N_("The language must be one the bot has a catalog for.")),
)
SETTINGS: dict[str, GuildSetting] = {setting.name: setting for setting in GUILD_SETTINGS}


def check_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Each change checked and normalised (`GuildSetting.check`); DomainError for an unknown
    name or a bad value."""
    values: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in SETTINGS:
            raise DomainError(_("unknown guild setting: {name}").format(name=name))
        values[name] = SETTINGS[name].check(value)
    return values


def settings_from_row(guild_id: int, row: Sequence[Any] | None) -> GuildSettings:
    """The stored columns (in `GUILD_SETTINGS` order) as `GuildSettings`; defaults for None."""
    if row is None:
        return GuildSettings(guild_id)
    values: dict[str, Any] = {
        setting.name: bool(value) if setting.kind is bool else
        (setting.default if value is None else value)
        for setting, value in zip(GUILD_SETTINGS, row, strict=True)}
    return GuildSettings(guild_id, **values)


def settings_table() -> str:
    """The settings as a markdown table (for the README): option, type, default, allowed
    values, what it does."""
    lines = ["| `/settings` option | Type | Default | Allowed | What it sets |",
             "| --- | --- | --- | --- | --- |"]
    for setting in GUILD_SETTINGS:
        if setting.parse is not None:
            allowed, default = "text", setting.unset
        elif setting.choices:
            labels = dict(setting.choices)
            allowed = ", ".join(labels.values())
            default = labels[setting.default]
        elif setting.kind is bool:
            allowed, default = "true, false", str(setting.default).lower()
        else:
            low, high = setting.bounds or (-math.inf, math.inf)
            allowed = f"{low:g} to {high:g}"
            default = (f"`[recommender] {setting.name}`" if setting.default is None
                       else f"{setting.default}")
        kind = "text" if setting.parse is not None else {
            str: "choice", bool: "yes/no", int: "whole number", float: "number"}[setting.kind]
        lines.append(f"| `{setting.option}` | {kind} | {default} | {allowed} | "
                     f"{setting.help.split(' (')[0]} |")
    return "\n".join(lines) + "\n"
