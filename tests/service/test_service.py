"""The per-guild recommendation service on a real database: debounce, fold-in, persistence,
the LRU cache, warm starts and the fit log line (no Discord involved)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import replace

import numpy as np

from bot.config import Settings, TrainingSettings
from bot.service import RecommendationService
from bot.storage import Storage

GUILD, OTHER = 10, 20
FAMILY, ACTION = range(1, 21), range(21, 41)  # movie ids used as two taste clusters


def settings(tmp_path, **training) -> Settings:
    # count-bound (cache_megabytes=0): the tests of eviction evict at `cache_size`
    base = TrainingSettings(debounce_seconds=0.0, cache_size=8, cache_megabytes=0)
    return Settings(database=tmp_path / "service.sqlite3",
                    training=replace(base, **training))


async def seed(storage: Storage, guild: int, members: int = 12) -> None:
    """Half the members love the 'family' movies, half the 'action' ones."""
    rng = np.random.default_rng(0)
    for member in range(1, members + 1):
        loves, hates = (FAMILY, ACTION) if member % 2 else (ACTION, FAMILY)
        for movie in rng.choice(list(loves), 12, replace=False):
            await storage.upsert_rating(guild, member, int(movie), int(rng.integers(8, 11)))
        for movie in rng.choice(list(hates), 8, replace=False):
            await storage.upsert_rating(guild, member, int(movie), int(rng.integers(1, 4)))


async def test_a_burst_of_ratings_coalesces_into_one_refit(storage, tmp_path):
    await seed(storage, GUILD)
    service = RecommendationService(storage, settings(tmp_path, debounce_seconds=0.3))
    results = []
    refit = service.pool.refit

    async def recording_refit(job, n_ratings):
        results.append(await refit(job, n_ratings))
        return results[-1]

    service.pool.refit = recording_refit
    try:
        await service.recommend(GUILD, 1)
        await service.wait_idle(GUILD)
        assert service.fits_completed == 1 and not results[0].warm_started
        for member in range(1, 13):
            await storage.upsert_rating(GUILD, member, 41, 7)
            await service.rating_changed(GUILD, member)
        await asyncio.sleep(0.6)  # past the debounce
        await service.wait_idle(GUILD)
        assert service.fits_completed == 2  # twelve ratings, one refit
        # a guild this small refits cold: its model depends on its ratings alone
        # (ModelConfig.cold_fit_max; the warm path: tests/test_training_pool.py)
        assert not results[1].warm_started
        assert results[1].n_ratings == results[0].n_ratings + 12
        assert results[1].ratings_version > results[0].ratings_version
    finally:
        await service.close()


async def test_a_new_rating_counts_at_once_through_fold_in(storage, tmp_path):
    await seed(storage, GUILD)
    service = RecommendationService(storage, settings(tmp_path, debounce_seconds=3600))
    newcomer = 99
    try:
        for movie in (1, 2, 3):
            await storage.upsert_rating(GUILD, newcomer, movie, 6)
        await service.recommend(GUILD, newcomer)
        await service.wait_idle(GUILD)
        fits = service.fits_completed
        before = await service.predict(GUILD, newcomer, 21)
        for movie in (22, 23, 24, 25, 26):  # the newcomer turns out to love action movies
            await storage.upsert_rating(GUILD, newcomer, movie, 10)
            await service.rating_changed(GUILD, newcomer)
        after = await service.predict(GUILD, newcomer, 21)
        assert service.fits_completed == fits  # no refit happened (debounce is an hour)
        assert after > before + 0.3
        picks = await service.recommend(GUILD, newcomer, n=10)
        assert picks.personal
        assert not {p.movie_id for p in picks.items} & {1, 2, 3, 22, 23, 24, 25, 26}
    finally:
        await service.close()


async def _newcomer_in_the_model(storage, service, newcomer: int) -> float:
    """A newcomer rates three family movies 6, is fitted in; their prediction for action
    movie 21 then."""
    for movie in (1, 2, 3):
        await storage.upsert_rating(GUILD, newcomer, movie, 6)
    await service.recommend(GUILD, newcomer)
    await service.wait_idle(GUILD)
    return await service.predict(GUILD, newcomer, 21)


async def _newcomer_loves_action(storage, service, newcomer: int) -> None:
    for movie in (22, 23, 24, 25, 26):  # the newcomer turns out to love action movies
        await storage.upsert_rating(GUILD, newcomer, movie, 10)
        await service.rating_changed(GUILD, newcomer)


async def test_ratings_saved_before_a_refit_starts_count_while_it_runs(storage, tmp_path):
    """The console demo's wrong picks: a member rated six films, the debounced refit started
    just as they asked for picks, and the model still serving (fitted on their first rating)
    ranked them without the other six: the fit cleared every "needs a fold-in" mark when it
    *started*. The marks now stay until the fit's model is swapped in."""
    await seed(storage, GUILD)
    service = RecommendationService(storage, settings(tmp_path, debounce_seconds=3600))
    newcomer = 99
    release = asyncio.Event()
    refit = service.pool.refit

    async def slow_refit(job, n_ratings):  # a fit that takes a while (a big guild, a busy pool)
        await release.wait()
        return await refit(job, n_ratings)

    try:
        before = await _newcomer_in_the_model(storage, service, newcomer)
        await _newcomer_loves_action(storage, service, newcomer)
        service.pool.refit = slow_refit
        service.models._start_fit(GUILD)  # the debounce fires
        await asyncio.sleep(0.05)
        assert service.models.running_fit(GUILD) is not None
        during = await service.predict(GUILD, newcomer, 21)  # served by the previous model
        assert during > before + 0.3
        picks = await service.recommend(GUILD, newcomer, n=10)
        assert not {p.movie_id for p in picks.items} & {1, 2, 3, 22, 23, 24, 25, 26}
        release.set()
        await service.wait_idle(GUILD)
        after = await service.predict(GUILD, newcomer, 21)
        assert after > before + 0.3
    finally:
        release.set()
        await service.close()


async def test_a_rating_saved_while_a_refit_runs_is_folded_into_its_model(storage, tmp_path):
    """A rating saved after the fit read the ratings is not in the fit's model: the member
    keeps their mark through the swap and is folded in on the new model, even if they were
    already folded in on the previous one while the fit ran."""
    await seed(storage, GUILD)
    service = RecommendationService(storage, settings(tmp_path, debounce_seconds=3600))
    newcomer = 99
    fitted, release = asyncio.Event(), asyncio.Event()
    refit = service.pool.refit

    async def held_refit(job, n_ratings):  # the fit has read and fitted; the swap waits
        result = await refit(job, n_ratings)
        fitted.set()
        await release.wait()
        return result

    try:
        before = await _newcomer_in_the_model(storage, service, newcomer)
        service.pool.refit = held_refit
        service.models._start_fit(GUILD)
        await asyncio.wait_for(fitted.wait(), 30)
        await _newcomer_loves_action(storage, service, newcomer)
        assert await service.predict(GUILD, newcomer, 21) > before + 0.3  # on the old model
        task = service.models.running_fit(GUILD)
        assert task is not None
        release.set()
        await task  # swapped in; the refit the five ratings owe waits for the debounce
        state = await service.models.state(GUILD)
        assert state.needs_fold_in(newcomer)  # the new model lacks the five ratings
        assert await service.predict(GUILD, newcomer, 21) > before + 0.3
    finally:
        release.set()
        await service.close()


async def test_rates_prediction_never_waits_and_a_fold_in_leaves_a_running_ranking_alone(
        storage, tmp_path):
    """/rate's "I predicted" (loaded_only) never queues behind ranking threads of a big guild,
    and needs no model lock (issue 22 item 3): a fold-in gives the guild a new model with the
    member's row (`CFModel.with_row`); a thread ranking on the previous one keeps it unchanged."""
    await seed(storage, GUILD)
    service = RecommendationService(storage, settings(tmp_path, debounce_seconds=3600))
    try:
        await service.recommend(GUILD, 1)
        await service.wait_idle(GUILD)
        await storage.upsert_rating(GUILD, 1, 23, 10)
        await service.rating_changed(GUILD, 1)  # member 1 now needs a fold-in
        state = await service.models.state(GUILD)
        ranking_on = state.model  # what a ranking thread would hold
        assert ranking_on is not None
        before = ranking_on.embeddings()
        row = before.member_row(1)
        quick = await asyncio.wait_for(
            service.predict(GUILD, 1, 21, loaded_only=True), timeout=2.0)
        assert quick is not None and 1.0 <= quick <= 10.0
        assert not state.needs_fold_in(1)  # folded in at once: nothing to wait for
        assert state.model is not ranking_on
        after = ranking_on.embeddings()  # the ranking's model did not move
        np.testing.assert_array_equal(after.member_vectors, before.member_vectors)
        np.testing.assert_array_equal(after.support, before.support)
        new = state.model.embeddings()  # the guild's model has the new rating
        assert not np.array_equal(new.member_vectors[new.member_row(1)],
                                  before.member_vectors[row])
        assert await asyncio.wait_for(service.predict(GUILD, 1, 21), timeout=5.0) == quick
    finally:
        await service.close()


async def _fit_then_stop(storage, tmp_path) -> list[int]:
    """Seed GUILD, fit and save its model, stop the service; member 1's top five."""
    await seed(storage, GUILD)
    first = RecommendationService(storage, settings(tmp_path))
    await first.recommend(GUILD, 1)
    await first.wait_idle(GUILD)
    expected = [p.movie_id for p in (await first.recommend(GUILD, 1, n=5)).items]
    await first.close()
    return expected


async def test_after_a_restart_an_up_to_date_saved_model_answers_without_a_refit(
        storage, tmp_path):
    expected = await _fit_then_stop(storage, tmp_path)
    assert await storage.load_model(GUILD) is not None

    restarted = RecommendationService(storage, settings(tmp_path))
    try:
        picks = await restarted.recommend(GUILD, 1, n=5)
        assert picks.personal and not picks.provisional
        # The member is folded in again (saved models hold no member's ratings).
        assert len(set(expected) & {p.movie_id for p in picks.items}) >= 4, (picks, expected)
        await restarted.wait_idle(GUILD)
        assert restarted.fits_completed == 0  # nothing changed: no refit
    finally:
        await restarted.close()


async def test_after_a_restart_changed_ratings_answer_at_once_provisionally_then_refit(
        storage, tmp_path):
    expected = await _fit_then_stop(storage, tmp_path)
    await storage.upsert_rating(GUILD, 5, 41, 7)  # rated while the bot was down

    restarted = RecommendationService(storage, settings(tmp_path))
    blocker = asyncio.ensure_future(restarted.pool.run(time.sleep, 0.5))  # the lane is busy
    try:
        started = time.perf_counter()
        picks = await restarted.recommend(GUILD, 1, n=5)
        assert time.perf_counter() - started < 0.5  # did not wait for a fit
        assert picks.personal and picks.provisional
        # Same picks, give or take the member's fold-in (re-solved against the saved movies).
        assert len(set(expected) & {p.movie_id for p in picks.items}) >= 4
        await blocker
        await restarted.wait_idle(GUILD)
        assert restarted.fits_completed == 1
        assert not (await restarted.recommend(GUILD, 1, n=5)).provisional
    finally:
        await restarted.close()


async def test_the_cache_keeps_only_the_most_recent_guilds(storage, tmp_path):
    await seed(storage, GUILD)
    await seed(storage, OTHER)
    service = RecommendationService(storage, settings(tmp_path, cache_size=1))
    try:
        await service.recommend(GUILD, 1)
        await service.wait_idle(GUILD)
        assert not await service.is_provisional(GUILD)
        await service.recommend(OTHER, 1)  # evicts GUILD
        await service.wait_idle(OTHER)
        assert await service.is_provisional(GUILD)  # not in memory any more
        picks = await service.recommend(GUILD, 1)  # reloaded from the database
        assert picks.personal and picks.items
    finally:
        await service.close()


async def test_each_fit_logs_one_structured_line(storage, tmp_path, caplog):
    await seed(storage, GUILD)
    caplog.set_level(logging.INFO, logger="bot.service.models")
    service = RecommendationService(storage, settings(tmp_path))
    try:
        await service.recommend(GUILD, 1)
        await service.wait_idle(GUILD)
    finally:
        await service.close()
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("fit ")]
    assert len(lines) == 1
    for key in ("guild=10", "ratings=240", "members=12", "movies=40", "features=",
                "iterations=", "seconds=", "cost=", "reg="):
        assert key in lines[0], lines[0]


async def test_guilds_never_see_each_others_ratings(storage, tmp_path):
    await seed(storage, GUILD)
    for movie in (101, 102, 103):  # only in OTHER
        for member in range(1, 6):
            await storage.upsert_rating(OTHER, member, movie, 9)
    service = RecommendationService(storage, settings(tmp_path))
    try:
        picks = await service.recommend(GUILD, 1, n=50)
        await service.wait_idle(GUILD)
        picks = await service.recommend(GUILD, 1, n=50)
        assert {101, 102, 103}.isdisjoint(p.movie_id for p in picks.items)
        assert await service.similar(GUILD, 101) is None
    finally:
        await service.close()


async def test_a_cache_miss_refits_only_when_something_changed_and_never_twice_at_once(
        storage, tmp_path):
    """Six active guilds through a cache of two: reloading an evicted guild whose ratings did
    not change costs no refit; a changed rating does; one guild never has two fits running."""
    guilds = [100 + g for g in range(6)]
    for guild in guilds:
        await seed(storage, guild, members=8)
    service = RecommendationService(storage, settings(tmp_path, cache_size=2))
    running: dict[int, int] = {}
    most: dict[int, int] = {}
    refit = service.pool.refit

    async def tracking_refit(job, n_ratings):
        running[job.guild_id] = running.get(job.guild_id, 0) + 1
        most[job.guild_id] = max(most.get(job.guild_id, 0), running[job.guild_id])
        try:
            return await refit(job, n_ratings)
        finally:
            running[job.guild_id] -= 1

    service.pool.refit = tracking_refit
    try:
        for guild in guilds:  # first use: one fit each
            await service.recommend(guild, 1)
        for guild in guilds:
            await service.wait_idle(guild)
        assert service.fits_completed == 6
        for _ in range(5):  # thirty more calls, every one a cache miss, nothing changed
            for guild in guilds:
                picks = await service.recommend(guild, 1)
                assert picks.personal and not picks.provisional
        for guild in guilds:
            await service.wait_idle(guild)
        assert service.fits_completed == 6  # no refit without a change
        await storage.upsert_rating(guilds[0], 1, 41, 7)  # evicted guild, rating changed
        await service.rating_changed(guilds[0], 1)
        await service.recommend(guilds[0], 1)
        await service.wait_idle(guilds[0])
        assert service.fits_completed == 7
        # Evict a guild while its fit runs and ask again: the running fit is not doubled.
        await storage.upsert_rating(guilds[1], 2, 41, 7)
        await service.recommend(guilds[1], 1)  # cache miss: starts a refit
        for guild in guilds[2:4]:
            await service.recommend(guild, 1)  # evicts guilds[1] while it fits
        await service.recommend(guilds[1], 1)  # loads again: joins the running fit
        for guild in guilds:
            await service.wait_idle(guild)
        assert max(most.values()) == 1
        assert service.fits_completed == 8  # that one change cost one refit, not two
        await asyncio.sleep(0.1)  # past the debounce: nothing else is scheduled either
        for guild in guilds:
            await service.wait_idle(guild)
        assert service.fits_completed == 8
    finally:
        await service.close()


async def test_rating_a_movie_again_with_the_same_score_changes_nothing(storage, tmp_path):
    from bot.service.app import Services

    await seed(storage, GUILD)
    services = Services.build(storage, settings(tmp_path))
    service = services.recommendations
    try:
        await service.recommend(GUILD, 1)
        await service.wait_idle(GUILD)
        movie = await storage.get_movie(GUILD, 41)
        first = await services.ratings.rate(GUILD, 1, movie, 7)
        await service.wait_idle(GUILD)
        fits = service.fits_completed
        version = await storage.ratings_version(GUILD)
        again = await services.ratings.rate(GUILD, 1, movie, 7)
        await service.wait_idle(GUILD)
        assert first.previous is None and again.previous == 7
        assert await storage.ratings_version(GUILD) == version
        assert service.fits_completed == fits  # no refit for the same score
    finally:
        await service.close()


async def test_similar_movies_are_computed_off_the_event_loop(storage, tmp_path, monkeypatch):
    """/similar's cosines run over every movie the model knows (with a taste prior, its whole
    catalogue): in a thread, like the ranking, never on the loop's thread."""
    await seed(storage, GUILD)
    service = RecommendationService(storage, settings(tmp_path, debounce_seconds=3600))
    try:
        await service.recommend(GUILD, 1)
        await service.wait_idle(GUILD)
        model = (await service.models.state(GUILD)).model
        assert model is not None
        threads = []
        original = type(model).similar_with_evidence

        def recording(self, *args, **kwargs):
            threads.append(threading.current_thread())
            return original(self, *args, **kwargs)

        monkeypatch.setattr(type(model), "similar_with_evidence", recording)
        movie = int(model.movies.ids[0])
        near = await service.similar_movies(GUILD, movie, n=5)
        assert near.movies  # the seeded guild's movies have neighbours
        assert threads and all(t is not threading.main_thread() for t in threads)
    finally:
        await service.close()
