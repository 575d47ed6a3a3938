"""Open movie-night votes on both backends: saved (again: replaced), a button vote recorded,
read back per guild with their members, deleted when the vote closes, and purged with the
guild; a member's rows are member data (/forgetme deletes them). The Join messages (hidden
ratings) the same way, and the members an event's reminder skips (they ran /forgetme)."""

from __future__ import annotations

from bot.domain.movie_nights import (
    NightCandidate,
    NightEvent,
    NightMember,
    StoredJoin,
    StoredNight,
)
from bot.service.movienight import MEMBER_TABLE, SKIP_TABLE


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
    assert night.language is None  # saved without one: the server's is used on restore
    await store.save_movie_night(_night(message_id=200, members=(NightMember(21, "alice"),)))
    [again] = await store.open_movie_nights([1])
    assert again.message_id == 200 and [m.user_id for m in again.members] == [21]
    await store.delete_movie_night(1, 77)
    assert await store.open_movie_nights([1]) == []
    assert len(await store.open_movie_nights([1, 2])) == 1


async def test_a_nights_language_is_kept(store) -> None:
    """The public vote's language (its starter's) survives a restart."""
    await store.save_movie_night(_night(language="de"))
    [night] = await store.open_movie_nights([1])
    assert night.language == "de"
    await store.save_movie_night(_night(language="fr"))  # saved again: replaced
    assert [n.language for n in await store.open_movie_nights([1])] == ["fr"]


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


def _join(guild_id: int = 1, join_id: int = 88, **changes) -> StoredJoin:
    values = dict(
        id=join_id, guild_id=guild_id, channel_id=5, message_id=300, candidates=3, hours=2,
        expires_at=1_900_000_600.25,
        members=(NightMember(21, "alice", starter=True, took_part=True),
                 NightMember(22, "bob", took_part=True), NightMember(23, "carol")),
        allowed=frozenset({11, 12, 13}), language="de")
    values.update(changes)
    return StoredJoin(**values)


async def test_a_join_message_round_trips_and_goes(store) -> None:
    await store.save_movie_night_join(_join())
    await store.save_movie_night_join(_join(guild_id=2, join_id=89, allowed=None, hours=None,
                                            event_at=1_900_003_600.0, event_channel_id=None,
                                            event_location="The club", members=()))
    [join] = await store.movie_night_joins([1])
    assert join == _join()
    assert join.starter is not None and join.starter.name == "alice"
    [other] = await store.movie_night_joins([2])
    assert (other.allowed, other.hours, other.event_at, other.event_location) == (
        None, None, 1_900_003_600.0, "The club")
    assert other.language == "de" and other.members == ()
    # A vote's members and a Join message's stay apart (they share the members table).
    await store.save_movie_night(_night())
    joined = (*_join().members, NightMember(24, "dave", took_part=True))
    await store.save_movie_night_join(_join(members=joined, message_id=301))
    [again] = await store.movie_night_joins([1])
    assert again.message_id == 301 and [m.user_id for m in again.members] == [21, 22, 23, 24]
    assert [m.user_id for m in (await store.open_movie_nights([1]))[0].members] == [21, 22]
    await store.forget_member_rows(1, 22, [MEMBER_TABLE.name])  # /forgetme
    [forgot] = await store.movie_night_joins([1])
    assert 22 not in {m.user_id for m in forgot.members}
    await store.delete_movie_night_join(1, 88)
    assert await store.movie_night_joins([1]) == []
    assert len(await store.open_movie_nights([1])) == 1
    await store.purge_guild(2, [MEMBER_TABLE.name])
    assert await store.movie_night_joins([1, 2]) == []


async def test_a_member_who_forgot_is_skipped_until_the_events_reminder(store) -> None:
    await store.save_night_event(NightEvent(1, 555, 11, 5, 1_900_003_600.0, 1_900_001_800.0))
    await store.save_night_event(NightEvent(1, 556, 12, 5, 1_900_003_600.0, 1_900_001_800.0))
    await store.save_night_event(NightEvent(2, 557, 12, 6, 1.0, 1.0))
    assert await store.skip_night_events(1, 22) == 2  # the guild's stored events only
    assert await store.skip_night_events(1, 22) == 0  # once
    await store.skip_night_events(1, 23)
    assert await store.night_event_skips(1, 555) == {22, 23}
    assert await store.night_event_skips(2, 557) == set()
    await store.delete_night_event(1, 555)
    assert await store.night_event_skips(1, 555) == set()
    assert await store.night_event_skips(1, 556) == {22, 23}
    await store.forget_member_rows(1, 23, [SKIP_TABLE.name])
    assert await store.night_event_skips(1, 556) == {22}
    await store.purge_guild(1, [SKIP_TABLE.name])
    assert await store.night_event_skips(1, 556) == set()
