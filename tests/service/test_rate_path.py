"""/rate's path through the services (issue 24): the reply waits for the write, not for a
fold-in. The prediction is made beside the write from the member's other ratings, nothing is
folded into the guild's model (no copy of its member-side arrays per rating) and the member's
fold-in is left for their next ranking. Structural facts only, no timings."""

from __future__ import annotations

import asyncio

import numpy as np

from bot.service.gate import Gate
from bot.service.ratings import RatingService
from bot.service.service import RecommendationService
from tests.service.test_service import GUILD, seed, settings


async def test_rate_copies_no_model_and_leaves_the_fold_in_for_later(storage, tmp_path):
    await seed(storage, GUILD)
    service = RecommendationService(storage, settings(tmp_path, debounce_seconds=3600))
    ratings = RatingService(storage, service, Gate())
    try:
        await service.recommend(GUILD, 1)
        await service.wait_idle(GUILD)
        state = await service.models.state(GUILD)
        model = state.model
        assert model is not None and not state.needs_fold_in(1)
        before = model.embeddings()
        snapshots = []
        snapshot = type(model).snapshot

        def counting_snapshot(self):
            snapshots.append(self)
            return snapshot(self)

        type(model).snapshot = counting_snapshot
        try:
            movie = await storage.get_movie(GUILD, 21)
            outcome = await ratings.rate(GUILD, 1, movie, 10)
        finally:
            type(model).snapshot = snapshot
        assert snapshots == []  # no copy of the guild's model for a rating
        assert state.model is model  # nothing folded in, the model untouched
        after = model.embeddings()
        np.testing.assert_array_equal(after.member_vectors, before.member_vectors)
        assert state.needs_fold_in(1)  # the member's next ranking folds the rating in
        # The guess: the member's row solved from their other ratings, the model unchanged.
        ids, scores = await storage.member_rating_arrays(GUILD, 1)
        others = ids != 21
        expected = model.predict_row(model.member_row(1, ids[others], scores[others]), [21])
        assert outcome.predicted is not None
        assert outcome.predicted == float(expected[0])
        picks = await service.recommend(GUILD, 1)  # the fold-in happens here
        assert state.model is not model and not state.needs_fold_in(1)
        assert 21 not in {p.movie_id for p in picks.items}
    finally:
        await service.close()


async def test_the_guess_is_the_same_whether_or_not_the_new_score_is_saved(storage, tmp_path):
    """The prediction's reads run beside the write: either order gives one answer."""
    await seed(storage, GUILD)
    service = RecommendationService(storage, settings(tmp_path, debounce_seconds=3600))
    try:
        await service.recommend(GUILD, 2)
        await service.wait_idle(GUILD)
        ids, _scores = await storage.member_rating_arrays(GUILD, 2)
        rated = int(ids[0])
        unsaved = await service.predict_for_rating(GUILD, 2, rated)
        await storage.upsert_rating(GUILD, 2, rated, 1)
        saved = await service.predict_for_rating(GUILD, 2, rated)
        assert unsaved is not None and unsaved == saved
        fresh = await service.predict_for_rating(GUILD, 99, rated)  # rated nothing else
        assert fresh is None
    finally:
        await service.close()


async def test_no_guess_for_a_guild_whose_model_is_not_in_memory(storage, tmp_path):
    await seed(storage, GUILD)
    service = RecommendationService(storage, settings(tmp_path))
    try:
        assert await service.predict_for_rating(GUILD, 1, 21) is None
        assert service.models.cache.get(GUILD) is None  # and it loaded nothing
    finally:
        await service.close()


async def test_a_big_guilds_fold_in_copies_off_the_event_loop(storage, tmp_path, monkeypatch):
    """Past FOLD_INLINE_CELLS the fold-in's copy of the member-side arrays (`with_row`) runs in
    a thread, and its result becomes the guild's model."""
    import threading

    from bot.service import models as models_module

    monkeypatch.setattr(models_module, "FOLD_INLINE_CELLS", 0)  # every guild counts as big
    await seed(storage, GUILD)
    service = RecommendationService(storage, settings(tmp_path, debounce_seconds=3600))
    try:
        await service.recommend(GUILD, 1)
        await service.wait_idle(GUILD)
        state = await service.models.state(GUILD)
        model = state.model
        assert model is not None
        threads = []
        with_row = type(model).with_row

        def recording(self, row):
            threads.append(threading.current_thread())
            return with_row(self, row)

        monkeypatch.setattr(type(model), "with_row", recording)
        await storage.upsert_rating(GUILD, 1, 23, 10)
        await service.rating_changed(GUILD, 1)
        await service.recommend(GUILD, 1)
        assert threads and all(t is not threading.main_thread() for t in threads)
        assert state.model is not model and not state.needs_fold_in(1)
        assert state.model.knows_user(1)
    finally:
        await service.close()


async def test_a_rating_the_running_fit_read_is_not_fitted_again(storage, tmp_path):
    """A rating saved while a fit waits to read the ratings marks the guild dirty, but the fit
    then reads it: no second fit of the same ratings version (a refit without a change)."""
    await seed(storage, GUILD)
    service = RecommendationService(storage, settings(tmp_path, debounce_seconds=0.0))
    versions = []
    gate, entered = asyncio.Event(), asyncio.Event()
    refit = service.pool.refit

    async def held_refit(job, n_ratings):
        entered.set()
        await gate.wait()  # the fit reads the ratings only after the rating below
        result = await refit(job, n_ratings)
        versions.append(result.ratings_version)
        return result

    service.pool.refit = held_refit
    try:
        first = asyncio.create_task(service.recommend(GUILD, 1))
        await entered.wait()
        await storage.upsert_rating(GUILD, 1, 23, 10)
        await service.rating_changed(GUILD, 1)  # dirty while the fit runs
        gate.set()
        await first
        await service.wait_idle(GUILD)
        assert len(versions) == 1  # the one fit already had the rating
        assert versions[0] == (await storage.ratings_version(GUILD))[0]
        await storage.upsert_rating(GUILD, 1, 24, 9)  # a later change still refits
        await service.rating_changed(GUILD, 1)
        await service.wait_idle(GUILD)
        assert len(versions) == 2
    finally:
        await service.close()
