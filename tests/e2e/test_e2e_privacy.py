"""End-to-end: /forgetme, /export and the guild lifecycle (leave -> purge) via the emulator."""

from __future__ import annotations

import asyncio
import csv
import io
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from emulator.payloads import guild_create_payload
from emulator.server import INTENT_GUILDS

if TYPE_CHECKING:
    from conftest import Env

INJECTION = "=HYPERLINK(\"http://evil\",\"x\")"


def _button(reply, label: str) -> str:
    return next(b["custom_id"] for b in reply.buttons if b.get("label") == label)


async def _rate(env: Env, member, titles, guild=None) -> None:
    guild = guild or env.guild
    await env.seed(guild, {member.id: {t: 6 + i % 4 for i, t in enumerate(titles)}},
                   train=False)


# ------------------------------------------------------------------------------- /forgetme
async def test_forgetme_deletes_after_confirmation_and_only_in_this_guild(env: Env) -> None:
    await _rate(env, env.alice, ["Casablanca", "Alien", "Jaws"])
    await _rate(env, env.alice2, ["Vertigo"], guild=env.guild2)
    await _rate(env, env.bob, ["Casablanca"])
    reply = await env.run(env.alice, "forgetme")
    assert reply.ephemeral and "all 3 ratings" in reply.content
    assert reply.allowed_mentions["parse"] == []
    assert [b["label"] for b in reply.buttons] == ["Delete my ratings", "Cancel"]
    assert reply.buttons[0]["style"] == 4  # danger
    # Nothing is deleted before the click.
    assert await env.storage.count_member_ratings(env.guild.id, env.alice.id) == 3

    done = await (await env.emu.click(env.alice, reply, _button(reply, "Delete my ratings"))
                  ).response()
    assert done.type == 7 and "deleted 3 ratings" in done.content
    assert all(b["disabled"] for b in done.buttons)
    assert await env.storage.count_member_ratings(env.guild.id, env.alice.id) == 0
    assert await env.storage.count_member_ratings(env.guild2.id, env.alice.id) == 1
    assert await env.storage.count_member_ratings(env.guild.id, env.bob.id) == 1
    after = await env.run(env.alice, "ratings")
    assert "haven't rated" in after.content


async def test_forgetme_cancel_keeps_everything(env: Env) -> None:
    await _rate(env, env.alice, ["Casablanca", "Alien"])
    reply = await env.run(env.alice, "forgetme")
    done = await (await env.emu.click(env.alice, reply, _button(reply, "Cancel"))).response()
    assert "Cancelled" in done.content and all(b["disabled"] for b in done.buttons)
    assert await env.storage.count_member_ratings(env.guild.id, env.alice.id) == 2


async def test_someone_else_cannot_press_the_confirm_button(env: Env) -> None:
    await _rate(env, env.alice, ["Casablanca", "Alien"])
    reply = await env.run(env.alice, "forgetme")
    refused = await (await env.emu.click(env.bob, reply, _button(reply, "Delete my ratings"))
                     ).response()
    assert refused.ephemeral and "belong to the member who ran the command" in refused.content
    assert await env.storage.count_member_ratings(env.guild.id, env.alice.id) == 2
    # The buttons still work for alice afterwards.
    assert not any(b.get("disabled") for b in env.emu.message(reply.id).buttons)


async def test_forgetme_buttons_disable_on_timeout(env: Env) -> None:
    sys.modules["cogs.privacy"].CONFIRM_TIMEOUT = 0.2
    await _rate(env, env.alice, ["Casablanca"])
    inter = await env.slash(env.alice, "forgetme")
    reply = await env.answer(inter)
    edited = (await inter.wait_edits(1, timeout=5))[-1]
    assert all(b["disabled"] for b in edited.buttons) and edited.buttons
    assert await env.storage.count_member_ratings(env.guild.id, env.alice.id) == 1
    assert reply.id == edited.id


async def test_forgetme_with_no_ratings(env: Env) -> None:
    reply = await env.run(env.carol, "forgetme")
    assert reply.ephemeral and "nothing to delete" in reply.content and reply.buttons == []


# --------------------------------------------------------------------------------- /export
async def test_export_sends_the_members_ratings_as_csv(env: Env) -> None:
    evil = await env.storage.add_movie(INJECTION, 2020, ("Comedy",), guild_id=env.guild.id)
    await _rate(env, env.alice, ["Casablanca", "Alien"])
    await env.storage.upsert_rating(env.guild.id, env.alice.id, evil.id, 3)
    await _rate(env, env.alice2, ["Vertigo"], guild=env.guild2)
    reply = await env.run(env.alice, "export")
    assert reply.ephemeral and "3 ratings" in reply.content
    assert reply.allowed_mentions["parse"] == []
    attachment = reply.attachment(f"ratings-{env.guild.id}.csv")
    rows = list(csv.DictReader(io.StringIO(attachment.text)))
    assert list(rows[0]) == ["title", "year", "genres", "score", "updated_at"]
    by_title = {row["title"]: row for row in rows}
    assert set(by_title) == {"Casablanca", "Alien", "'" + INJECTION}
    casablanca = by_title["Casablanca"]
    assert casablanca["year"] == "1942" and casablanca["genres"] == "Drama|Romance|War"
    assert casablanca["score"] == str(await env.rating(env.alice, "Casablanca"))
    assert datetime.fromisoformat(casablanca["updated_at"]).tzinfo is not None
    assert by_title["'" + INJECTION]["score"] == "3"
    assert rows[0]["title"] == "'" + INJECTION  # newest first


async def test_export_with_no_ratings_sends_no_file(env: Env) -> None:
    reply = await env.run(env.carol, "export")
    assert reply.ephemeral and "nothing to export" in reply.content
    assert reply.attachments == []


# ---------------------------------------------------------------------- guild lifecycle
async def _wait_left(env: Env, guild_id: int, left: bool) -> None:
    deadline = time.monotonic() + 5
    while True:
        pending = await env.storage.guilds_left_before(datetime.now(UTC) + timedelta(days=1))
        if (guild_id in pending) == left:
            return
        assert time.monotonic() < deadline, f"guild {guild_id} left={left} never recorded"
        await asyncio.sleep(0.02)


async def test_removal_marks_the_guild_left_and_purges_after_the_grace(env: Env) -> None:
    await _rate(env, env.alice2, ["Vertigo", "Alien"], guild=env.guild2)
    await env.storage.add_movie("Other Guild Home Movie", 2021, guild_id=env.guild2.id)
    await _rate(env, env.alice, ["Casablanca"])
    await env.emu.remove_guild(env.guild2)
    await _wait_left(env, env.guild2.id, left=True)
    privacy = env.bot.get_cog("Privacy")
    # Within the grace period nothing is purged.
    assert await privacy.purge_now() == []
    assert await env.storage.count_member_ratings(env.guild2.id, env.alice.id) == 2
    # Pretend the bot left 31 days ago (a first record stands, so clear it before backdating):
    # the hourly task's purge removes everything.
    await env.storage.mark_guild_joined(env.guild2.id)
    await env.storage.mark_guild_left(env.guild2.id, datetime.now(UTC) - timedelta(days=31))
    assert await privacy.purge_now() == [env.guild2.id]
    assert await env.storage.count_member_ratings(env.guild2.id, env.alice.id) == 0
    assert await env.storage.count_guild_movies(env.guild2.id) == 0
    assert await env.storage.count_member_ratings(env.guild.id, env.alice.id) == 1


async def test_rejoining_cancels_the_pending_purge(env: Env) -> None:
    await _rate(env, env.alice2, ["Vertigo"], guild=env.guild2)
    await env.emu.remove_guild(env.guild2)
    await _wait_left(env, env.guild2.id, left=True)
    # The bot is invited back: GUILD_CREATE without "unavailable" -> on_guild_join.
    env.emu.world.guilds[env.guild2.id] = env.guild2
    data = guild_create_payload(env.guild2)
    data.pop("unavailable", None)
    await env.emu._dispatch_intent("GUILD_CREATE", data, env.guild2.id, INTENT_GUILDS)
    await _wait_left(env, env.guild2.id, left=False)
    assert await env.bot.get_cog("Privacy").purge_now() == []
    assert await env.storage.count_member_ratings(env.guild2.id, env.alice.id) == 1


async def test_purge_skips_a_guild_the_bot_is_still_in(env: Env) -> None:
    await _rate(env, env.alice, ["Casablanca"])
    await env.storage.mark_guild_left(env.guild.id, datetime.now(UTC) - timedelta(days=90))
    assert await env.bot.get_cog("Privacy").purge_now() == []
    assert await env.storage.count_member_ratings(env.guild.id, env.alice.id) == 1


async def test_a_guild_that_removed_the_bot_while_it_was_offline_is_marked_at_start(
        env: Env) -> None:
    ghost = 4242  # has data here, but the bot is not in it any more
    movie = await env.movie("Vertigo")
    await env.storage.upsert_rating(ghost, env.alice.id, movie.id, 8)
    await env.storage.mark_guild_left(env.guild2.id, datetime.now(UTC) - timedelta(days=3))
    env.bot.dispatch("ready")  # what a (re)start does once the guilds are known
    await _wait_left(env, ghost, left=True)
    await _wait_left(env, env.guild2.id, left=False)  # present again: purge cancelled
    assert env.guild.id not in await env.storage.guilds_left_before(
        datetime.now(UTC) + timedelta(days=1))


async def test_leaving_twice_does_not_restart_the_grace_period(env: Env) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=40)
    await env.storage.mark_guild_left(4343, long_ago)
    await env.storage.mark_guild_left(4343)  # e.g. a second removal event, or a restart
    assert 4343 in await env.storage.guilds_left_before(datetime.now(UTC) - timedelta(days=30))
