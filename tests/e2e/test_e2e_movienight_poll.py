"""End-to-end: /movienight held as a native Discord poll (the bot has Send Polls): the list
with End vote, then a poll whose answers are the candidates (cut to 55 characters, `hours`
long); members vote in the poll (gateway events, as on Discord); the winner is read from the
poll's voters (only attendees count), a tie goes to the group's score and the result says so;
Discord ending the poll at its expiry still gives the result."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bot.domain.models import Movie
from bot.service.movienight import Tally
from cogs.movienight import poll_answer

if TYPE_CHECKING:
    from conftest import Env

LINE_RE = re.compile(r"^\d+\. \*\*(?P<label>.+?)\*\*")


def _labels(reply) -> list[str]:
    return [m.group("label") for line in reply.embed["description"].splitlines()
            if (m := LINE_RE.match(line))]


async def _seeded(env: Env) -> None:
    await env.seed_taste_clusters(env.guild, train=False)
    await env.seed(env.guild, {env.alice.id: {"Star Wars": 10, "Alien": 9, "Casablanca": 2},
                               env.bob.id: {"Jaws": 9, "Vertigo": 4, "Superman": 8}})


async def _night(env: Env, **options):
    inter = await env.slash(env.alice, "movienight",
                            members=f"{env.bob.mention} {env.carol.mention}", **options)
    listing = await env.answer(inter)
    poll = await env.emu.wait_until(lambda: inter.followup_replies and inter.followup_replies[0],
                                    10.0, "the poll")
    return listing, env.emu.message(poll.id)


async def _closed(env: Env, listing):
    def closed():
        message = env.emu.message(listing.id)
        return message if message is not None and ("Movie night pick" in message.content
                                                   or "no winner" in message.content) else None

    return await env.emu.wait_until(closed, 10.0, "the result")


async def test_a_poll_night_with_three_members(env: Env) -> None:
    await _seeded(env)
    listing, poll = await _night(env, candidates=3)
    labels = _labels(listing)
    assert "Vote in the poll below" in listing.embed["description"]
    assert [b["label"] for b in listing.buttons] == ["End vote"]
    assert poll.poll_answers == labels  # short titles: as listed
    expiry = datetime.fromisoformat(poll.poll["expiry"])
    assert timedelta(minutes=59) < expiry - datetime.now(UTC) <= timedelta(hours=1)
    await env.emu.poll_vote(env.alice, poll.id, 2)
    await env.emu.poll_vote(env.bob, poll.id, 1)
    await env.emu.poll_vote(env.bob, poll.id, 2)  # changes his mind
    await env.emu.poll_vote(env.carol, poll.id, 3)
    await env.emu.poll_vote(env.dave, poll.id, 3)  # not invited: does not count
    await env.emu.poll_vote(env.owner, poll.id, 3)
    refused = await (await env.emu.click(env.bob, listing, listing.buttons[0]["custom_id"])
                     ).response()
    assert refused.ephemeral and "Only alice" in refused.content
    await (await env.emu.click(env.alice, listing, listing.buttons[0]["custom_id"])).response()
    done = await _closed(env, listing)
    assert f"Movie night pick: **{labels[1]}** with 2 votes" in done.content
    assert "2 votes from members who are not attendees did not count" in done.content
    assert env.emu.message(poll.id).poll["results"]["is_finalized"]
    for member in (env.alice, env.bob, env.carol):
        listed = await env.storage.watchlist(env.guild.id, member.id)
        assert [e.movie.label for e in listed] == [labels[1]]
    assert await env.storage.watchlist(env.guild.id, env.dave.id) == []


async def test_a_tie_goes_to_the_group_score(env: Env) -> None:
    await _seeded(env)
    listing, poll = await _night(env, candidates=2, hours=3)
    labels = _labels(listing)
    expiry = datetime.fromisoformat(poll.poll["expiry"])
    assert expiry - datetime.now(UTC) > timedelta(hours=2, minutes=59)
    await env.emu.poll_vote(env.alice, poll.id, 2)
    await env.emu.poll_vote(env.bob, poll.id, 1)
    await (await env.emu.click(env.alice, listing, listing.buttons[0]["custom_id"])).response()
    done = await _closed(env, listing)
    assert f"Movie night pick: **{labels[0]}** with 1 vote" in done.content
    assert f"It tied with **{labels[1]}**; the group's score" in done.content


async def test_discord_ends_the_poll_before_the_bot_looks(env: Env) -> None:
    await _seeded(env)
    env.bot.get_cog("MovieNight").poll_seconds = 1.0
    listing, poll = await _night(env, candidates=2)
    labels = _labels(listing)
    await env.emu.poll_vote(env.carol, poll.id, 2)
    await env.emu.end_poll(poll.id)  # Discord's clock
    done = await _closed(env, listing)
    assert f"Movie night pick: **{labels[1]}** with 1 vote" in done.content


async def test_a_refused_poll_falls_back_to_buttons(env: Env) -> None:
    await _seeded(env)
    env.emu.faults.error("POST /webhooks/*", 403, count=1,
                         body={"message": "Missing Permissions", "code": 50013})
    inter = await env.slash(env.alice, "movienight", members=env.bob.mention, candidates=2)
    await env.answer(inter)

    def buttons():
        message = env.emu.message(inter.original_message_id)
        return message if message is not None and len(message.buttons) == 3 else None

    vote = await env.emu.wait_until(buttons, 10.0, "the button vote")
    assert "press another to change it" in vote.embed["description"]


def test_poll_answers_are_cut_to_55_characters() -> None:
    movie = Movie(id=1, title="A" * 80, year=2001, genres=())
    answer = poll_answer(movie)
    assert len(answer) == 55 and answer.endswith("…")
    assert poll_answer(Movie(id=2, title="Heat", year=1995, genres=())) == "Heat (1995)"


def test_a_tie_is_broken_by_the_score() -> None:
    tally = Tally(3, {1, 2, 3}, scores=[6.0, 8.5, 7.0])
    tally.vote(1, 0)
    tally.vote(2, 1)
    tally.vote(3, 2)
    assert tally.tied() == [0, 1, 2] and tally.winner() == 1


async def test_under_hidden_ratings_the_poll_follows_the_join_step(env: Env) -> None:
    await _seeded(env)
    await env.storage.update_guild_settings(env.guild.id, ratings_visible=False)
    reply = await env.run(env.alice, "movienight", members=env.bob.mention, candidates=2)
    join = next(b for b in reply.buttons if b["label"] == "Join")
    await (await env.emu.click(env.bob, reply, join["custom_id"])).response()
    start = next(b for b in reply.buttons if b["label"] == "Start the vote")
    started = await env.emu.click(env.alice, reply, start["custom_id"])
    await started.response()
    poll = await env.emu.wait_until(
        lambda: started.followup_replies and started.followup_replies[0], 10.0, "the poll")
    listing = await env.emu.wait_until(
        lambda: (m := env.emu.message(reply.id)) is not None and m.embed is not None and m,
        10.0, "the list")
    labels = _labels(listing)
    assert env.emu.message(poll.id).poll_answers == labels
    await env.emu.poll_vote(env.bob, poll.id, 2)
    await env.emu.poll_vote(env.carol, poll.id, 1)  # did not join: does not count
    end = next(b for b in listing.buttons if b["label"] == "End vote")
    await (await env.emu.click(env.alice, listing, end["custom_id"])).response()
    done = await _closed(env, listing)
    assert f"Movie night pick: **{labels[1]}** with 1 vote" in done.content
    assert "1 vote from members who are not attendees did not count" in done.content
