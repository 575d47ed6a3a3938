"""Forgetting a member reaches every copy of their data: the ratings, the cached model and the
saved model, whether or not the guild's model is in memory (real database, real fits)."""

from __future__ import annotations

import asyncio

import pytest
from test_service import GUILD, seed, settings

from bot.service.app import Services
from bot.storage import Storage
from recommender import CFModel

MEMBER = 3


async def _saved_model(storage: Storage) -> CFModel:
    blob = await storage.load_model(GUILD)
    assert blob is not None
    return CFModel.from_bytes(blob)


async def _fitted(storage: Storage, tmp_path) -> Services:
    services = Services.build(storage, settings(tmp_path))
    await services.recommendations.top(GUILD, 1)
    await services.recommendations.wait_idle(GUILD)
    return services


@pytest.mark.parametrize("cached", [True, False], ids=["model-in-memory", "model-only-saved"])
async def test_forget_member_removes_them_from_the_saved_model(storage, tmp_path, cached):
    await seed(storage, GUILD)
    services = await _fitted(storage, tmp_path)
    assert (await _saved_model(storage)).knows_user(MEMBER)
    if not cached:  # a restart: a new service whose cache is empty
        await services.recommendations.close()
        services = Services.build(storage, settings(tmp_path))
    try:
        deleted = await services.ratings.forget_member(GUILD, MEMBER)
        assert deleted == 20
        await services.recommendations.wait_idle(GUILD)
        saved = await _saved_model(storage)
        assert not saved.knows_user(MEMBER)
        assert saved.knows_user(MEMBER + 1)  # the others are still in it
        state = services.recommendations.models.cache.get(GUILD)
        assert state is not None and state.model is not None
        assert not state.model.knows_user(MEMBER)
        assert await storage.count_member_ratings(GUILD, MEMBER) == 0
    finally:
        await services.recommendations.close()


async def test_forgetting_someone_with_no_ratings_changes_nothing(storage, tmp_path):
    await seed(storage, GUILD)
    services = await _fitted(storage, tmp_path)
    try:
        before = await storage.load_model(GUILD)
        assert await services.ratings.forget_member(GUILD, 999) == 0
        assert await storage.load_model(GUILD) == before
    finally:
        await services.recommendations.close()


async def test_forgetting_does_not_wait_for_a_refit_queue_that_is_down(storage, tmp_path):
    """Issue 20, row 8: with Redis down, /forgetme left the member in the in-memory model
    indefinitely (the refit that would replace it could not be queued). The in-memory copy
    now forgets at once; the refit is owed until it succeeds."""
    from bot.service.training import TrainingPool

    await seed(storage, GUILD)
    services = Services.build(storage, settings(tmp_path, debounce_seconds=3600.0))
    recs = services.recommendations
    try:
        await recs.top(GUILD, 1)
        await recs.wait_idle(GUILD)
        state = recs.models.cache.get(GUILD)
        assert state is not None and state.model is not None
        assert state.model.knows_user(MEMBER)
        # Redis goes away: every refit now goes to a queue nobody can reach.
        local = recs.pool
        recs.pool = TrainingPool(mode="queue", queue_url="redis://127.0.0.1:9/0",
                                 queue_key="k" * 32)
        deleted, _watchlist = await services.ratings.forget_all(GUILD, MEMBER)
        assert deleted == 20
        # At once, before any refit: nothing in memory knows the member.
        assert state.model is None or not state.model.knows_user(MEMBER)
        assert await recs.predict(GUILD, MEMBER + 1, 1) is None  # no answer from the old one
        task = recs.models.running_fit(GUILD)
        assert task is not None
        await asyncio.wait([task])  # the queued refit fails: Redis is down
        assert state.model is None or not state.model.knows_user(MEMBER)
        assert state.forget_pending and state.timer is not None  # the refit is retried
        # The queue is back (here: the local lanes): the retry brings a model without them.
        recs.pool.shutdown()
        recs.pool = local
        await recs.wait_idle(GUILD)
        assert state.model is not None and not state.model.knows_user(MEMBER)
        assert state.model.knows_user(MEMBER + 1) and not state.forget_pending
    finally:
        await recs.close()
