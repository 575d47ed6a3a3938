"""The admin's set-up checklist behind `/setup`: what is configured, what is missing, and the fix.

The cog gathers what only Discord knows (`DiscordFacts`: the bot's permissions in the channel,
the commands Discord has registered) and makes one call, `SetupService.checklist`; the rest comes
from here: the taste prior (storage), TMDB and the media servers (the config), the server's
ratings visibility and, where the bot has them, its region, timezone and language (`/settings`).
Each `CheckItem` says what is there now and, when something is missing, what to do about it;
the items carry no Discord formatting beyond inline code, and nothing from members.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from typing import Any

from bot.config import Settings, env_name
from bot.domain.models import GuildSettings
from bot.i18n import N_, _
from bot.i18n.catalogs import language_names
from bot.service.errors import PermissionRequired
from bot.service.gate import Gate
from bot.storage import Storage

# N_: marked for the catalog, shown with _() (the checklist is built in the admin's language).
SYNC_FIX = N_("Run `python -m bot sync` on the bot's host (or `/sync` as the bot owner); "
              "Discord may take a few minutes to show the change.")
PRIOR_FIX = N_("On the bot's host run `python -m bot prior download small` (with Docker: "
               "`docker compose exec moviebot python -m bot prior download small`): new "
               "servers get good picks from their first ratings.")
TMDB_FIX = N_("Set `[tmdb] api_key` in the config file (or `MOVIEBOT_TMDB_API_KEY`) and "
              "restart the bot: posters and details on movie cards (a free key from "
              "themoviedb.org).")
ROLE_PATH = N_("Server Settings > Roles > the bot's role, or this channel's Edit Channel > "
               "Permissions")
# Media-server sections of the config: (attribute, shown name). A section the settings do not
# have (an older or newer config) is skipped.
MEDIA_SERVERS: tuple[tuple[str, str], ...] = (
    ("jellyfin", "Jellyfin"),
    ("plex", "Plex"),
    ("trakt", "Trakt"),
    ("seerr", "Seerr (Overseerr / Jellyseerr)"),
)
TEST_ONLY_KEYS = frozenset({"base_url"})  # section fields never read from the config file
# Per-server locale settings (`/settings` options once the bot has them): (field, shown name).
LOCALE_SETTINGS: tuple[tuple[str, str], ...] = (
    ("region", N_("Region")),
    ("timezone", N_("Timezone")),
    ("language", N_("Language")),
)


@dataclass(frozen=True, slots=True)
class CheckItem:
    """One line of the checklist. `ok`: nothing to do; `optional`: the bot works without it
    (a missing optional item is shown as a suggestion, not a problem); `fix`: what to do when
    not ok ("" when ok)."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    optional: bool = False


@dataclass(frozen=True, slots=True)
class PermissionFact:
    """A permission the bot needs in the channel, and whether it has it there."""

    name: str  # as Discord shows it: "Embed Links"
    why: str
    granted: bool


@dataclass(frozen=True, slots=True)
class DiscordFacts:
    """What only Discord knows, gathered by the cog for the channel `/setup` ran in.

    `permissions`: what every command needs (`bot.invite.PERMISSIONS`); `event_permissions`:
    what movie nights as scheduled events need. `missing_commands` / `unknown_commands`: the
    bot's commands Discord has not registered, and registered ones this version no longer has;
    None when Discord could not be asked."""

    permissions: tuple[PermissionFact, ...]
    event_permissions: tuple[PermissionFact, ...] = ()
    missing_commands: tuple[str, ...] | None = ()
    unknown_commands: tuple[str, ...] = ()


def _names(facts: tuple[PermissionFact, ...]) -> str:
    return ", ".join(fact.name for fact in facts)


def permission_items(facts: DiscordFacts) -> list[CheckItem]:
    items = []
    missing = tuple(f for f in facts.permissions if not f.granted)
    if missing:
        reasons = "; ".join(f"{f.name}: {f.why}" for f in missing)
        items.append(CheckItem(
            _("Bot permissions in this channel"), False,
            _("Missing {names} ({reasons}).").format(names=_names(missing), reasons=reasons),
            _("Give the bot {names} ({path}).").format(names=_names(missing),
                                                       path=_(ROLE_PATH))))
    else:
        items.append(CheckItem(_("Bot permissions in this channel"), True,
                               _("{names}: all granted.").format(
                                   names=_names(facts.permissions))))
    if facts.event_permissions:
        missing = tuple(f for f in facts.event_permissions if not f.granted)
        if missing:
            # Optional: `/movienight` votes work without it; it is what scheduled events need.
            items.append(CheckItem(
                _("Movie nights as server events"), False,
                _("Missing {names}: {why}. Movie-night votes work without it.").format(
                    names=_names(missing), why=missing[0].why),
                _("Give the bot {names} ({path}).").format(names=_names(missing),
                                                           path=_(ROLE_PATH)), optional=True))
        else:
            items.append(CheckItem(_("Movie nights as server events"), True,
                                   _("{names}: granted.").format(
                                       names=_names(facts.event_permissions))))
    return items


def commands_item(facts: DiscordFacts) -> CheckItem:
    if facts.missing_commands is None:
        return CheckItem(_("Commands synced"), False,
                         _("Discord did not say which commands it has registered."),
                         _(SYNC_FIX))
    problems = []
    if facts.missing_commands:
        listed = ", ".join(f"`/{name}`" for name in facts.missing_commands)
        problems.append(_("not registered: {commands}").format(commands=listed))
    if facts.unknown_commands:
        listed = ", ".join(f"`/{name}`" for name in facts.unknown_commands)
        problems.append(_("registered but gone from this version: {commands}").format(
            commands=listed))
    if problems:
        text = "; ".join(problems)
        return CheckItem(_("Commands synced"), False, text[:1].upper() + text[1:] + ".",
                         _(SYNC_FIX))
    return CheckItem(_("Commands synced"), True,
                     _("Every command of this version is registered with Discord."))


def _configured(section: Any) -> bool:
    """A config section is configured when it says so (`enabled`, the media servers' rule:
    every key it needs is set) or, without that, has a URL, key or token."""
    enabled = getattr(section, "enabled", None)
    if isinstance(enabled, bool):
        return enabled
    return any(bool(getattr(section, name, "")) for name in ("url", "base_url", "api_key",
                                                             "token", "client_id"))


def media_server_items(settings: Settings) -> list[CheckItem]:
    """One item per media-server section the config has; none while it has none."""
    items = []
    for attribute, name in MEDIA_SERVERS:
        section = getattr(settings, attribute, None)
        if section is None:
            continue
        if _configured(section):
            items.append(CheckItem(name, True, _("Configured."), optional=True))
            continue
        keys = [f.name for f in fields(section) if f.name not in TEST_ONLY_KEYS]
        variables = ", ".join(env_name(attribute, key) for key in keys)
        listed = (" " + _("and") + " ").join(f"`{key}`" for key in keys)
        items.append(CheckItem(
            name, False, _("Not configured."),
            _("Set {keys} in `[{section}]` of the config file (or {variables}) and restart the "
              "bot.").format(keys=listed, section=attribute, variables=variables),
            optional=True))
    return items


def ratings_item(current: GuildSettings) -> CheckItem:
    if current.ratings_visible:
        detail = _("Visible: members can see each other's ratings (`/ratings member:`) and "
                   "taste maps.")
    else:
        detail = _("Hidden: members see only their own ratings; group picks ask the others "
                   "to agree first.")
    return CheckItem(_("Ratings visibility"), True,
                     detail + " " + _("Change it with {option}.").format(
                         option="`/settings ratings_visible:`"))


def locale_items(current: GuildSettings) -> list[CheckItem]:
    """The server's region, timezone and language, each with how to change it."""
    items = []
    for key, name in LOCALE_SETTINGS:
        value = getattr(current, key)
        option = f"`/settings {key}:`"
        if key == "language":  # by its name in itself, as /settings shows it
            value = dict(language_names()).get(value, value)
        if value:
            items.append(CheckItem(_(name), True, f"{value}. " + _("Change it with {option}.")
                                   .format(option=option)))
        else:
            items.append(CheckItem(_(name), False, _("Not set."),
                                   _("Set it with {option}.").format(option=option),
                                   optional=True))
    return items


class SetupService:
    def __init__(self, storage: Storage, settings: Settings, gate: Gate) -> None:
        self.storage = storage
        self.settings = settings
        self.gate = gate

    async def checklist(self, guild_id: int, discord_facts: Callable[[], Awaitable[DiscordFacts]],
                        *, can_manage_guild: bool) -> list[CheckItem]:
        """The checklist for one server and channel, in the order an admin fixes things:
        Discord first (permissions, commands), then the bot's host (prior, TMDB, media
        servers), then the server's own settings. `discord_facts` is asked only once the
        member may see the checklist (reading the registered commands costs Discord calls)."""
        if not can_manage_guild:
            raise PermissionRequired("manage_guild", "run the set-up checklist")
        facts = await discord_facts()
        async with self.gate.enter():
            has_prior = await self.storage.has_prior()
            current = await self.storage.get_guild_settings(guild_id)
        items = [*permission_items(facts), commands_item(facts)]
        if has_prior:
            items.append(CheckItem(_("Taste prior"), True, _("Installed.")))
        else:
            items.append(CheckItem(_("Taste prior"), False, _("Not installed."), _(PRIOR_FIX)))
        if self.settings.tmdb.enabled:
            items.append(CheckItem(_("TMDB (posters and details)"), True,
                                   _("API key configured."), optional=True))
        else:
            items.append(CheckItem(_("TMDB (posters and details)"), False, _("No API key."),
                                   _(TMDB_FIX), optional=True))
        items += media_server_items(self.settings)
        items.append(ratings_item(current))
        items += locale_items(current)
        return items
