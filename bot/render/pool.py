"""Where pictures are drawn: one drawing process beside the bot, so matplotlib never holds the
bot process's GIL.

matplotlib draws in pure Python for most of a picture (a /recommend card takes ~60 ms, nearly
all of it holding the GIL). In a thread of the bot process that time is taken from the event
loop: every time the loop gives up the GIL for a system call (a socket write, `select`) the
drawing thread takes it and the loop waits up to the interpreter's switch interval to get it
back, so a loop iteration with a few system calls stalls for tens of milliseconds
(`benchmarks/loop_latency.py` found the loop waiting in `select` and in socket writes while
cards were drawn). Drawing in another process costs a pickle of small inputs (titles, a few
arrays) and of the PNG bytes back.

`DRAWING` is the process-wide pool (one worker, started lazily and warmed in the background by
`warm()`, shared by every `PictureService` of the process). `draw(fn, *args)` is called from
the pictures thread and blocks it (not the loop) until the picture is back. If the worker dies
the pool is started again for the next picture; if a process cannot be started at all (a
sandbox without process support, or workers that die as they start) pictures are drawn in the
calling thread, as before, and the fallback is logged once.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from bot.i18n import current, speaking

log = logging.getLogger(__name__)

T = TypeVar("T")


def _in_language(language: str, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in the drawing process, its labels in the caller's language (a context
    variable does not cross into another process)."""
    with speaking(language):
        return fn(*args)


def _import_render() -> None:
    """Worker initializer: import matplotlib and the charts once, before the first picture."""
    import bot.render  # noqa: F401


def worker_pid() -> int:
    """The drawing worker's process id (what `warm()` runs; tests check it is not ours)."""
    return os.getpid()


MAX_DEATHS = 3  # workers dying in a row (no picture in between) before drawing in-thread


class DrawingPool:
    """One drawing worker process, started on first use (see the module docstring)."""

    def __init__(self, initializer: Callable[[], object] = _import_render) -> None:
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._initializer = initializer
        self.in_process = True  # False once processes proved impossible: draw in the thread
        self.restarts = 0
        self._deaths = 0  # consecutive worker deaths

    def _executor(self) -> ProcessPoolExecutor | None:
        with self._lock:
            if self._pool is None and self.in_process:
                try:
                    self._pool = ProcessPoolExecutor(
                        max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                        initializer=self._initializer)
                except (OSError, ImportError, NotImplementedError) as error:
                    log.warning("pictures are drawn in the bot process: no drawing process "
                                "(%s)", error)
                    self.in_process = False
            return self._pool

    def warm(self) -> Future[int] | None:
        """Start the worker now (it imports matplotlib in the background); returns the future
        of its pid, or None when drawing happens in-process."""
        pool = self._executor()
        if pool is None:
            return None
        try:
            return pool.submit(worker_pid)
        except (BrokenProcessPool, RuntimeError):
            self._discard(pool)
            return None

    def draw(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in the drawing process (``fn`` and the arguments are pickled: use
        `bot.render`'s module-level functions and plain data). Blocks the calling thread."""
        for _attempt in range(2):
            pool = self._executor()
            if pool is None:
                return fn(*args)
            future: Future[T] | None = None
            try:
                future = pool.submit(_in_language, current(), fn, *args)
                result = future.result()
                self._deaths = 0
                return result
            except BrokenProcessPool:  # the worker died (killed, out of memory): start again
                self._discard(pool)
                self._deaths += 1
                if self._deaths >= MAX_DEATHS:  # they die as they start: stop trying
                    log.warning("drawing processes keep dying; pictures are drawn in the bot "
                                "process from now on")
                    self.in_process = False
                    return fn(*args)
                log.warning("the drawing process died; starting a new one")
                self.restarts += 1
            except RuntimeError:
                if future is not None:
                    raise  # the drawing itself failed: the caller's error
                return fn(*args)  # the pool is shut down (interpreter exit): draw here
        return fn(*args)  # two workers died in a row: this picture in the calling thread

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


DRAWING = DrawingPool()
