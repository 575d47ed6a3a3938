"""`TrainingPool` and the refit job: a whole refit (read, fit, save) runs in a worker thread or
a spawned worker process against a real database, both give the same model, only the blob
crosses back from a process, the small lane never waits behind the big one, and the saved
model carries the ratings version it was trained on."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time

import numpy as np
import pytest

from bot.service.training import TrainingPool
from bot.service.worker import RefitJob
from bot.storage import Storage
from recommender import CFModel, ModelConfig

SMALL, BIG = 1, 2


async def _seed(storage: Storage, guild: int, members: int, seed: int = 3) -> int:
    """`members` x 30 catalog movies, about half rated, from a rank-2 taste model."""
    rng = np.random.default_rng(seed)
    users, movies = rng.normal(size=(members, 2)), rng.normal(size=(30, 2))
    ids = [(await storage.add_movie(f"Film {guild}-{i}", 2000, guild_id=guild)).id
           for i in range(30)]
    count = 0
    for u in range(members):
        for m in range(30):
            if rng.random() < 0.5:
                score = int(np.clip(np.rint(5.5 + 2 * users[u] @ movies[m]), 1, 10))
                await storage.upsert_rating(guild, 1000 + u, ids[m], score)
                count += 1
    return count


def _job(storage: Storage, guild: int) -> RefitJob:
    # cold_fit_max=0: these small guilds take the warm path of larger ones (a guild below
    # cold_fit_max ratings fits cold: tests/recommender/test_rec_reg_reuse.py)
    return RefitJob(database=str(storage.path), guild_id=guild,
                    config=ModelConfig(features=3, maxiter=15, seed=7, cold_fit_max=0),
                    settings_key="k",
                    tune_reg=False, max_ratings=10**6, max_cells=10**8)


async def test_a_refit_in_a_process_equals_one_in_a_thread_and_saves_the_model(tmp_path):
    storage = await Storage.open(tmp_path / "bot.sqlite3")
    try:
        n = await _seed(storage, SMALL, 40)
        version, count = await storage.ratings_version(SMALL)
        assert count == n
        threads, processes = TrainingPool(mode="thread"), TrainingPool(mode="process")
        try:
            threaded = await threads.refit(_job(storage, SMALL), count)
            spawned = await processes.refit(_job(storage, SMALL), count)
        finally:
            threads.shutdown()
            processes.shutdown()
        assert threaded.model is not None and threaded.blob is None
        assert spawned.model is None and spawned.blob is not None  # only bytes cross back
        assert threaded.ratings_version == spawned.ratings_version == version
        assert threaded.n_ratings == spawned.n_ratings == n
        model = CFModel.from_bytes(spawned.blob)
        users = np.repeat(np.arange(1000, 1040, dtype=np.int64), 30)
        movies = np.tile(np.asarray(model.movies.ids, dtype=np.int64), 40)
        # The process refit warm-starts from the model the thread refit saved: both converge
        # to the same optimum, within the fit's tolerance.
        assert spawned.warm_started and not threaded.warm_started
        np.testing.assert_allclose(model.predict(users, movies),
                                   threaded.model.predict(users, movies), atol=0.01)
        saved = await storage.load_model_state(SMALL)
        assert saved is not None and saved.blob is not None
        assert (saved.ratings_version, saved.settings_key) == (version, "k")
    finally:
        await storage.close()


async def test_a_small_guilds_fit_never_waits_behind_a_big_one(tmp_path):
    storage = await Storage.open(tmp_path / "bot.sqlite3")
    pool = TrainingPool(mode="thread", big_guild_ratings=500)
    try:
        small = await _seed(storage, SMALL, 20)
        assert pool.lane_for(small) == "small" and pool.lane_for(500) == "big"
        # The big lane is busy with a long job (a million-rating fit, say).
        busy = asyncio.ensure_future(pool.run(time.sleep, 1.5, lane="big"))
        await asyncio.sleep(0.05)
        started = time.perf_counter()
        result = await pool.refit(_job(storage, SMALL), small)
        assert time.perf_counter() - started < 1.2  # did not queue behind the big job
        assert result.model is not None and not busy.done()
        await busy
    finally:
        pool.shutdown()
        await storage.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
async def test_fit_threads_yield_the_cpu_to_the_event_loop() -> None:
    """A thread lane's fits run at a lower CPU priority than the event loop's thread, which
    then gets the CPU (and the GIL back) sooner on a busy machine: many_guilds.py at 2,000
    servers, 2 pairs side by side, all-command ack p99 64.9 / 66.1 ms against 137.9 / 78.0,
    worst stall 23.2 / 28.6 ms against 51.6 / 27.6 (benchmarks/README.md)."""
    def priority() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    if priority() >= 19:
        pytest.skip("the process already runs at the lowest priority")
    pool = TrainingPool(1, mode="thread")
    try:
        for lane in ("small", "big"):
            assert await pool.run(priority, lane=lane) > priority()
    finally:
        pool.shutdown()


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown training mode"):
        TrainingPool(mode="fork")


async def test_a_refit_after_a_restart_reuses_the_saved_reg_choice(tmp_path, monkeypatch):
    """The reg chosen by hold-out travels in the saved model (issue 24 item 4): a worker that
    lost its recent models (a restart) warm-starts from the saved blob and keeps that reg while
    the guild changed by at most 25%; no hold-out fits run."""
    import recommender.tuning as tuning
    from bot.service import worker

    storage = await Storage.open(tmp_path / "bot.sqlite3")
    try:
        await _seed(storage, SMALL, 40)
        job = RefitJob(database=str(storage.path), guild_id=SMALL,
                       config=ModelConfig(features=3, seed=7, cold_fit_max=0), settings_key="k",
                       tune_reg=True, max_ratings=10**6, max_cells=10**8)
        first = await asyncio.to_thread(worker.run_refit, job)
        assert first.saved and first.tuned
        chosen = first.reg
        worker.forget_recent(SMALL)  # what a restart leaves: only the saved model
        movie = (await storage.add_movie("One more", 2001, guild_id=SMALL)).id
        await storage.upsert_rating(SMALL, 1000, movie, 9)

        def no_choice(*args, **kwargs):
            raise AssertionError("the regularisation was chosen again")

        monkeypatch.setattr(tuning, "choose_reg", no_choice)
        again = await asyncio.to_thread(worker.run_refit, job)
        assert again.saved and again.warm_started and again.reg == chosen
        assert again.model is not None and again.model.tuned_on == first.n_ratings
    finally:
        worker.forget_recent(SMALL)
        await storage.close()


async def test_a_recent_model_never_warm_starts_another_databases_guild(tmp_path):
    """The worker's recent models are kept per database: the same guild id in another
    database (another bot on a shared worker, another test) fits cold, with its own reg and
    "will pick" evidence, not the other's."""
    from bot.service import worker

    first = await Storage.open(tmp_path / "a.sqlite3")
    second = await Storage.open(tmp_path / "b.sqlite3")
    try:
        await _seed(first, SMALL, 40)
        await _seed(second, SMALL, 38, seed=4)
        done = await asyncio.to_thread(worker.run_refit, _job(first, SMALL))
        assert done.saved and not done.warm_started
        other = await asyncio.to_thread(worker.run_refit, _job(second, SMALL))
        assert other.saved and not other.warm_started
        again = await asyncio.to_thread(worker.run_refit, _job(first, SMALL))
        assert again.warm_started
        worker.forget_recent(SMALL)  # every database's model of the guild goes
        assert not [key for key in worker._recent if key[1] == SMALL]
    finally:
        worker.forget_recent(SMALL)
        await first.close()
        await second.close()
