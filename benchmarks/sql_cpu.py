"""CPU time of each SQL statement in aiosqlite's connection threads (benchmarks only).

`install()` (called by `botproc.py` when `MOVIEBOT_BENCH_SQL_CPU=1`, which `many_guilds.py
--sql-cpu` sets) wraps `aiosqlite.Connection._execute`, the one door through which every call
reaches a connection's thread (aiosqlite's `execute`/cursor methods and the storage's
`one_trip`), so that the call runs between two `time.thread_time()` readings in that thread.
Calls are grouped by their SQL text (whitespace collapsed); a call without SQL (a cursor's
fetch, a whole transaction handed to the writer's thread) by its function's name. Nothing is
installed unless asked for: the bot itself never imports this module.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any

_SPACES = re.compile(r"\s+")


class SqlCpu:
    def __init__(self) -> None:
        self.stats: dict[str, list[float]] = {}  # key -> [calls, CPU seconds]
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self.stats = {}

    def add(self, key: str, seconds: float) -> None:
        with self._lock:
            entry = self.stats.setdefault(key, [0, 0.0])
            entry[0] += 1
            entry[1] += seconds

    def report(self) -> list[tuple[str, int, float]]:
        with self._lock:
            return sorted(((k, int(v[0]), v[1]) for k, v in self.stats.items()),
                          key=lambda row: -row[2])


def describe(fn: Callable[..., Any], args: tuple[Any, ...]) -> str:
    for arg in args[:2]:  # conn.execute(sql, ...) or one_trip's fn(raw, sql, params)
        if isinstance(arg, str):
            return _SPACES.sub(" ", arg).strip()[:300]
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", repr(fn))
    return f"<{name}>"


def install() -> SqlCpu:
    import aiosqlite

    counter = SqlCpu()
    original = aiosqlite.Connection._execute

    async def _execute(self: Any, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        key = describe(fn, args)

        def timed(*a: Any, **k: Any) -> Any:
            t0 = time.thread_time()
            try:
                return fn(*a, **k)
            finally:
                counter.add(key, time.thread_time() - t0)

        return await original(self, timed, *args, **kwargs)

    aiosqlite.Connection._execute = _execute  # type: ignore[method-assign]
    return counter


def summarise(rows: list[list[Any]], commands: int, top: int = 15) -> list[str]:
    """The top statements by CPU, per command of the window."""
    n = max(1, commands)
    total = sum(r[2] for r in rows)
    calls = sum(r[1] for r in rows)
    lines = [f"SQL in the connection threads: {1000 * total / n:.2f} ms CPU a command, "
             f"{calls / n:.1f} calls a command ({len(rows)} distinct)",
             "  ms/cmd  calls/cmd  us/call  statement"]
    for key, count, cpu in rows[:top]:
        lines.append(f"  {1000 * cpu / n:6.3f}  {count / n:9.2f}  {1e6 * cpu / max(1, count):7.0f}"
                     f"  {key[:150]}")
    return lines
