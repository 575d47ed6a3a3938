"""Where refits run: two lanes off the event loop, so a big guild never holds up a small one.

`TrainingPool.refit(job, n_ratings)` runs `worker.run_refit` (read, fit, serialise, save: the
whole refit) in one of two lanes chosen by the guild's size:

* the **small lane** (guilds under `training.big_guild_ratings` ratings): a thread pool by
  default — numpy and BLAS release the GIL for the heavy work, and a small model comes back
  as an object, free; its threads run at a lower CPU priority than the event loop's
  (`SMALL_LANE_NICE`, Linux), so on a busy machine the loop gets the CPU, and with it the
  GIL, first;
* the **big lane**: a process pool by default, its workers at lower CPU priority (nice), so a
  million-rating fit competes with neither the event loop for the GIL nor small fits for a
  worker; only the saved blob comes back.

Each lane has its own workers (`training.workers` each), so a small guild's fit waits at most
behind other small fits. `training.mode` = "auto" (the above), "thread" or "process" (both
lanes of that kind). Process workers are started lazily, on the first big fit. "queue" sends
every refit to `python -m bot worker` processes through Redis (`bot.service.queue.QueueLane`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from bot.service.worker import RefitJob, RefitResult, run_refit

if TYPE_CHECKING:
    from bot.service.queue import QueueLane

T = TypeVar("T")
MODES = ("auto", "thread", "process", "queue")
BIG_LANE_NICE = 10  # how much lower the big lane's process priority is
SMALL_LANE_NICE = 5  # and a thread lane's fit threads' (the small lane's by default)


def _lower_priority() -> None:
    """Process-worker initializer: yield the CPU to the bot process and small fits."""
    with contextlib.suppress(OSError):  # not permitted here: run at normal priority
        os.nice(BIG_LANE_NICE)


def _lower_thread_priority() -> None:
    """Thread-worker initializer (Linux: a thread is a task with its own nice value): a fit
    thread yields the CPU to the event loop's thread, which then takes the GIL back sooner
    when both are runnable on a busy machine."""
    with contextlib.suppress(OSError, AttributeError):  # elsewhere: normal priority
        tid = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, current + SMALL_LANE_NICE))


class TrainingPool:
    """Two lanes of bounded workers (see the module docstring)."""

    def __init__(self, workers: int = 1, mode: str = "auto", blas_threads: int = 1,
                 big_guild_ratings: int = 200_000, queue_url: str = "",
                 queue_key: str = "") -> None:
        if mode not in MODES:
            raise ValueError(f"unknown training mode {mode!r} (choose from {', '.join(MODES)})")
        self.mode = mode
        self.workers = max(1, workers)
        self.blas_threads = blas_threads
        self.big_guild_ratings = big_guild_ratings
        self._kinds = {
            "small": "process" if mode == "process" else "thread",
            "big": "thread" if mode == "thread" else "process",
        }
        self._executors: dict[str, concurrent.futures.Executor] = {}
        self.pending = {"small": 0, "big": 0}  # refits submitted and not finished, per lane
        self.queue: QueueLane | None = None
        if mode == "queue":  # both lanes are the workers' queue (run() keeps a thread lane)
            from bot.service.queue import QueueLane

            self.queue = QueueLane(queue_url, queue_key)
            self._kinds = {"small": "queue", "big": "queue"}

    def lane_for(self, n_ratings: int) -> str:
        return "big" if n_ratings >= self.big_guild_ratings else "small"

    def kind(self, lane: str) -> str:
        """"thread" or "process": how `lane` runs its jobs."""
        return self._kinds[lane]

    def _executor(self, lane: str) -> concurrent.futures.Executor:
        executor = self._executors.get(lane)
        if executor is None:
            if self._kinds[lane] == "process":
                import multiprocessing

                executor = concurrent.futures.ProcessPoolExecutor(
                    max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_lower_priority if lane == "big" else None)
            else:
                executor = concurrent.futures.ThreadPoolExecutor(
                    max_workers=self.workers, thread_name_prefix=f"moviebot-fit-{lane}",
                    initializer=_lower_thread_priority)
            self._executors[lane] = executor
        return executor

    async def refit(self, job: RefitJob, n_ratings: int) -> RefitResult:
        """Run one guild's whole refit in the lane its size calls for."""
        lane = self.lane_for(n_ratings)
        if self._kinds[lane] == "process" and job.return_model:
            from dataclasses import replace

            job = replace(job, return_model=False)
        self.pending[lane] += 1
        try:
            loop = asyncio.get_running_loop()
            if self.queue is not None:
                return await self.queue.refit(job)
            return await loop.run_in_executor(self._executor(lane), run_refit, job)
        finally:
            self.pending[lane] -= 1

    async def run(self, func: Callable[..., T], *args: Any, lane: str = "small") -> T:
        """Run another job in a lane (tests use it to keep a lane busy)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor(lane), func, *args)

    def shutdown(self) -> None:
        """Stop taking refits; queued ones are cancelled, a running one is not waited for."""
        for executor in self._executors.values():
            executor.shutdown(wait=False, cancel_futures=True)
        if self.queue is not None:
            self.queue.shutdown()
