"""End-to-end: /ratings [member] through the Discord emulator."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import Env


def _button(reply, label: str) -> str:
    return next(b["custom_id"] for b in reply.buttons if b.get("label") == label)


def _no_pings(reply) -> None:
    assert reply.allowed_mentions is not None and reply.allowed_mentions.get("parse") == []
    assert reply.mentions == []


async def _rate_many(env: Env, member, titles, guild=None) -> list:
    guild = guild or env.guild
    movies = [await env.movie(t, guild) for t in titles]
    await env.seed(guild, {member.id: {m: 5 + i % 5 for i, m in enumerate(movies)}},
                   train=False)
    return movies


async def test_ratings_is_registered_with_a_described_member_option(env: Env) -> None:
    command = env.emu.find_command("ratings", env.guild)
    (member,) = command["options"]
    assert member["name"] == "member" and member["description"] and not member.get("required")


async def test_own_ratings_are_listed_newest_first_in_pages_of_ten(env: Env) -> None:
    titles = env.SCIFI + env.ROMANCE[:4]  # 12 movies
    await _rate_many(env, env.alice, titles)
    newest = await env.movie("Vertigo")
    await env.storage.upsert_rating(env.guild.id, env.alice.id, newest.id, 9)  # 13th, latest
    reply = await env.run(env.alice, "ratings")
    assert reply.ephemeral
    _no_pings(reply)
    embed = reply.embed
    assert embed["title"] == "Your ratings (13)"
    # The list, then (after a blank line) the alt text of the summary picture.
    lines = embed["description"].split("\n\n")[0].splitlines()
    assert len(lines) == 10
    assert lines[0] == "Vertigo (1958) — 9/10"
    expected = await env.storage.member_ratings(env.guild.id, env.alice.id)
    assert [line.rsplit(" — ", 1)[0] for line in lines] == [r.movie.label for r in expected[:10]]
    assert embed["footer"]["text"] == "Page 1 of 2"

    page2 = await (await env.emu.click(env.alice, reply, _button(reply, "Next"))).response()
    assert page2.embed["footer"]["text"] == "Page 2 of 2"
    assert len(page2.embed["description"].split("\n\n")[0].splitlines()) == 3
    next_button = next(b for b in page2.buttons if b["label"] == "Next")
    assert next_button["disabled"] is True


async def test_someone_else_cannot_turn_my_pages(env: Env) -> None:
    await _rate_many(env, env.alice, env.SCIFI + env.ROMANCE)
    reply = await env.run(env.alice, "ratings")
    refused = await (await env.emu.click(env.bob, reply, _button(reply, "Next"))).response()
    assert refused.ephemeral and "belong to the member who ran the command" in refused.content
    assert env.emu.message(reply.id).embed["footer"]["text"] == "Page 1 of 2"


async def test_no_ratings_yet_gives_a_helpful_message(env: Env) -> None:
    reply = await env.run(env.carol, "ratings")
    assert reply.ephemeral and "haven't rated any movies" in reply.content
    assert "/rate" in reply.content and reply.embeds == []


async def test_another_members_ratings_when_the_guild_allows_it(env: Env) -> None:
    await _rate_many(env, env.bob, ["Casablanca", "Alien"])
    reply = await env.run(env.alice, "ratings", member=env.bob)
    assert reply.embed["title"] == "bob's ratings (2)"
    assert "Casablanca (1942)" in reply.embed["description"]
    assert reply.buttons == []  # a single page has no buttons
    empty = await env.run(env.alice, "ratings", member=env.carol)
    assert empty.ephemeral and "carol hasn't rated any movies" in empty.content


async def test_another_members_ratings_are_private_when_the_guild_says_so(env: Env) -> None:
    await _rate_many(env, env.bob, ["Casablanca"])
    await env.run(env.admin, "settings", ratings_visible=False)
    reply = await env.run(env.alice, "ratings", member=env.bob)
    assert reply.ephemeral and "keeps ratings private" in reply.content
    assert reply.embeds == []
    own = await env.run(env.bob, "ratings", member=env.bob)  # yourself is always fine
    assert own.embed["title"] == "Your ratings (1)"


async def test_ratings_are_per_guild(env: Env) -> None:
    await _rate_many(env, env.alice, ["Casablanca", "Alien"])
    await _rate_many(env, env.alice2, ["Jaws"], guild=env.guild2)
    here = await env.run(env.alice, "ratings")
    assert "Jaws" not in here.embed["description"]
    there = await env.run(env.alice2, "ratings")
    assert there.embed["title"] == "Your ratings (1)" and "Jaws (1975)" in there.embed[
        "description"]


async def test_titles_and_names_are_escaped(env: Env) -> None:
    movie = await env.storage.add_movie("**Loud** @everyone", 2020, guild_id=env.guild.id)
    await env.storage.upsert_rating(env.guild.id, env.dave.id, movie.id, 6)
    env.dave.nick = "@here _dave_"
    reply = await env.run(env.alice, "ratings", member=env.dave)
    _no_pings(reply)
    assert "\\*\\*Loud\\*\\* @\u200beveryone (2020) — 6/10" in reply.embed["description"]
    assert reply.embed["title"].startswith("@\u200bhere \\_dave\\_")


async def test_page_buttons_disable_on_timeout(env: Env) -> None:
    sys.modules["cogs.ratings"].PAGE_TIMEOUT = 0.2
    await _rate_many(env, env.alice, env.SCIFI + env.ROMANCE)
    inter = await env.slash(env.alice, "ratings")
    reply = await env.answer(inter)
    assert not reply.buttons[1]["disabled"]
    edited = (await inter.wait_edits(1, timeout=5))[-1]
    assert edited.buttons and all(b["disabled"] for b in edited.buttons)
    assert edited.embed["footer"]["text"] == "Page 1 of 2"


async def test_a_deleted_message_is_not_an_error_at_timeout(env: Env, caplog) -> None:
    sys.modules["cogs.ratings"].PAGE_TIMEOUT = 0.2
    await _rate_many(env, env.alice, env.SCIFI + env.ROMANCE)
    inter = await env.slash(env.alice, "ratings")
    reply = await env.answer(inter)
    env.emu.messages.delete(reply.id)
    await asyncio.sleep(0.5)  # the view times out and tries to edit the deleted message
    assert inter.edits == []
    patches = [r for r in env.emu.requests if r.method == "PATCH" and inter.token in r.path]
    assert patches and patches[-1].status == 404  # it tried, Discord said "unknown message"
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
