"""The set-up checklist's rules that no e2e world reaches (issue 27, item 2): media-server
sections and per-server region/timezone/language, which later releases add to the config and
the server settings. `/setup` shows them when they exist and skips them gracefully otherwise;
the service refuses a member without Manage Server before asking Discord anything."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import pytest

from bot.config import JellyfinSettings, PlexSettings, Settings, TmdbSettings
from bot.domain.models import GuildSettings
from bot.service.checklist import (
    DiscordFacts,
    PermissionFact,
    SetupService,
    commands_item,
    locale_items,
    media_server_items,
    permission_items,
)
from bot.service.errors import PermissionRequired
from bot.service.gate import Gate
from bot.storage import Storage


@dataclass(frozen=True, slots=True)
class WithLocale(GuildSettings):
    region: str | None = None
    timezone: str | None = None


def test_media_servers_are_skipped_when_the_settings_have_no_such_sections():
    assert media_server_items(cast(Settings, object())) == []


def test_each_media_server_section_shows_configured_or_not_with_its_keys():
    items = media_server_items(Settings(
        jellyfin=JellyfinSettings(url="http://jf:8096", api_key="k"),
        plex=PlexSettings(url="http://plex:32400")))  # no token: not usable
    by_name = {item.name: item for item in items}
    assert set(by_name) == {"Jellyfin", "Plex", "Trakt", "Seerr (Overseerr / Jellyseerr)"}
    assert by_name["Jellyfin"].ok and by_name["Jellyfin"].detail == "Configured."
    plex = by_name["Plex"]
    assert not plex.ok and plex.optional and plex.detail == "Not configured."
    assert "`url` and `token` in `[plex]`" in plex.fix
    assert "MOVIEBOT_PLEX_URL, MOVIEBOT_PLEX_TOKEN" in plex.fix
    trakt = by_name["Trakt"].fix
    assert "`client_id` and `client_secret`" in trakt and "base_url" not in trakt


def test_region_and_timezone_unset_and_the_language_to_come():
    region, timezone, language = locale_items(GuildSettings(guild_id=1))
    assert (region.name, timezone.name, language.name) == ("Region", "Timezone", "Language")
    assert not region.ok and region.optional and "`/settings region:`" in region.fix
    assert not timezone.ok and "`/settings timezone:`" in timezone.fix
    assert language.ok and "`/settings language:`" in language.detail


def test_locale_settings_that_exist_are_shown_and_the_rest_still_named():
    items = locale_items(WithLocale(guild_id=1, timezone="Europe/Berlin"))
    by_name = {item.name: item for item in items}
    assert by_name["Timezone"].ok and "Europe/Berlin" in by_name["Timezone"].detail
    region = by_name["Region"]
    assert not region.ok and region.optional and "`/settings region:`" in region.fix
    assert "`/settings language:`" in by_name["Language"].detail
    language = locale_items(WithLocale(guild_id=1, language="de"))[2]
    assert language.ok and language.detail.startswith("Deutsch. ")  # its name, not "de"


def test_permissions_each_missing_one_named_with_its_reason():
    facts = DiscordFacts(
        permissions=(PermissionFact("Send Messages", "answer in channels", True),
                     PermissionFact("Embed Links", "movie cards", False)),
        event_permissions=(PermissionFact("Manage Events", "movie nights", False),))
    core, events = permission_items(facts)
    assert not core.ok and "Missing Embed Links (Embed Links: movie cards)" in core.detail
    assert "Send Messages" not in core.fix
    assert not events.ok and events.optional and "Manage Events" in events.fix


def test_unreadable_commands_are_not_reported_as_synced():
    item = commands_item(DiscordFacts(permissions=(), missing_commands=None))
    assert not item.ok and "python -m bot sync" in item.fix


async def test_a_member_without_manage_server_is_refused_before_discord_is_asked(tmp_path):
    storage = await Storage.open(tmp_path / "db.sqlite3")
    asked = []

    async def facts() -> DiscordFacts:
        asked.append(True)
        return DiscordFacts(permissions=())

    try:
        service = SetupService(storage, Settings(tmdb=TmdbSettings(api_key="k")), Gate())
        with pytest.raises(PermissionRequired):
            await service.checklist(1, facts, can_manage_guild=False)
        assert asked == []
        items = await service.checklist(1, facts, can_manage_guild=True)
        assert asked == [True]
        tmdb = {item.name: item for item in items}["TMDB (posters and details)"]
        assert tmdb.ok and tmdb.fix == ""
    finally:
        await storage.close()
