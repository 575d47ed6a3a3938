"""The guild-model cache bounded by memory (issue 24): the LRU by weight, the weight of a model
(its own arrays, not the shared prior's), and the service keeping many small models cached
where a count of 1 would reload them; a saved model is loaded off the event loop's thread."""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np
import pytest

import bot.service.models
import bot.service.worker
import recommender.persist
from bot.config import Settings, TrainingSettings
from bot.service import RecommendationService
from bot.service.cache import LRUCache
from bot.service.footprint import footprint
from bot.service.models import STATE_OVERHEAD_BYTES, GuildModel, model_bytes

GUILDS = (31, 32, 33)


def test_lru_keeps_old_entries_while_they_fit_in_the_byte_budget() -> None:
    evicted: list[str] = []
    cache: LRUCache[str, int] = LRUCache(1, lambda k, _v: evicted.append(k),
                                         max_bytes=100, weigh=lambda v: v)
    cache.put("a", 30)
    cache.put("b", 30)
    cache.put("c", 30)
    assert len(cache) == 3 and cache.bytes == 90 and evicted == []
    assert cache.get("a") == 30  # now the most recently used
    cache.put("d", 30)  # 120 bytes: the least recently used ("b") goes
    assert evicted == ["b"] and cache.bytes == 90
    assert set(cache) == {"c", "a", "d"}


def test_lru_always_keeps_capacity_entries_and_reweighs_on_change() -> None:
    sizes = {"a": 10, "b": 10}
    evicted: list[str] = []
    cache: LRUCache[str, str] = LRUCache(1, lambda k, _v: evicted.append(k),
                                         max_bytes=50, weigh=lambda v: sizes[v])
    cache.put("a", "a")
    cache.put("b", "b")
    assert evicted == []
    sizes["b"] = 500  # one entry alone over the budget stays: `capacity` is a floor
    cache.reweigh("b")
    assert evicted == ["a"] and list(cache) == ["b"] and cache.bytes == 500
    assert cache.pop("b") == "b" and cache.bytes == 0


def test_lru_bounded_by_count_without_a_budget() -> None:
    cache: LRUCache[int, int] = LRUCache(2)
    for key in range(4):
        cache.put(key, key)
    assert list(cache) == [2, 3] and cache.evictions == 2
    with pytest.raises(ValueError):
        LRUCache(2, max_bytes=10)  # a budget needs a weight


class _Shared:
    """Stands in for the taste prior: arrays every guild model points at."""

    __module__ = "recommender.fake"

    def __init__(self) -> None:
        self.rows = np.zeros(10_000)


class _Model:
    __module__ = "recommender.fake"

    def __init__(self, prior: _Shared) -> None:
        self.prior = prior
        self.shared_rows = prior.rows[:5000]  # a view of the prior's array
        self.X = np.zeros((100, 8), dtype=np.float32)
        self.again = self.X  # the same buffer twice counts once
        self.lists = {1: (np.zeros(10, np.int64), np.zeros(10))}


def test_footprint_counts_own_arrays_once_and_not_the_shared_prior() -> None:
    prior = _Shared()
    model = _Model(prior)
    own = 100 * 8 * 4 + 10 * 8 + 10 * 8
    assert footprint(model, shared=prior) == own
    assert footprint(model) == own + prior.rows.nbytes
    state = GuildModel(1, model=model, model_bytes=own)  # type: ignore[arg-type]
    assert model_bytes(state) == STATE_OVERHEAD_BYTES + own
    assert model_bytes(GuildModel(2)) == STATE_OVERHEAD_BYTES


def settings(tmp_path, **training) -> Settings:
    base = TrainingSettings(debounce_seconds=0.0, cache_size=1, cache_megabytes=64)
    return Settings(database=tmp_path / "service.sqlite3", training=replace(base, **training))


async def seed(storage, guild: int) -> None:
    rng = np.random.default_rng(guild)
    for member in range(1, 9):
        for movie in rng.choice(np.arange(1, 41), 12, replace=False):
            await storage.upsert_rating(guild, member, int(movie), int(rng.integers(1, 11)))


async def _fit_all(storage, tmp_path) -> None:
    """Fit and save every guild's model, then stop (the next service loads them)."""
    first = RecommendationService(storage, settings(tmp_path))
    try:
        for guild in GUILDS:
            await seed(storage, guild)
            await first.recommend(guild, 1)
            await first.wait_idle(guild)
    finally:
        await first.close()


async def test_small_models_stay_cached_beyond_cache_size_within_the_budget(storage, tmp_path):
    await _fit_all(storage, tmp_path)
    service = RecommendationService(storage, settings(tmp_path))
    loads: list[int] = []
    original = storage.load_model_state

    async def counting(guild_id):
        loads.append(guild_id)
        return await original(guild_id)

    storage.load_model_state = counting  # type: ignore[method-assign]
    try:
        for _ in range(2):
            for guild in GUILDS:
                picks = await service.recommend(guild, 1)
                assert picks.items
        assert sorted(loads) == sorted(GUILDS)  # each loaded once, then served from memory
        cache = service.models.cache
        assert len(cache) == len(GUILDS) > cache.capacity
        assert cache.bytes == sum(model_bytes(s) for s in cache.values())
        for state in cache.values():  # measured when unpacked; a fold-in since adds a little
            assert state.model is not None
            assert 0 < state.model_bytes <= footprint(state.model, shared=state.model.prior)
        assert all(s.model is not None for s in cache.values())
        assert cache.bytes > len(GUILDS) * STATE_OVERHEAD_BYTES  # the models' arrays count
    finally:
        await service.close()


async def test_count_only_cache_reloads_what_it_evicted(storage, tmp_path):
    await _fit_all(storage, tmp_path)
    service = RecommendationService(storage, settings(tmp_path, cache_megabytes=0))
    loads: list[int] = []
    original = storage.load_model_state

    async def counting(guild_id):
        loads.append(guild_id)
        return await original(guild_id)

    storage.load_model_state = counting  # type: ignore[method-assign]
    try:
        for _ in range(2):
            for guild in GUILDS:
                await service.recommend(guild, 1)
        assert len(loads) == 2 * len(GUILDS) and len(service.models.cache) == 1
    finally:
        await service.close()


async def test_a_saved_model_is_unpacked_and_weighed_off_the_event_loop_thread(
        storage, tmp_path, monkeypatch):
    """A cache miss reads the blob, unpacks it (numpy archive parsing, array copies) and
    weighs it in a worker thread: the event loop's thread never runs `recommender.persist.load`
    nor `footprint`; a fit in the small lane is weighed in its worker too."""
    await _fit_all(storage, tmp_path)
    threads: list[int] = []
    weighed: list[int] = []
    load = recommender.persist.load

    def recording(*args, **kwargs):
        threads.append(threading.get_ident())
        return load(*args, **kwargs)

    def weighing(*args, **kwargs):
        weighed.append(threading.get_ident())
        return footprint(*args, **kwargs)

    monkeypatch.setattr(recommender.persist, "load", recording)
    monkeypatch.setattr(bot.service.models, "footprint", weighing)
    monkeypatch.setattr(bot.service.worker, "footprint", weighing)
    service = RecommendationService(storage, settings(tmp_path))
    try:
        for guild in GUILDS:
            assert (await service.recommend(guild, 1)).items
        assert len(threads) == len(GUILDS)
        await storage.upsert_rating(GUILDS[0], 1, 40, 9)  # a change: a refit (small lane)
        await service.rating_changed(GUILDS[0], 1)
        await service.wait_idle(GUILDS[0])
        assert service.fits_completed == 1
        assert len(weighed) == len(GUILDS) + 1  # each load, and the fit
        assert threading.get_ident() not in threads + weighed
    finally:
        await service.close()
