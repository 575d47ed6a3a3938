"""Open movie-night votes on both backends: saved (again: replaced), a button vote recorded,
read back per guild with their members, deleted when the vote closes, and purged with the
guild; a member's rows are member data (/forgetme deletes them)."""

from __future__ import annotations

from bot.domain.movie_nights import NightCandidate, NightEvent, NightMember, StoredNight
from bot.service.movienight import MEMBER_TABLE


def _night(guild_id: int = 1, night_id: int = 77, **changes) -> StoredNight:
    values = dict(
        id=night_id, guild_id=guild_id, channel_id=5, message_id=100, poll_message_id=None,
        candidates=(NightCandidate(11, 8.25, False), NightCandidate(12, 7.5, True)),
        personal=True, closes_at=1_900_000_000.5,
        members=(NightMember(21, "alice", starter=True, took_part=True),
                 NightMember(22, "bob")))
    values.update(changes)
    return StoredNight(**values)


async def test_a_night_round_trips_and_closes(store) -> None:
    await store.save_movie_night(_night())
    await store.save_movie_night(_night(guild_id=2, night_id=78, poll_message_id=101))
    await store.movie_night_vote(1, 77, 22, 1)
    [night] = await store.open_movie_nights([1])
    assert night.candidates == _night().candidates and night.personal
    assert night.closes_at == 1_900_000_000.5 and not night.is_poll
    assert {m.user_id: (m.starter, m.took_part, m.vote) for m in night.members} == {
        21: (True, True, None), 22: (False, True, 1)}
    assert night.starter is not None and night.starter.name == "alice"
    [other] = await store.open_movie_nights([2])
    assert other.is_poll and other.poll_message_id == 101
    await store.save_movie_night(_night(message_id=200, members=(NightMember(21, "alice"),)))
    [again] = await store.open_movie_nights([1])
    assert again.message_id == 200 and [m.user_id for m in again.members] == [21]
    await store.delete_movie_night(1, 77)
    assert await store.open_movie_nights([1]) == []
    assert len(await store.open_movie_nights([1, 2])) == 1


async def test_forget_and_purge(store) -> None:
    await store.save_movie_night(_night())
    await store.forget_member_rows(1, 22, [MEMBER_TABLE.name])
    [night] = await store.open_movie_nights([1])
    assert [m.user_id for m in night.members] == [21]
    await store.purge_guild(1, [MEMBER_TABLE.name])
    assert await store.open_movie_nights([1]) == []


async def test_the_places_settings_are_stored(store) -> None:
    await store.update_guild_settings(1, timezone="America/New_York", region="US",
                                      services="Netflix, Hulu", reminder_minutes=0)
    current = await store.get_guild_settings(1)
    assert (current.timezone, current.region, current.services, current.reminder_minutes) == (
        "America/New_York", "US", "Netflix, Hulu", 0)
    assert (await store.get_guild_settings(2)).reminder_minutes == 30


async def test_an_event_plan_and_the_event_until_its_reminder(store) -> None:
    await store.save_movie_night(_night(event_at=1_900_003_600.0, event_channel_id=9,
                                        event_location=None))
    [night] = await store.open_movie_nights([1])
    assert (night.event_at, night.event_channel_id, night.event_location) == (
        1_900_003_600.0, 9, None)
    event = NightEvent(1, 555, 11, 5, 1_900_003_600.0, 1_900_001_800.0)
    await store.save_night_event(event)
    await store.save_night_event(NightEvent(2, 556, 12, 6, 1.0, 1.0))
    assert await store.night_events([1]) == [event]
    await store.delete_night_event(1, 555)
    assert await store.night_events([1]) == []
    await store.purge_guild(2, [MEMBER_TABLE.name])
    assert await store.night_events([2]) == []
