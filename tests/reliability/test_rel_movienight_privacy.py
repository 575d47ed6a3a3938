"""Issue 20, rows 4, 9, 12 and 20: what a movie night may say in public, whose watchlist it
may change, what `/forgetme` does to an open one, and the attendee cap before any fetch.

* Row 4: the public message said "on 1 watchlist" (a named member's private watchlist). Now
  the message is the same whether or not an attendee has a candidate on their watchlist.
* Row 12: naming a member put the winner on their watchlist. Now only those who took part by
  their own action (the starter, who joined, who voted) get it.
* Row 20: a vote still open during `/forgetme` added the winner back to the member's
  watchlist. Now forgetting cancels their part: vote, place and watchlist entry.
* Row 9: 60 mentions meant 60 member fetches (5.2 s, no defer) before the 25 cap was checked.
  Now the cap comes first (no fetch), and fetching members defers first.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from emulator import Permissions

if TYPE_CHECKING:
    from conftest import Env


@pytest.fixture(autouse=True)
def _no_polls(env: Env) -> None:
    """The button vote (the bot without Send Polls), whose messages show every count."""
    env.guild.everyone.permissions &= ~Permissions.SEND_POLLS
    env.guild.bot_role.permissions &= ~Permissions.SEND_POLLS

LINE_RE = re.compile(r"^\d+\. \*\*(?P<label>.+?)\*\*")
MEMBER_FETCHES = "GET /guilds/*/members/*"


def _button(reply, label: str) -> dict:
    return next(b for b in reply.buttons if b.get("label", "").startswith(label))


def _labels(reply) -> list[str]:
    return [m.group("label") for line in reply.embed["description"].splitlines()
            if (m := LINE_RE.match(line))]


async def _click(env: Env, member, reply, label: str):
    return await (await env.emu.click(member, reply, _button(reply, label)["custom_id"])
                  ).response()


async def _seeded(env: Env) -> None:
    await env.seed_taste_clusters(env.guild, train=False)
    await env.seed(env.guild, {env.alice.id: {"Star Wars": 10, "Alien": 9, "Casablanca": 2},
                               env.bob.id: {"Jaws": 9, "Vertigo": 4, "Superman": 8}})


async def _watchlist(env: Env, member) -> list[str]:
    return [e.movie.label for e in await env.storage.watchlist(env.guild.id, member.id)]


async def _night(env: Env, candidates: int = 5):
    reply = await env.run(env.alice, "movienight", members=env.bob.mention,
                          candidates=candidates)
    assert not reply.ephemeral
    return reply


def _public(reply) -> str:
    """Everything of the message anyone in the channel sees (minus the closing time)."""
    text = re.sub(r"<t:\d+:R>", "<t:…>", reply.rendered_text())
    return text + "|" + "|".join(b.get("label", "") for b in reply.buttons)


async def test_row4_the_public_message_says_nothing_of_a_watchlist(env: Env) -> None:
    await _seeded(env)
    before = await _night(env)
    shown, labels = _public(before), _labels(before)
    await _click(env, env.alice, before, "End vote")
    # Bob puts the least-favoured candidate on his (private) watchlist.
    movie = await env.movie(labels[-1].rsplit(" (", 1)[0])
    await env.storage.watchlist_add(env.guild.id, env.bob.id, movie.id)
    after = await _night(env)
    assert _public(after) == shown  # same movies, same order, no count
    assert "watchlist" not in after.rendered_text()
    # The result says nothing of how many watchlists gained the winner (Bob has it already).
    await _click(env, env.alice, after, f"{len(labels)}.")
    await _click(env, env.bob, after, f"{len(labels)}.")
    done = await _click(env, env.alice, after, "End vote")
    assert done.content == (f"🎬 Movie night pick: **{labels[-1]}** with 2 votes. It goes on "
                            "the watchlists of those who took part.")


async def test_row12_naming_a_member_does_not_change_their_watchlist(env: Env) -> None:
    await _seeded(env)
    reply = await env.run(env.alice, "movienight",
                          members=f"{env.bob.mention} {env.carol.mention}", candidates=2)
    await _click(env, env.carol, reply, "2.")  # Carol votes: she takes part
    done = await _click(env, env.alice, reply, "End vote")  # Bob never pressed anything
    winner = _labels(reply)[1]
    assert f"**{winner}**" in done.content
    assert await _watchlist(env, env.bob) == []
    assert await _watchlist(env, env.carol) == [winner]
    assert await _watchlist(env, env.alice) == [winner]  # she started it


async def _forget(env: Env, member) -> None:
    ask = await env.run(member, "forgetme")
    await _click(env, member, ask, "Delete my ratings")


async def test_row20_forgetme_cancels_the_members_part_in_an_open_vote(env: Env) -> None:
    await _seeded(env)
    reply = await _night(env, candidates=2)
    await _click(env, env.bob, reply, "1.")
    await _click(env, env.alice, reply, "1.")
    await _forget(env, env.bob)

    def redrawn():
        message = env.emu.message(reply.id)
        return message if message is not None and "1 of 1 attendee voted" in \
            message.embed["footer"]["text"] else None

    shown = await env.emu.wait_until(redrawn, 10.0, "the vote without Bob")
    assert "Attendees: alice" in shown.embed["description"]
    assert "bob" not in shown.embed["description"]
    assert _button(shown, "1.")["label"].endswith(" · 1")  # his vote is gone
    done = await _click(env, env.alice, reply, "End vote")
    assert "with 1 vote." in done.content
    assert await _watchlist(env, env.bob) == []  # the winner did not come back
    assert await _watchlist(env, env.alice) == [_labels(reply)[0]]
    assert env.bot.app.movienight.open_nights(env.guild.id) == 0


async def test_row20_forgetme_takes_a_member_out_of_a_join_message(env: Env) -> None:
    await _seeded(env)
    await env.storage.update_guild_settings(env.guild.id, ratings_visible=False)
    reply = await env.run(env.alice, "movienight", members=env.bob.mention)
    joined = await _click(env, env.bob, reply, "Join")
    assert "Joined: alice, bob" in joined.content
    await _forget(env, env.bob)

    def redrawn():
        message = env.emu.message(reply.id)
        return message if message is not None and "Joined: alice\n" in message.content + "\n" \
            else None

    await env.emu.wait_until(redrawn, 10.0, "the Join message without Bob")
    refused = await _click(env, env.alice, reply, "Start the vote")
    assert refused.ephemeral and "at least one more" in refused.content


async def test_row9_the_cap_comes_before_any_member_fetch(env: Env) -> None:
    await _seeded(env)
    strangers = " ".join(f"<@{10**17 + i}>" for i in range(60))
    before = len(env.emu.requests_matching(MEMBER_FETCHES))
    reply = await env.run(env.alice, "movienight", members=strangers)
    assert reply.ephemeral and "at most 25 members (this one has 61)" in reply.content
    assert len(env.emu.requests_matching(MEMBER_FETCHES)) == before  # nobody was fetched


async def test_row9_fetching_members_defers_first_and_refuses_in_private(env: Env) -> None:
    await _seeded(env)
    # Two members the bot has not cached (in the world, no GUILD_MEMBER_ADD sent), one
    # stranger; every fetch takes a while.
    erin = env.guild.add_member("erin")
    finn = env.guild.add_member("finn")
    slow = env.emu.faults.delay(MEMBER_FETCHES, 0.3)
    inter = await env.slash(env.alice, "movienight",
                            members=f"{erin.mention} {finn.mention} <@{10**17}>")
    first = await inter.response()
    assert first.deferred  # "thinking…" before the fetches
    refusal = (await inter.followups())[0]
    assert refusal.ephemeral and f"User {10**17} is not a member" in refusal.content
    assert inter.deleted or env.emu.message(first.id) is None  # no public trace
    assert slow.hits == 3
    # The same with members only: the vote follows the deferral, in public.
    ok = await env.run(env.alice, "movienight", members=f"{erin.mention} {finn.mention}")
    assert not ok.ephemeral and "Attendees: alice, erin, finn" in ok.embed["description"]
