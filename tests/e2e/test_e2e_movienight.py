"""End-to-end: /movienight through the Discord emulator, the button vote (the bot without
Send Polls; native polls: test_e2e_movienight_poll.py): public picks none of the attendees
rated (watchlisted ones preferred, never counted in public), button votes with live counts
(one per attendee, changeable), the starter ending the vote, the timer closing it, the winner
on the watchlists of those who took part, and under hidden ratings the Join step (only those
who joined count)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from emulator import Permissions

if TYPE_CHECKING:
    from conftest import Env


@pytest.fixture(autouse=True)
def _no_polls(env: Env) -> None:
    """These tests hold the vote with buttons: the bot may not send polls."""
    env.guild.everyone.permissions &= ~Permissions.SEND_POLLS
    env.guild.bot_role.permissions &= ~Permissions.SEND_POLLS

LINE_RE = re.compile(r"^\d+\. \*\*(?P<label>.+?)\*\*")


def _button(reply, label: str) -> dict:
    return next(b for b in reply.buttons if b.get("label", "").startswith(label))


def _labels(reply) -> list[str]:
    return [m.group("label") for line in reply.embed["description"].splitlines()
            if (m := LINE_RE.match(line))]


async def _click(env: Env, member, reply, label: str):
    return await (await env.emu.click(member, reply, _button(reply, label)["custom_id"])
                  ).response()


async def _started(env: Env, member, reply):
    """Press Start the vote (a deferred update: the picks may take a moment) and return the
    message once it shows the vote."""
    await _click(env, member, reply, "Start the vote")

    def vote():
        message = env.emu.message(reply.id)
        return message if message is not None and message.embed is not None else None

    return await env.emu.wait_until(vote, 10.0, "the vote to open")


async def _seeded(env: Env) -> None:
    await env.seed_taste_clusters(env.guild, train=False)
    await env.seed(env.guild, {env.alice.id: {"Star Wars": 10, "Alien": 9, "Casablanca": 2},
                               env.bob.id: {"Jaws": 9, "Vertigo": 4, "Superman": 8}})


async def test_vote_from_picks_to_winner(env: Env) -> None:
    await _seeded(env)
    reply = await env.run(env.alice, "movienight", members=f"{env.bob.mention}",
                          candidates=3)
    assert not reply.ephemeral and reply.allowed_mentions["parse"] == []
    assert "Attendees: alice, bob" in reply.embed["description"]
    labels = _labels(reply)
    assert len(labels) == 3
    rated = {"Star Wars (1977)", "Alien (1979)", "Casablanca (1942)", "Jaws (1975)",
             "Vertigo (1958)", "Superman (1978)"}
    assert not rated & set(labels)
    votes = [b for b in reply.buttons if b["label"][0].isdigit()]
    assert [b["label"].rsplit(" · ", 1)[1] for b in votes] == ["0", "0", "0"]
    # Alice votes 1, changes to 2; Bob votes 2: live counts.
    after = await _click(env, env.alice, reply, "1.")
    assert _button(after, "1.")["label"].endswith(" · 1")
    after = await _click(env, env.alice, reply, "2.")
    assert _button(after, "1.")["label"].endswith(" · 0")
    assert _button(after, "2.")["label"].endswith(" · 1")
    after = await _click(env, env.bob, reply, "2.")
    assert _button(after, "2.")["label"].endswith(" · 2")
    assert "2 of 2 attendees voted" in after.embed["footer"]["text"]
    # Carol is not an attendee; Bob cannot end the vote.
    refused = await _click(env, env.carol, reply, "1.")
    assert refused.ephemeral and "for the movie night's attendees" in refused.content
    refused = await _click(env, env.bob, reply, "End vote")
    assert refused.ephemeral and "Only alice" in refused.content
    done = await _click(env, env.alice, reply, "End vote")
    assert f"Movie night pick: **{labels[1]}** with 2 votes" in done.content
    assert "goes on the watchlists of those who took part" in done.content
    assert all(b["disabled"] for b in done.buttons)
    assert done.allowed_mentions["parse"] == []
    for member in (env.alice, env.bob):
        listed = await env.storage.watchlist(env.guild.id, member.id)
        assert [e.movie.label for e in listed] == [labels[1]]


async def test_watchlisted_movies_rank_up(env: Env) -> None:
    await _seeded(env)
    first = await env.run(env.alice, "movienight", members=env.bob.mention, candidates=2)
    await _click(env, env.alice, first, "End vote")  # no votes: no winner
    pool = await env.run(env.alice, "movienight", members=env.bob.mention, candidates=5)
    last = _labels(pool)[-1]
    movie = await env.movie(last.rsplit(" (", 1)[0])
    await env.storage.watchlist_add(env.guild.id, env.bob.id, movie.id)
    again = await env.run(env.alice, "movienight", members=env.bob.mention, candidates=2)
    assert last in _labels(again)  # preferred over better group scores...
    assert "watchlist" not in again.embed["description"]  # ...and never said in public


async def test_the_vote_closes_by_itself(env: Env) -> None:
    await _seeded(env)
    env.bot.get_cog("MovieNight").vote_seconds = 0.5
    await env.emu.join_voice(env.bob, env.voice)
    await env.emu.join_voice(env.alice, env.voice)
    reply = await env.run(env.alice, "movienight")  # attendees: alice's voice channel
    assert "Attendees: alice, bob" in reply.embed["description"] or \
           "Attendees: bob, alice" in reply.embed["description"]
    await _click(env, env.bob, reply, "1.")

    def closed():
        message = env.emu.message(reply.id)
        return message if message is not None and "Movie night pick" in message.content \
            else None

    final = await env.emu.wait_until(closed, 10.0, "the vote to close by itself")
    assert all(b["disabled"] for b in final.buttons)


async def test_a_movie_night_needs_company(env: Env) -> None:
    await _seeded(env)
    reply = await env.run(env.carol, "movienight")
    assert reply.ephemeral and "needs at least two people" in reply.content


async def test_hidden_ratings_count_only_those_who_joined(env: Env) -> None:
    await _seeded(env)
    await env.storage.update_guild_settings(env.guild.id, ratings_visible=False)
    reply = await env.run(env.alice, "movienight", members=env.bob.mention)
    assert not reply.ephemeral and "only those who press **Join** count" in reply.content
    assert "Joined: alice" in reply.content and "Invited: bob" in reply.content
    early = await _click(env, env.alice, reply, "Start the vote")
    assert early.ephemeral and "at least one more" in early.content
    joined = await _click(env, env.carol, reply, "Join")  # anyone may join
    assert "Joined: alice, carol" in joined.content
    refused = await _click(env, env.carol, reply, "Start the vote")
    assert "Only alice can start" in refused.content
    vote = await _started(env, env.alice, reply)
    assert vote.id == reply.id and vote.embed is not None
    assert "Attendees: alice, carol" in vote.embed["description"]
    # Bob did not join: his ratings did not shape the list and he has no vote.
    nope = await _click(env, env.bob, vote, "1.")
    assert "for the movie night's attendees" in nope.content
    labels = set(_labels(vote))
    assert not labels & {"Star Wars (1977)", "Alien (1979)", "Casablanca (1942)"}


async def test_a_vote_opened_after_joining_also_closes_by_itself(env: Env) -> None:
    await _seeded(env)
    await env.storage.update_guild_settings(env.guild.id, ratings_visible=False)
    env.bot.get_cog("MovieNight").vote_seconds = 0.5
    reply = await env.run(env.alice, "movienight", members=env.bob.mention)
    await _click(env, env.bob, reply, "Join")
    vote = await _started(env, env.alice, reply)
    await _click(env, env.bob, vote, "1.")

    def closed():
        message = env.emu.message(reply.id)
        return message if message is not None and "Movie night pick" in message.content \
            else None

    final = await env.emu.wait_until(closed, 10.0, "the vote to close by itself")
    assert all(b["disabled"] for b in final.buttons)
    assert "with 1 vote." in final.content
