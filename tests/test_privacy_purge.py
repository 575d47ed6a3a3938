"""bot.privacy.purge_departed_guilds against a real (temporary) Storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.privacy import purge_departed_guilds
from bot.storage import Storage

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
G_OLD, G_RECENT, G_BACK, G_STAYING = 1001, 1002, 1003, 1004


@pytest.fixture
async def storage(tmp_path):
    store = await Storage.open(tmp_path / "bot.sqlite3")
    try:
        yield store
    finally:
        await store.close()


async def _populate(storage: Storage, guild_id: int) -> int:
    """A guild movie, a catalog rating and settings for `guild_id`; returns the catalog id."""
    shared = await storage.resolve_movie(None, "Shared Classic (1950)")
    if shared is None:
        shared = await storage.add_movie("Shared Classic", 1950)
    own = await storage.add_movie(f"Home Movie {guild_id}", 2001, guild_id=guild_id)
    await storage.upsert_rating(guild_id, 7, shared.id, 8)
    await storage.upsert_rating(guild_id, 7, own.id, 6)
    await storage.update_guild_settings(guild_id, ratings_visible=False)
    await storage.save_model(guild_id, b"blob")
    return shared.id


async def test_purges_only_guilds_past_the_grace_period(storage):
    for guild_id in (G_OLD, G_RECENT, G_BACK, G_STAYING):
        shared_id = await _populate(storage, guild_id)
    await storage.mark_guild_left(G_OLD, NOW - timedelta(days=31))
    await storage.mark_guild_left(G_RECENT, NOW - timedelta(days=29))
    await storage.mark_guild_left(G_BACK, NOW - timedelta(days=40))
    await storage.mark_guild_joined(G_BACK)  # came back: purge cancelled

    purged = await purge_departed_guilds(storage, grace_days=30, now=NOW)

    assert purged == [G_OLD]
    assert await storage.count_member_ratings(G_OLD, 7) == 0
    assert await storage.count_guild_movies(G_OLD) == 0
    assert await storage.load_model(G_OLD) is None
    assert (await storage.get_guild_settings(G_OLD)).ratings_visible is True  # defaults again
    # Everyone else keeps their data, and the shared catalog movie stays.
    for guild_id in (G_RECENT, G_BACK, G_STAYING):
        assert await storage.count_member_ratings(guild_id, 7) == 2
        assert await storage.count_guild_movies(guild_id) == 1
        assert await storage.load_model(guild_id) == b"blob"
    assert await storage.get_movie(None, shared_id) is not None
    # Running again purges nothing more; the recent one goes once its grace has passed.
    assert await purge_departed_guilds(storage, grace_days=30, now=NOW) == []
    later = NOW + timedelta(days=2)
    assert await purge_departed_guilds(storage, grace_days=30, now=later) == [G_RECENT]


async def test_zero_grace_purges_every_departed_guild_now(storage):
    await _populate(storage, G_OLD)
    await _populate(storage, G_RECENT)
    await storage.mark_guild_left(G_OLD, NOW - timedelta(minutes=1))
    assert await purge_departed_guilds(storage, grace_days=0, now=NOW) == [G_OLD]
    assert await storage.count_member_ratings(G_RECENT, 7) == 2


async def test_guilds_the_bot_is_in_are_kept_and_unmarked(storage):
    await _populate(storage, G_STAYING)
    await storage.mark_guild_left(G_STAYING, NOW - timedelta(days=90))
    assert await purge_departed_guilds(storage, 30, now=NOW, keep=[G_STAYING]) == []
    assert await storage.count_member_ratings(G_STAYING, 7) == 2
    assert await storage.guilds_left_before(NOW) == []  # no longer pending


async def test_nothing_departed_is_a_no_op(storage):
    await _populate(storage, G_STAYING)
    assert await purge_departed_guilds(storage, 30) == []
    with pytest.raises(ValueError):
        await purge_departed_guilds(storage, -1)
