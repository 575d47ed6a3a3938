"""Forgetting a member reaches every copy of their data: the ratings, the cached model and the
saved model, whether or not the guild's model is in memory (real database, real fits)."""

from __future__ import annotations

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
        state = services.recommendations._cache.get(GUILD)
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
