"""Where fits run: a small, bounded executor off the event loop, with BLAS threads capped.

`TrainingPool.fit(...)` submits one fit and returns the trained model. A thread pool is the
default (numpy and BLAS release the GIL for the heavy work); `mode="process"` runs fits in a
separate process instead, for hosts where a long fit must not compete with the loop for the GIL
(benchmarks/loop_latency.py measures both).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import numpy as np

from recommender import CFModel, FitReport, ModelConfig
from recommender.prior import GuildPrior
from recommender.tuning import choose_reg

T = TypeVar("T")


@dataclass(frozen=True)
class FitJob:
    """Everything one fit needs, as plain data (so it can cross a process boundary)."""

    user_ids: np.ndarray
    movie_ids: np.ndarray
    scores: np.ndarray
    config: ModelConfig
    warm_start: CFModel | None = None
    blas_threads: int = 1
    tune_reg: bool = False  # choose reg by hold-out validation first (small guilds)
    prior: GuildPrior | None = None  # the taste prior aligned to catalog ids (optional)
    movie_features: tuple[np.ndarray, np.ndarray] | None = None  # genres and decade


def run_fit(job: FitJob) -> tuple[CFModel, FitReport]:
    """Fit a model for one guild (runs in a worker thread or process)."""
    from threadpoolctl import threadpool_limits

    started = time.perf_counter()
    config = job.config
    with threadpool_limits(limits=job.blas_threads):
        if job.tune_reg:
            choice = choose_reg(job.user_ids, job.movie_ids, job.scores, config,
                                prior=job.prior)
            config = replace(config, reg=choice.reg)
        model = CFModel(config)
        report = model.fit(job.user_ids, job.movie_ids, job.scores, warm_start=job.warm_start,
                           prior=job.prior, movie_features=job.movie_features)
    return model, replace(report, seconds=time.perf_counter() - started)


class TrainingPool:
    """At most `workers` fits at a time; further fits wait in the executor's queue."""

    def __init__(self, workers: int = 1, mode: str = "thread", blas_threads: int = 1) -> None:
        if mode not in ("thread", "process"):
            raise ValueError(f"unknown training mode {mode!r}")
        self.mode = mode
        self.blas_threads = blas_threads
        if mode == "process":
            import multiprocessing

            self._executor: concurrent.futures.Executor = concurrent.futures.ProcessPoolExecutor(
                max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
        else:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=workers, thread_name_prefix="moviebot-train")

    async def fit(self, job: FitJob) -> tuple[CFModel, FitReport]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, run_fit, job)

    async def run(self, func: Callable[..., T], *args: Any) -> T:
        """Run a small numeric job (e.g. model serialisation) on the training executor."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, func, *args)

    def shutdown(self) -> None:
        """Stop taking fits; queued fits are cancelled, a running one is not waited for."""
        self._executor.shutdown(wait=False, cancel_futures=True)
