"""How much slower than a quiet machine this test run is: one factor for every timeout that
depends on machine speed.

`FACTOR` is `MOVIEBOT_TEST_TIMEOUT_FACTOR` when set (e.g. `3` on a loaded CI runner), else a
quick calibration when first imported: a fixed pure-Python loop (~50 ms on a quiet 2-core
machine) timed three times, and the 1-minute load average per CPU; the larger of the two,
clamped to [1, 10]. tests/conftest.py exports it to the environment, so subprocesses of the
tests (bot helpers) use the same factor; under pytest-xdist each worker multiplies it by the
number of workers first (`for_workers`). Use `scaled(seconds)` for a deadline; waiting on an
event (a log line, a file, a reply) is better still, with a scaled deadline as the backstop.
"""

from __future__ import annotations

import os
import statistics
import time

ENV = "MOVIEBOT_TEST_TIMEOUT_FACTOR"
REFERENCE_SECONDS = 0.05  # the loop below on a quiet 2-core machine
LOOP = 1_000_000
MAX_FACTOR = 10.0


def _loop_seconds() -> float:
    started = time.perf_counter()
    total = 0
    for i in range(LOOP):
        total += i * i
    return time.perf_counter() - started


def calibrate() -> float:
    """The slowdown measured now (>= 1): the loop's wall time against the reference, or the
    load average per CPU, whichever says slower."""
    loop = statistics.median(_loop_seconds() for _ in range(3)) / REFERENCE_SECONDS
    try:
        load = os.getloadavg()[0] / (os.cpu_count() or 1)
    except OSError:  # not available on this platform
        load = 0.0
    return round(min(MAX_FACTOR, max(1.0, loop, load)), 2)


def _factor() -> float:
    raw = os.environ.get(ENV, "").strip()
    if raw:
        try:
            return max(1.0, float(raw))
        except ValueError:
            raise SystemExit(f"{ENV} must be a number, not {raw!r}") from None
    return calibrate()


FACTOR = _factor()


def for_workers(factor: float, workers: int) -> float:
    """The factor of one of `workers` pytest-xdist workers sharing the machine: each test may
    get only its share of the CPUs, so its deadlines stretch by the number of workers."""
    return round(factor * max(1, workers), 2)


def scaled(seconds: float) -> float:
    """`seconds` (what a quiet machine needs, with a margin) times the run's factor."""
    return seconds * FACTOR
