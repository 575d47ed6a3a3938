"""End-to-end: `/setup`, the admin's checklist (issue 27, item 2), through the emulator.

The bot's permissions come from the emulated server (its role and the channel's overwrites, as
Discord computes `app_permissions`); the commands from what the emulator has registered; the
prior from storage. Each missing thing is flagged with its fix; "Test" posts a sample pick
only the admin sees.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from bot.storage.models import PriorMovie
from emulator import Permissions, Reply

if TYPE_CHECKING:
    from conftest import Env

OK, MISSING, OPTIONAL = "✅", "❌", "➖"
EVENTS = "Movie nights as server events"
CHANNEL = "Bot permissions in this channel"
PRIOR_FIX = "python -m bot prior download small"


def checklist(reply: Reply) -> dict[str, tuple[str, str]]:
    """{item name: (mark, text)} from the checklist embed."""
    assert reply.embed is not None, reply
    items = {}
    for field in reply.embed["fields"]:
        mark, name = field["name"].split(" ", 1)
        items[name] = (mark, field["value"])
    return items


async def run_setup(env: Env, channel=None) -> dict[str, tuple[str, str]]:
    reply = await env.answer(await env.slash(env.admin, "setup", channel=channel))
    assert reply.ephemeral
    return checklist(reply)


async def install_prior(env: Env) -> None:
    await env.storage.save_prior(b"blob", source="test", id_kind="movielens",
                                 movies=[PriorMovie(1, "Prior Film", 1990, n_ratings=3)],
                                 stored_keys=[1], links=[], dataset_users=1, dataset_ratings=3)


def command_reads(env: Env) -> list:
    return [r for r in env.emu.requests if r.method == "GET" and r.path.endswith("/commands")]


async def test_setup_flags_a_missing_manage_events_and_a_missing_prior(env: Env) -> None:
    """A bot invited before Manage Events was asked for, without a taste prior."""
    assert not env.guild.bot_role.permissions & Permissions.MANAGE_EVENTS
    items = await run_setup(env)
    assert EVENTS not in items  # Manage Events is one of the required permissions now
    mark, text = items[CHANNEL]
    assert mark == MISSING and "Missing Manage Events" in text
    assert "Give the bot Manage Events" in text and "Roles" in text
    mark, text = items["Taste prior"]
    assert mark == MISSING and "Not installed" in text and PRIOR_FIX in text
    assert items["Commands synced"][0] == OK
    assert items["TMDB (posters and details)"][0] == OPTIONAL  # optional: no key in tests
    assert "MOVIEBOT_TMDB_API_KEY" in items["TMDB (posters and details)"][1]
    mark, text = items["Ratings visibility"]
    assert mark == OK and "Visible" in text and "/settings ratings_visible:" in text
    # Region and timezone are settings, not set yet; the language is English by default.
    for name, key in (("Region", "region"), ("Timezone", "timezone")):
        mark, text = items[name]
        assert mark == OPTIONAL and "Not set" in text and f"/settings {key}:" in text
    mark, text = items["Language"]
    assert mark == OK and "/settings language:" in text
    # Media servers: optional, none configured in tests.
    mark, text = items["Jellyfin"]
    assert mark == OPTIONAL and "Not configured" in text and "MOVIEBOT_JELLYFIN_API_KEY" in text
    assert items["Plex"][0] == items["Trakt"][0] == OPTIONAL


async def test_fixing_both_clears_them_and_a_channel_overwrite_is_seen(env: Env) -> None:
    env.guild.bot_role.permissions |= Permissions.MANAGE_EVENTS
    await install_prior(env)
    items = await run_setup(env)
    assert items[CHANNEL][0] == OK and items["Taste prior"][0] == OK
    _mark, text = items[CHANNEL]  # what is in place says so, without a fix
    assert "Send Messages" in text and "Manage Events" in text and "Fix" not in text
    assert not [name for name, (mark, _t) in items.items() if mark == MISSING]
    assert not [name for name, (mark, text) in items.items() if "Missing" in text]
    # A channel that denies the bot's role Manage Events: flagged there, not elsewhere.
    events = env.guild.add_text_channel("movie-nights")
    events.set_overwrite(env.guild.bot_role, deny=Permissions.MANAGE_EVENTS)
    assert (await run_setup(env, events))[CHANNEL][0] == MISSING
    assert (await run_setup(env))[CHANNEL][0] == OK


async def test_a_channel_without_embed_links_is_flagged_with_the_fix(env: Env) -> None:
    quiet = env.guild.add_text_channel("no-embeds")
    quiet.set_overwrite(env.guild.everyone, deny=Permissions.EMBED_LINKS | Permissions.ATTACH_FILES)
    items = await run_setup(env, quiet)
    mark, text = items[CHANNEL]
    assert mark == MISSING
    assert "Missing Embed Links, Attach Files" in text
    assert "**Fix:** Give the bot Embed Links, Attach Files" in text


async def test_commands_discord_lacks_or_no_longer_needs_are_flagged(env: Env) -> None:
    emu = env.emu
    for scope in list(emu.commands):  # an upgrade that was not synced: /rate missing ...
        emu.commands[scope] = [c for c in emu.commands[scope] if c["name"] != "rate"]
    gone = copy.deepcopy(emu.commands[None][0])  # ... and a command this version dropped
    gone.update(id=str(emu.world.ids()), name="oldcommand")
    emu.commands[None].append(gone)
    mark, text = (await run_setup(env))["Commands synced"]
    assert mark == MISSING
    assert "Not registered: `/rate`" in text and "`/oldcommand`" in text
    assert "python -m bot sync" in text


async def test_members_without_manage_server_are_refused_before_any_work(env: Env) -> None:
    before = len(command_reads(env))
    reply = await env.run(env.alice, "setup")
    assert reply.ephemeral and reply.embed is None
    assert "You need the Manage Server permission" in reply.content
    assert len(command_reads(env)) == before  # Discord was not asked for anything


async def test_hidden_ratings_are_reported(env: Env) -> None:
    await env.run(env.admin, "settings", ratings_visible=False)
    mark, text = (await run_setup(env))["Ratings visibility"]
    assert mark == OK and "Hidden" in text


async def test_the_test_button_posts_a_sample_pick_only_the_admin_sees(env: Env) -> None:
    await env.seed_taste_clusters(env.guild)
    await env.seed(env.guild, {env.admin.id: {"Star Wars": 10, "Alien": 9, "Jaws": 9}})
    inter = await env.slash(env.admin, "setup")
    shown = await env.answer(inter)
    (button,) = [b for b in shown.buttons if b.get("label") == "Test"]
    sample = await env.answer(await env.emu.click(env.admin, shown, button["custom_id"]))
    assert sample.ephemeral
    assert sample.embed is not None and sample.embed["title"] == "Sample pick"
    assert sample.embed["description"].startswith("1. **")
    assert "Only you see this" in sample.embed["footer"]["text"]
    # Nothing public was posted in the channel.
    assert not [m for m in env.emu.channel_messages(env.channel) if not m.ephemeral]


async def test_the_test_button_on_a_server_without_ratings_says_what_to_do(env: Env) -> None:
    shown = await env.answer(await env.slash(env.admin, "setup"))
    (button,) = [b for b in shown.buttons if b.get("label") == "Test"]
    sample = await env.answer(await env.emu.click(env.admin, shown, button["custom_id"]))
    assert sample.ephemeral and "no pick to show yet" in sample.content
    assert "`/rate`" in sample.content and PRIOR_FIX in sample.content
