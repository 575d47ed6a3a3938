"""`TrainingPool` in both modes: a fit in a spawned worker process returns a working model
(CFModel crosses the process boundary by pickling) equal to the same fit on a thread, and a
warm start can be sent to the process too."""

from __future__ import annotations

import asyncio
import pickle

import numpy as np
import pytest

from bot.service.training import FitJob, TrainingPool
from recommender import CFModel, ModelConfig


def _tiny_ratings(seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """40 members x 30 movies, about half rated, from a rank-2 taste model."""
    rng = np.random.default_rng(seed)
    users, movies = rng.normal(size=(40, 2)), rng.normal(size=(30, 2))
    mask = rng.random((40, 30)) < 0.5
    u, m = np.nonzero(mask)
    scores = np.clip(np.rint(5.5 + 2 * np.sum(users[u] * movies[m], axis=1)), 1, 10)
    return ((u + 1000).astype(np.int64), (m + 1).astype(np.int64), scores.astype(np.float32))


async def _fit(mode: str, job: FitJob):
    pool = TrainingPool(mode=mode)
    try:
        return await pool.fit(job)
    finally:
        pool.shutdown()


def test_cfmodel_pickles() -> None:
    user_ids, movie_ids, scores = _tiny_ratings()
    model = CFModel(ModelConfig(features=3, maxiter=10, seed=1))
    model.fit(user_ids, movie_ids, scores)
    copy = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(copy.predict(user_ids, movie_ids),
                                  model.predict(user_ids, movie_ids))


def test_process_fit_equals_thread_fit_with_the_same_seed() -> None:
    user_ids, movie_ids, scores = _tiny_ratings()
    job = FitJob(user_ids, movie_ids, scores, ModelConfig(features=3, maxiter=15, seed=7))
    threaded, thread_report = asyncio.run(_fit("thread", job))
    spawned, process_report = asyncio.run(_fit("process", job))
    assert isinstance(spawned, CFModel)
    assert process_report.n_ratings == thread_report.n_ratings == len(scores)
    assert process_report.iterations == thread_report.iterations
    everyone = np.repeat(np.unique(user_ids), 30)
    every_movie = np.tile(np.arange(1, 31, dtype=np.int64), 40)
    np.testing.assert_allclose(spawned.predict(everyone, every_movie),
                               threaded.predict(everyone, every_movie), rtol=0, atol=1e-9)
    assert [r.movie_id for r in spawned.recommend(1000, n=5)] == [
        r.movie_id for r in threaded.recommend(1000, n=5)]

    # A warm start (the previous model) crosses to the worker process as well.
    warm = FitJob(user_ids, movie_ids, scores, job.config, warm_start=threaded.snapshot())
    refit, _ = asyncio.run(_fit("process", warm))
    assert np.all(np.isfinite(refit.predict(everyone, every_movie)))


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown training mode"):
        TrainingPool(mode="fork")
