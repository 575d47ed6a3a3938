"""End-to-end: shutdown racing buttons and forms, and the movie cap under concurrent adds.

Buttons, selects and forms never pass through the command tree, so the shutdown guarantee sits
in the services' gate: a press or submit admitted before shutdown finishes and is answered
before the database closes; one that arrives while the bot is closing gets a polite refusal and
changes nothing. A write is held mid-flight by taking SQLite's write lock from another
connection (a real competing writer, nothing mocked).
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from typing import TYPE_CHECKING

from bot.client import SHUTTING_DOWN
from bot.config import LimitSettings

if TYPE_CHECKING:
    from conftest import Env


def _button(reply, label: str) -> str:
    return next(b["custom_id"] for b in reply.buttons if b["label"] == label)


def _component(reply, kind: int) -> dict:
    return next(c for c in reply.walk_components() if c.get("type") == kind)


def _count(db, guild_id: int, user_id: int) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT count(*) FROM ratings WHERE guild_id = ? AND user_id = ?",
                            (guild_id, user_id)).fetchone()[0]
    finally:
        conn.close()


async def _open_score_form(env: Env):
    """/recommend as bob, then choose the first pick: returns (movie id, form custom_id,
    field custom_id)."""
    reply = await env.run(env.bob, "recommend", count=5)
    select = _component(reply, 3)
    target = select["options"][0]["value"]
    opened = await env.emu.select(env.bob, reply.id, select["custom_id"], [target])
    modal = (await opened.response()).modal
    field = modal["components"][0]["components"][0]["custom_id"]
    return int(target), modal["custom_id"], field


async def test_button_and_form_racing_shutdown_lose_nothing_and_get_polite_answers(
        env: Env) -> None:
    db = env.tmp_path / "bot.sqlite3"
    await env.seed_taste_clusters(env.guild)
    for title in ("Casablanca", "Alien", "Jaws"):
        await env.run(env.alice, "rate", movie=title, score=7)
    await env.seed(env.guild, {env.bob.id: {"Star Wars": 10, "Alien": 9, "Casablanca": 2,
                                            "Roman Holiday": 3, "Jaws": 6}})
    forget = await env.run(env.alice, "forgetme")
    movie_id, form_id, field = await _open_score_form(env)

    # A competing writer holds the write lock: alice's confirmed delete waits inside its
    # service call while the shutdown (SIGTERM's bot.close()) starts.
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    pressed = await env.emu.click(env.alice, forget, _button(forget, "Delete my ratings"))
    gate = env.bot.app.gate
    await env.emu.wait_until(lambda: gate.running == 1, timeout=10,
                             what="the press to be in flight")
    closing = asyncio.create_task(env.bot.close())
    await env.emu.wait_until(lambda: not gate.is_open, timeout=10, what="the gate to close")

    # While closing: bob's score form and a second button press are refused politely.
    submitted = await env.emu.submit_modal(env.bob, env.channel, form_id, {field: "9"})
    refused_form = await submitted.response()
    assert refused_form.ephemeral and refused_form.content == SHUTTING_DOWN
    assert refused_form.allowed_mentions == {"parse": []}

    blocker.execute("COMMIT")  # the competing writer finishes
    blocker.close()
    done = await pressed.response(10)
    assert done.type == 7 and "deleted 3 ratings" in done.content  # answered, not cut off
    await asyncio.wait_for(closing, 30)
    assert env.bot.storage is None

    # Nothing lost: the acknowledged delete happened, the refused score was not saved.
    assert _count(db, env.guild.id, env.alice.id) == 0
    conn = sqlite3.connect(db)
    try:
        saved = conn.execute("SELECT score FROM ratings WHERE guild_id = ? AND user_id = ? "
                             "AND movie_id = ?", (env.guild.id, env.bob.id, movie_id)).fetchone()
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    assert saved is None


async def test_button_pressed_after_shutdown_began_changes_nothing(env: Env) -> None:
    db = env.tmp_path / "bot.sqlite3"
    for title in ("Casablanca", "Alien"):
        await env.run(env.alice, "rate", movie=title, score=8)
    forget = await env.run(env.alice, "forgetme")
    env.bot.app.gate.close()  # what close() does first
    refused = await (await env.emu.click(env.alice, forget,
                                         _button(forget, "Delete my ratings"))).response()
    assert refused.content == SHUTTING_DOWN
    await env.bot.close()
    assert _count(db, env.guild.id, env.alice.id) == 2


async def test_concurrent_adds_never_overshoot_the_cap(env: Env) -> None:
    env.bot.settings = replace(env.bot.settings,
                               limits=LimitSettings(recommend_cooldown_seconds=0.0,
                                                    guild_movie_cap=3))
    env.bot.app.catalog.settings = env.bot.settings
    inters = await asyncio.gather(*(
        env.slash(env.admin, "movies add", title=f"Race Film {i}", year=2001 + i)
        for i in range(12)))
    replies = await asyncio.gather(*(env.answer(i) for i in inters))
    added = [r for r in replies if r.content.startswith("Added")]
    refused = [r for r in replies if "limit of 3 added movies" in r.content]
    assert len(added) == 3 and len(refused) == 9, [r.content for r in replies]
    assert all(r.ephemeral for r in refused)
    assert await env.storage.count_guild_movies(env.guild.id) == 3
