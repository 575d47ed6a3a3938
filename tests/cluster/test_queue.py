"""Queued training against real Redis and real `python -m bot worker` processes: the service's
refits go through the queue and come back as saved models, a guild's refits are de-duplicated
across cluster processes, and a repeated delivery is harmless."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import numpy as np
import pytest
from cluster_support import JOB_KEY

from bot.catalog.starter import ensure_starter_catalog
from bot.config import ConfigError, RedisSettings, TrainingSettings, default_settings
from bot.service.queue import QueueLane, job_from_dict, job_to_dict
from bot.service.service import RecommendationService
from bot.service.worker import RefitJob
from bot.storage import Storage
from recommender import CFModel, ModelConfig

GUILD = 81_000_000_000_000_001
MEMBERS = 40


async def seeded(path: Path, guild: int = GUILD, members: int = MEMBERS) -> Storage:
    """A database with the starter catalog and `members` members' ratings of 30 movies."""
    storage = await Storage.open(path)
    await ensure_starter_catalog(storage)
    movies = [m.id for m in await storage.search_movies(guild, "the", limit=30)]
    rng = np.random.default_rng(0)
    for user in range(1, members + 1):
        for movie in rng.choice(movies, 12, replace=False):
            await storage.upsert_rating(guild, user, int(movie), int(rng.integers(1, 11)))
    return storage


def job_for(path: Path, guild: int = GUILD) -> RefitJob:
    return RefitJob(database=str(path), guild_id=guild, config=ModelConfig(features=4, reg=5.0),
                    settings_key="test", tune_reg=False, max_ratings=1_000_000,
                    max_cells=10_000_000)


def lane(redis: str) -> QueueLane:
    return QueueLane(redis, JOB_KEY)


def test_jobs_travel_as_plain_json():
    job = job_for(Path("/tmp/x.sqlite3"))
    wire = __import__("json").loads(__import__("json").dumps(job_to_dict(job, JOB_KEY)))
    back = job_from_dict(wire, JOB_KEY, database="/tmp/x.sqlite3")
    assert back == dataclasses.replace(job, return_model=False)


async def test_service_refits_through_the_queue(tmp_path, redis_db, procs):
    storage = await seeded(tmp_path / "bot.sqlite3")
    procs.worker("w1", redis_db, database=tmp_path / "bot.sqlite3")
    settings = dataclasses.replace(
        default_settings(), database=tmp_path / "bot.sqlite3",
        training=TrainingSettings(mode="queue", debounce_seconds=0.1),
        redis=RedisSettings(url=redis_db, job_key=JOB_KEY))
    recs = RecommendationService(storage, settings, cold_wait_seconds=20)
    try:
        assert recs.pool.queue is not None
        picks = await recs.recommend(GUILD, 1, n=5)
        assert picks.personal and len(picks.items) == 5
        (report,) = recs.pool.queue.reports
        assert report["worker"] == "w1" and report["saved"]
        assert report["n_ratings"] == MEMBERS * 12
        saved = await storage.load_model_state(GUILD)
        version, _count = await storage.ratings_version(GUILD)
        assert saved is not None and saved.ratings_version == version
        assert recs.fits_completed == 1
    finally:
        await recs.close()
        await storage.close()
    assert procs.started[0].text().count("fit done guild=") == 1


async def test_one_refit_per_guild_across_clusters(tmp_path, redis_db, procs):
    """Two cluster processes asking for the same guild's refit at once: one fit runs, both
    get its report (the `_job_id` de-duplication)."""
    storage = await seeded(tmp_path / "bot.sqlite3", members=300)
    await storage.close()
    worker = procs.worker("w1", redis_db, database=tmp_path / "bot.sqlite3")
    one, two = lane(redis_db), lane(redis_db)
    try:
        job = job_for(tmp_path / "bot.sqlite3")
        first, second = await asyncio.gather(one.refit(job), two.refit(job))
    finally:
        await one.aclose()
        await two.aclose()
    assert worker.text().count(f"fit start guild={GUILD}") == 1
    assert first.ratings_version == second.ratings_version > 0
    assert first.blob == second.blob and first.blob is not None
    assert CFModel.from_bytes(first.blob).knows_user(1)
    # The result was read and removed: the guild's next refit is queued again.
    third = lane(redis_db)
    try:
        again = await third.refit(job)
    finally:
        await third.aclose()
    assert worker.text().count(f"fit start guild={GUILD}") == 2
    assert again.ratings_version == first.ratings_version


async def test_repeated_delivery_is_harmless(tmp_path, redis_db, procs):
    """At-least-once: the same job delivered twice saves the same data twice (or is refused
    by the generation guard); an older job never replaces a newer model."""
    path = tmp_path / "bot.sqlite3"
    storage = await seeded(path)
    procs.worker("w1", redis_db, database=path)
    queue = lane(redis_db)
    try:
        job = job_for(path)
        first = await queue.refit(job)
        repeat = await queue.refit(job)
        assert repeat.ratings_version == first.ratings_version
        state = await storage.load_model_state(GUILD)
        assert state is not None and state.ratings_version == first.ratings_version
        # A newer model (after more ratings) is saved; then a stale fit's save is refused.
        await storage.upsert_rating(GUILD, 999, (await storage.search_movies(GUILD, "the"))[0].id,
                                    9)
        newer = await queue.refit(job)
        assert newer.ratings_version > first.ratings_version
        from bot.storage import bulk

        with bulk.connect(path) as conn:
            assert not bulk.save_model(conn, GUILD, b"stale", ratings_version=first.ratings_version,
                                       settings_key="test")
        state = await storage.load_model_state(GUILD)
        assert state is not None and state.ratings_version == newer.ratings_version
        assert state.blob == newer.blob
    finally:
        await queue.aclose()
        await storage.close()


def test_queue_mode_needs_redis_and_a_job_key():
    with pytest.raises(ConfigError, match="redis"):
        QueueLane("", JOB_KEY)
    with pytest.raises(ConfigError, match="job_key"):
        QueueLane("redis://127.0.0.1:6379/0", "")


async def test_a_stopped_worker_puts_its_job_back(tmp_path, redis_db, procs):
    """SIGTERM mid-fit (a deploy, a scale-down): the job goes back on the queue at once and
    another worker runs it; no waiting for the in-progress mark to expire."""
    import signal
    import sqlite3
    import time

    path = tmp_path / "bot.sqlite3"
    storage = await seeded(path, members=10)
    await storage.close()
    with sqlite3.connect(path) as conn:
        movies = [r[0] for r in conn.execute("SELECT id FROM movies WHERE guild_id IS NULL")]
    rng = np.random.default_rng(1)
    rows = [(GUILD, 10**15 + u, int(m), int(rng.integers(1, 11)), 0.0)
            for u in range(1500) for m in rng.choice(movies, 40, replace=False)]
    with sqlite3.connect(path) as conn:
        conn.executemany("INSERT INTO ratings (guild_id, user_id, movie_id, score, updated_at) "
                         "VALUES (?, ?, ?, ?, ?)", rows)
    first = procs.worker("w1", redis_db, "--job-timeout", "120", database=path)
    queue = lane(redis_db)
    try:
        job = dataclasses.replace(job_for(path), tune_reg=True)
        refit = asyncio.create_task(queue.refit(job))
        deadline = time.monotonic() + 30
        while f"fit start guild={GUILD}" not in first.text():
            assert time.monotonic() < deadline, first.text()
            await asyncio.sleep(0.01)
        stopped_at = time.monotonic()
        first.popen.send_signal(signal.SIGTERM)
        second = await asyncio.to_thread(lambda: procs.worker("w2", redis_db, database=path))
        result = await asyncio.wait_for(refit, 60)
        assert time.monotonic() - stopped_at < 60  # not the 120 + 10 s of an expired mark
    finally:
        await queue.aclose()
    assert "will be run again" in first.text()
    assert f"fit done guild={GUILD}" in second.text()
    assert result.ratings_version > 0 and result.blob is not None


async def test_a_result_read_by_another_waiter_falls_back_to_the_saved_model(
        tmp_path, redis_db, procs):
    """Two waiters on one guild's job: the first reads and removes the result; the second
    must not wait forever: it sees the job gone and loads the model the worker saved."""
    from arq.jobs import Job

    from bot.service.queue import job_id, loads

    path = tmp_path / "bot.sqlite3"
    storage = await seeded(path)
    await storage.close()
    procs.worker("w1", redis_db, database=path)
    queue = lane(redis_db)
    try:
        done = await queue.refit(job_for(path))  # finished, result read and removed
        pool = await queue._redis()
        gone = Job(job_id(GUILD), pool, _queue_name=queue.queue_name, _deserializer=loads)
        assert await asyncio.wait_for(queue._wait(gone), 5) is None
        fallback = await asyncio.to_thread(queue._saved_result, job_for(path))
        assert fallback.blob == done.blob and fallback.ratings_version == done.ratings_version
    finally:
        await queue.aclose()
