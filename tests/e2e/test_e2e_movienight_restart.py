"""End-to-end: movie-night votes survive a restart of the bot. The open vote is stored; the new
process re-attaches its view (stable custom ids) and re-arms its timer: a poll voted on while
the bot was down still gives the right winner, a button vote keeps the votes cast before the
restart, a vote whose time ran out while the bot was down is closed with its result at
start-up, /forgetme takes a member out of a stored vote, and an event's reminder that fell due
while the bot was down runs at start-up."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import re
import time
from typing import TYPE_CHECKING

import timeouts

from bot import create_bot
from emulator import Permissions, running_bot

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


async def _press(env: Env, member, reply, label: str):
    button = next(b for b in env.emu.message(reply.id).buttons
                  if b.get("label", "").startswith(label))
    return await (await env.emu.click(member, reply, button["custom_id"])).response()


async def _closed(env: Env, listing):
    def closed():
        message = env.emu.message(listing.id)
        return message if message is not None and "Movie night pick" in message.content \
            else None

    return await env.emu.wait_until(closed, 15.0, "the result")


@contextlib.asynccontextmanager
async def _restarted(env: Env):
    """A new bot process on the same database and Discord (the old one closed), once it has
    resumed the stored votes."""
    async with running_bot(create_bot(env.bot.settings, guild_ready_timeout=0.1),
                           env.emu) as bot:
        await asyncio.wait_for(bot.get_cog("MovieNight").resumed.wait(), timeouts.scaled(10))
        yield bot


async def _stored(env: Env):
    """The guild's stored open votes, once the bot has stored one (it does so right after
    posting the vote)."""
    deadline = time.monotonic() + timeouts.scaled(10.0)
    while not (nights := await env.storage.open_movie_nights([env.guild.id])):
        assert time.monotonic() < deadline, "the vote was never stored"
        await asyncio.sleep(0.02)
    return nights


async def test_a_poll_voted_while_the_bot_was_down_still_finds_the_winner(env: Env) -> None:
    await _seeded(env)
    inter = await env.slash(env.alice, "movienight",
                            members=f"{env.bob.mention} {env.carol.mention}", candidates=3)
    listing = await env.answer(inter)
    labels = _labels(listing)
    poll = await env.emu.wait_until(lambda: inter.followup_replies and inter.followup_replies[0],
                                    10.0, "the poll")
    await env.emu.poll_vote(env.alice, poll.id, 3)
    assert len(await _stored(env)) == 1
    await env.bot.close()
    await env.emu.poll_vote(env.bob, poll.id, 3)  # Discord keeps taking votes
    await env.emu.poll_vote(env.carol, poll.id, 1)
    async with _restarted(env) as bot:
        await _press(env, env.alice, listing, "End vote")
        done = await _closed(env, listing)
        assert f"Movie night pick: **{labels[2]}** with 2 votes" in done.content
        for member in (env.alice, env.bob, env.carol):
            listed = await bot.storage.watchlist(env.guild.id, member.id)
            assert [e.movie.label for e in listed] == [labels[2]]
        assert not await bot.storage.open_movie_nights([env.guild.id])


async def test_a_button_vote_keeps_its_votes_and_forgets_who_asked(env: Env) -> None:
    await _seeded(env)
    await env.seed(env.guild, {env.carol.id: {"Vertigo": 6}})  # something to forget
    env.guild.everyone.permissions &= ~Permissions.SEND_POLLS
    env.guild.bot_role.permissions &= ~Permissions.SEND_POLLS
    listing = await env.run(env.alice, "movienight",
                            members=f"{env.bob.mention} {env.carol.mention}", candidates=2)
    labels = _labels(listing)
    await _press(env, env.alice, listing, "2.")
    await _press(env, env.bob, listing, "1.")
    await _press(env, env.carol, listing, "1.")
    ask = await env.run(env.carol, "forgetme")  # carol's vote goes, here and in storage
    await (await env.emu.click(env.carol, ask, next(
        b["custom_id"] for b in ask.buttons if b["label"] == "Delete my ratings"))).response()
    [stored] = await _stored(env)
    assert env.carol.id not in {m.user_id for m in stored.members}
    await env.bot.close()
    async with _restarted(env) as bot:
        shown = await _press(env, env.bob, listing, "2.")  # bob changes his mind
        assert shown.embeds and "2 of 2 attendees voted" in shown.embed["footer"]["text"]
        await _press(env, env.alice, listing, "End vote")
        done = await _closed(env, listing)
        assert f"Movie night pick: **{labels[1]}** with 2 votes" in done.content
        assert await bot.storage.watchlist(env.guild.id, env.carol.id) == []


async def test_a_vote_that_ended_while_the_bot_was_down_closes_at_start_up(env: Env) -> None:
    await _seeded(env)
    inter = await env.slash(env.alice, "movienight", members=env.bob.mention, candidates=2)
    listing = await env.answer(inter)
    labels = _labels(listing)
    poll = await env.emu.wait_until(lambda: inter.followup_replies and inter.followup_replies[0],
                                    10.0, "the poll")
    await env.emu.poll_vote(env.bob, poll.id, 2)
    [stored] = await _stored(env)
    # As if its hour had passed (the running bot's own timer is still an hour away).
    await env.storage.save_movie_night(dataclasses.replace(stored, closes_at=time.time() - 60))
    await env.bot.close()
    await env.emu.end_poll(poll.id)  # Discord ends it at its expiry, the bot being down
    async with _restarted(env):
        done = await _closed(env, listing)
        assert f"Movie night pick: **{labels[1]}** with 1 vote" in done.content


async def test_an_events_reminder_due_while_the_bot_was_down_runs_at_start_up(env: Env) -> None:
    await _seeded(env)
    env.guild.bot_role.permissions |= Permissions.MANAGE_EVENTS
    inter = await env.slash(env.alice, "movienight", members=env.bob.mention, candidates=2,
                            when="tomorrow 21:00", where="The club")
    listing = await env.answer(inter)
    labels = _labels(listing)
    poll = await env.emu.wait_until(lambda: inter.followup_replies and inter.followup_replies[0],
                                    10.0, "the poll")
    await env.emu.poll_vote(env.bob, poll.id, 1)
    await _press(env, env.alice, listing, "End vote")
    await _closed(env, listing)
    [event] = env.guild.scheduled_events.values()
    [stored] = await env.storage.night_events([env.guild.id])
    await env.bot.close()
    await env.emu.event_interested(env.carol, event)  # while the bot is down
    # As if the reminder time had come while the bot was down.
    from bot.storage import Storage

    async with await Storage.open(env.bot.settings.database) as storage:
        await storage.save_night_event(dataclasses.replace(stored, remind_at=time.time() - 5))
    sent = len(env.emu.sent_messages)
    async with _restarted(env) as bot:
        reminder = await env.emu.wait_for_message(env.channel, after=sent, timeout=15.0)
        assert labels[0] in reminder.content and "carol" in reminder.content
        listed = await bot.storage.watchlist(env.guild.id, env.carol.id)
        assert [e.movie.label for e in listed] == [labels[0]]
        assert await bot.storage.watchlist(env.guild.id, env.bob.id) == []
        deadline = time.monotonic() + timeouts.scaled(10.0)
        while await bot.storage.night_events([env.guild.id]):  # done once it is posted
            assert time.monotonic() < deadline, "the reminder stayed stored"
            await asyncio.sleep(0.02)


async def _joins(env: Env, storage=None):
    """The guild's stored Join messages, once there is one (stored right after it is
    posted)."""
    storage = storage or env.storage
    deadline = time.monotonic() + timeouts.scaled(10.0)
    while not (joins := await storage.movie_night_joins([env.guild.id])):
        assert time.monotonic() < deadline, "the Join message was never stored"
        await asyncio.sleep(0.02)
    return joins


async def test_a_join_message_resumes_and_counts_who_joined_before_and_after(env: Env) -> None:
    await _seeded(env)
    await env.storage.update_guild_settings(env.guild.id, ratings_visible=False)
    env.guild.everyone.permissions &= ~Permissions.SEND_POLLS
    env.guild.bot_role.permissions &= ~Permissions.SEND_POLLS
    reply = await env.run(env.alice, "movienight",
                          members=f"{env.bob.mention} {env.carol.mention}", candidates=2)
    assert "only those who press **Join** count" in reply.content
    joined = await _press(env, env.bob, reply, "Join")
    assert "Joined: alice, bob" in joined.content
    [stored] = await _joins(env)
    assert {m.user_id for m in stored.members if m.took_part} == {env.alice.id, env.bob.id}
    await env.bot.close()
    async with _restarted(env) as bot:
        later = await _press(env, env.carol, reply, "Join")  # the same button, a new process
        assert "Joined: alice, bob, carol" in later.content
        refused = await _press(env, env.bob, reply, "Start the vote")
        assert refused.ephemeral and "Only alice can start" in refused.content
        await _press(env, env.alice, reply, "Start the vote")
        vote = await env.emu.wait_until(
            lambda: (m := env.emu.message(reply.id)) is not None and m.embed is not None and m,
            10.0, "the vote")
        assert "Attendees: alice, bob, carol" in vote.embed["description"]
        assert await bot.storage.movie_night_joins([env.guild.id]) == []
        labels = _labels(vote)
        await _press(env, env.carol, vote, "2.")
        await _press(env, env.bob, vote, "2.")
        await _press(env, env.alice, vote, "End vote")
        done = await _closed(env, reply)
        assert f"Movie night pick: **{labels[1]}** with 2 votes" in done.content
        for member in (env.alice, env.bob, env.carol):
            listed = await bot.storage.watchlist(env.guild.id, member.id)
            assert [e.movie.label for e in listed] == [labels[1]]


async def test_a_join_message_that_expired_while_the_bot_was_down_ends(env: Env) -> None:
    await _seeded(env)
    await env.storage.update_guild_settings(env.guild.id, ratings_visible=False)
    reply = await env.run(env.alice, "movienight", members=env.bob.mention)
    [stored] = await _joins(env)
    # As if its ten minutes had passed while the bot was down.
    await env.storage.save_movie_night_join(dataclasses.replace(stored,
                                                                expires_at=time.time() - 5))
    await env.bot.close()
    async with _restarted(env) as bot:
        ended = await env.emu.wait_until(
            lambda: (m := env.emu.message(reply.id)) is not None and "expired" in m.content
            and m, 10.0, "the expiry")
        assert all(b["disabled"] for b in ended.buttons)
        deadline = time.monotonic() + timeouts.scaled(10.0)
        while await bot.storage.movie_night_joins([env.guild.id]):
            assert time.monotonic() < deadline, "the expired Join message stayed stored"
            await asyncio.sleep(0.02)


async def test_a_restored_vote_redraws_in_its_own_language(env: Env) -> None:
    """After a restart no interaction says which language the public vote speaks: the one it
    was started in (its starter's), stored with it, never English by default."""
    await _seeded(env)
    env.guild.everyone.permissions &= ~Permissions.SEND_POLLS
    env.guild.bot_role.permissions &= ~Permissions.SEND_POLLS
    env.alice.user.locale = "de"
    listing = await env.run(env.alice, "filmabend", mitglieder=env.bob.mention, kandidaten=2)
    assert listing.embed["title"].startswith("Filmabend mit "), listing.embed
    await _press(env, env.alice, listing, "1.")
    [stored] = await _stored(env)
    assert stored.language == "de"
    await env.bot.close()
    async with _restarted(env):
        shown = await _press(env, env.bob, listing, "2.")  # an English client's press
        assert shown.embed["title"].startswith("Filmabend mit "), shown.embed
        assert shown.embed["footer"]["text"].startswith("2 von 2 "), shown.embed["footer"]
        message = env.emu.message(listing.id)
        assert any(b.get("label") == "Abstimmung beenden" for b in message.buttons)


async def test_a_vote_stored_without_a_language_redraws_in_the_servers(env: Env) -> None:
    """A vote stored before its language was kept: the server's `/settings language`."""
    await _seeded(env)
    env.guild.everyone.permissions &= ~Permissions.SEND_POLLS
    env.guild.bot_role.permissions &= ~Permissions.SEND_POLLS
    listing = await env.run(env.alice, "movienight", members=env.bob.mention, candidates=2)
    assert listing.embed["title"].startswith("Movie night with ")
    [stored] = await _stored(env)
    await env.storage.save_movie_night(dataclasses.replace(stored, language=None))
    await env.storage.update_guild_settings(env.guild.id, language="fr")
    await env.bot.close()
    async with _restarted(env):
        shown = await _press(env, env.bob, listing, "2.")
        assert shown.embed["title"].startswith("Soirée film avec "), shown.embed
