"""Native polls and scheduled events through a real discord.py client: Discord's limits on
a poll (10 answers, 55-character answers, 300-character question, whole hours 1-768) and on an
event, Send Polls and Manage Events refusals, members' votes and RSVPs as gateway events, the
end of a poll (final results, Discord's poll_result message) and the events' user lists."""

from __future__ import annotations

import asyncio
import datetime as dt

import discord
import pytest

from emulator import DiscordEmulator, EventStatus, Permissions, running_bot


def _bot(guild_id: int) -> discord.Client:
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_polls = True
    intents.guild_scheduled_events = True
    intents.members = True  # discord.py drops an RSVP event whose user it has not cached
    client = discord.Client(intents=intents, guild_ready_timeout=0.1)
    client.seen = []  # type: ignore[attr-defined]

    async def on_raw_poll_vote_add(payload: discord.RawPollVoteActionEvent) -> None:
        client.seen.append(("add", payload.user_id, payload.answer_id))  # type: ignore[attr-defined]

    async def on_raw_poll_vote_remove(payload: discord.RawPollVoteActionEvent) -> None:
        client.seen.append(("remove", payload.user_id, payload.answer_id))  # type: ignore[attr-defined]

    async def on_scheduled_event_user_add(event: discord.ScheduledEvent, user) -> None:
        client.seen.append(("rsvp", event.id, user.id))  # type: ignore[attr-defined]

    async def on_scheduled_event_user_remove(event: discord.ScheduledEvent, user) -> None:
        client.seen.append(("unrsvp", event.id, user.id))  # type: ignore[attr-defined]

    for handler in (on_raw_poll_vote_add, on_raw_poll_vote_remove,
                    on_scheduled_event_user_add, on_scheduled_event_user_remove):
        client.event(handler)
    return client


def _poll(answers: list[str], hours: float = 1, question: str = "Tonight?") -> discord.Poll:
    poll = discord.Poll(question=question, duration=dt.timedelta(hours=hours))
    for text in answers:
        poll.add_answer(text=text)
    return poll


async def _seen(emu: DiscordEmulator, client, item) -> None:
    await emu.wait_until(lambda: item in client.seen, 5.0, f"the bot to see {item}")


@pytest.fixture
async def world(emu: DiscordEmulator):
    guild = emu.world.create_guild("Club", voice_channels=("Cinema",))
    alice, bob = guild.add_member("alice"), guild.add_member("bob")
    client = _bot(guild.id)
    async with running_bot(client, emu):
        yield guild, alice, bob, client


async def test_poll_votes_end_and_results(emu: DiscordEmulator, world) -> None:
    guild, alice, bob, client = world
    channel = client.get_channel(guild.channel("general").id)
    message = await channel.send(poll=_poll(["Heat", "Alien", "Jaws"]))
    assert [a.text for a in message.poll.answers] == ["Heat", "Alien", "Jaws"]
    assert message.poll.expires_at is not None
    await emu.poll_vote(alice, message.id, 2)
    await emu.poll_vote(bob, message.id, 1)
    await emu.poll_vote(bob, message.id, 2)  # single choice: the vote moves
    await _seen(emu, client, ("remove", bob.id, 1))
    await _seen(emu, client, ("add", bob.id, 2))
    fetched = await channel.fetch_message(message.id)
    assert fetched.poll.get_answer(2).vote_count == 2
    assert fetched.poll.get_answer(1).vote_count == 0
    voters = [u.id async for u in fetched.poll.get_answer(2).voters()]
    assert sorted(voters) == sorted([alice.id, bob.id])
    ended = await message.end_poll()
    assert ended.poll.is_finalised()
    assert ended.poll.get_answer(2).vote_count == 2
    result = emu.poll_results[-1]
    fields = {f["name"]: f["value"] for f in result["embeds"][0]["fields"]}
    assert result["type"] == discord.MessageType.poll_result.value
    assert fields["victor_answer_id"] == "2" and fields["total_votes"] == "2"
    assert result["message_reference"]["message_id"] == str(message.id)
    with pytest.raises(discord.HTTPException) as again:
        await message.end_poll()
    assert again.value.code == 520001
    with pytest.raises(ValueError):
        await emu.poll_vote(alice, message.id, 1)  # over: no more votes


async def test_a_tie_has_no_victor_and_discord_ends_due_polls(emu: DiscordEmulator,
                                                              world) -> None:
    guild, alice, bob, client = world
    channel = client.get_channel(guild.channel("general").id)
    message = await channel.send(poll=_poll(["Heat", "Alien"]))
    await emu.poll_vote(alice, message.id, 1)
    await emu.poll_vote(bob, message.id, 2)
    ended = await emu.polls.end_due(dt.datetime.now(dt.UTC) + dt.timedelta(hours=2))
    assert [int(m["id"]) for m in ended] == [message.id]
    fields = {f["name"] for f in emu.poll_results[-1]["embeds"][0]["fields"]}
    assert "victor_answer_id" not in fields
    fetched = await channel.fetch_message(message.id)
    assert fetched.poll.is_finalised()


@pytest.mark.parametrize(("answers", "hours", "question", "where"), [
    ([f"Movie {i}" for i in range(11)], 1, "Q", "poll.answers"),
    (["x" * 56, "ok"], 1, "Q", "poll.answers.0.poll_media.text"),
    (["a", "b"], 1, "q" * 301, "poll.question.text"),
    (["a", "b"], 769, "Q", "poll.duration"),
    (["a", "b"], 1.5, "Q", "poll.duration"),
])
async def test_poll_limits(emu: DiscordEmulator, world, answers, hours, question,
                           where) -> None:
    guild, _alice, _bob, client = world
    channel = client.get_channel(guild.channel("general").id)
    poll = discord.Poll(question=question, duration=dt.timedelta(hours=hours))
    for text in answers:
        poll._answers[len(poll._answers) + 1] = discord.PollAnswer(
            message=None, poll=poll, data={"answer_id": len(poll._answers) + 1,
                                           "poll_media": {"text": text}})
    with pytest.raises(discord.HTTPException) as refused:
        await channel.send(poll=poll)
    assert refused.value.status == 400 and refused.value.code == 50035
    assert any(where in line for line in emu.limit_violations())
    emu.rejections.clear()  # the fixture's emulator is checked by nobody else


async def test_a_poll_needs_send_polls(emu: DiscordEmulator, world) -> None:
    guild, _alice, _bob, client = world
    guild.everyone.permissions &= ~Permissions.SEND_POLLS
    guild.bot_role.permissions &= ~Permissions.SEND_POLLS
    channel = client.get_channel(guild.channel("general").id)
    with pytest.raises(discord.Forbidden) as refused:
        await channel.send(poll=_poll(["a", "b"]))
    assert refused.value.code == 50013


async def test_scheduled_events_rsvp_and_refusals(emu: DiscordEmulator, world) -> None:
    guild, alice, bob, client = world
    dguild = client.get_guild(guild.id)
    start = dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)
    with pytest.raises(discord.Forbidden) as refused:  # the default bot role cannot
        await dguild.create_scheduled_event(name="Heat", start_time=start,
                                            entity_type=discord.EntityType.external,
                                            location="Alice's", end_time=start
                                            + dt.timedelta(hours=3),
                                            privacy_level=discord.PrivacyLevel.guild_only)
    assert refused.value.code == 50013
    guild.bot_role.permissions |= Permissions.MANAGE_EVENTS
    with pytest.raises(discord.HTTPException) as no_end:  # external: an end time is required
        await client.http.create_guild_scheduled_event(
            guild.id, name="Heat", privacy_level=2, entity_type=3,
            scheduled_start_time=start.isoformat(), entity_metadata={"location": "here"})
    assert no_end.value.code == 50035
    with pytest.raises(discord.HTTPException):
        await client.http.create_guild_scheduled_event(
            guild.id, name="x" * 101, privacy_level=2, entity_type=2,
            channel_id=guild.channel("Cinema").id, scheduled_start_time=start.isoformat())
    emu.rejections.clear()
    cover = b"\x89PNG\r\n\x1a\nfake"
    voice = dguild.get_channel(guild.channel("Cinema").id)
    event = await dguild.create_scheduled_event(
        name="Movie night: Heat", start_time=start, channel=voice, image=cover,
        privacy_level=discord.PrivacyLevel.guild_only)
    assert event.entity_type is discord.EntityType.voice and event.cover_image is not None
    assert cover in emu.event_images.values()
    await emu.wait_until(lambda: dguild.get_scheduled_event(event.id), 5.0, "the CREATE")
    stored = guild.event(event.id)
    await emu.event_interested(alice, stored)
    await emu.event_interested(bob, stored)
    await emu.event_not_interested(bob, stored)
    await _seen(emu, client, ("unrsvp", event.id, bob.id))
    assert ("rsvp", event.id, alice.id) in client.seen
    fetched = await dguild.fetch_scheduled_event(event.id)
    assert fetched.user_count == 1
    assert [u.id async for u in fetched.users()] == [alice.id]
    await emu.set_event_status(stored, EventStatus.ACTIVE)
    await emu.wait_until(lambda: dguild.get_scheduled_event(event.id).status
                         is discord.EventStatus.active, 5.0, "the UPDATE")
    await fetched.delete()
    await asyncio.sleep(0)
    assert event.id not in guild.scheduled_events
