"""Garbage collection under control: pauses measured, long-lived objects frozen.

A full (generation 2) collection walks every tracked object; with a few hundred thousand
long-lived ones (the bot, discord.py's caches, loaded models' metadata) it stalls the event
loop for tens of milliseconds on whichever thread allocates. So:

* `install()` (at start-up): sets the generation-0 threshold (`GEN0_THRESHOLD`: young
  collections less often than CPython 3.11's default, but small enough that a generation-1
  collection stays short) and the generation-2 one (`GEN2_THRESHOLD`: full collections rare),
  and records every collection's pause, per generation, through `gc.callbacks`;
* `freeze()` once, after start-up: a young collection, then `gc.freeze()` moves the bot's
  long-lived start-up objects (modules, discord.py's caches) to the permanent generation, which
  later collections skip (objects there are still freed by reference counting when dropped).
  Not after every model swap: that also froze cyclic garbage for good;
* `freeze_when_ready()` once more when the gateway has delivered every server (`on_ready`):
  discord.py's caches of the servers arrive after start-up;
* `STATS` holds the pauses: the worst, the total, the count, per generation, for the fit log
  line, `python -m bot stats`-style summaries and the benchmarks.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass, field

# A young collection every 2,000 net allocations (CPython 3.13's default; 3.11 has 700): few
# collections, and a generation-1 collection, which walks the survivors of the last 10 young
# ones, stays a few milliseconds. 10,000 (until issue 11's last round) let generation-1
# collections reach 20-50 ms on the event loop (benchmarks/loop_latency.py: GC pause max 20-50
# ms while the big guild refits; 4.9 ms with 2,000).
GEN0_THRESHOLD = 2_000

# A full collection after this many generation-1 ones (CPython's default is 10): each walks
# every object not frozen (160,000 at 2,000 servers under load), the one pause that grows with
# the bot. 10 meant one every ~10 s at 50 commands/s (3 in a 30 s many_guilds window, the
# longest pauses: issue 24); objects that survive into the oldest generation are few (most
# garbage dies young), so collecting it ten times less often costs little memory (100 with
# generation-1 collections every 10 young ones; 200 with every 5, ``GEN1_THRESHOLD``).
GEN2_THRESHOLD = 200

# A generation-1 collection after this many young ones (CPython's default is 10): it walks
# what survived them, so with half as many its worst pause is shorter (10,000 servers,
# many_guilds.py: the collector's own CPU at its longest generation-1 pause 10.6-13.6 ms in 3
# runs with 10, 8.2-8.6 ms in 3 with 5: wall-clock pauses on the loaded machine were noise,
# 15.8-46.6 against 16.8-24.9 ms; twice as many such collections, 30-80 ms more of them a 30 s
# window in all). GEN2_THRESHOLD was doubled with it: full collections stay as rare.
GEN1_THRESHOLD = 5


@dataclass
class GcStats:
    collections: list[int] = field(default_factory=lambda: [0, 0, 0])
    total_ms: float = 0.0
    max_ms: float = 0.0
    max_since_read_ms: float = 0.0
    # per generation since `reset_generations`: collections, worst and total pause (ms),
    # objects collected
    gen_n: list[int] = field(default_factory=lambda: [0, 0, 0])
    gen_max_ms: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    gen_total_ms: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    gen_collected: list[int] = field(default_factory=lambda: [0, 0, 0])
    # the worst pause in the collecting thread's CPU time (ms): on a busy machine a wall-clock
    # pause includes time the thread waited for a CPU; this is the collector's own work
    gen_max_cpu_ms: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    _started: float = 0.0
    _started_cpu: float = 0.0

    def callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            self._started_cpu = time.thread_time()
            return
        pause = (time.perf_counter() - self._started) * 1000.0
        cpu = (time.thread_time() - self._started_cpu) * 1000.0
        generation = min(2, max(0, info.get("generation", 0)))
        self.collections[generation] += 1
        self.total_ms += pause
        self.max_ms = max(self.max_ms, pause)
        self.max_since_read_ms = max(self.max_since_read_ms, pause)
        self.gen_n[generation] += 1
        self.gen_max_ms[generation] = max(self.gen_max_ms[generation], pause)
        self.gen_total_ms[generation] += pause
        self.gen_collected[generation] += int(info.get("collected", 0))
        self.gen_max_cpu_ms[generation] = max(self.gen_max_cpu_ms[generation], cpu)

    def reset_generations(self) -> None:
        """Start the per-generation figures again (a benchmark's window)."""
        self.gen_n = [0, 0, 0]
        self.gen_max_ms = [0.0, 0.0, 0.0]
        self.gen_total_ms = [0.0, 0.0, 0.0]
        self.gen_collected = [0, 0, 0]
        self.gen_max_cpu_ms = [0.0, 0.0, 0.0]

    def by_generation(self) -> dict[str, list]:
        """Per generation (0, 1, 2): collections, worst and total pause (ms), collected, and
        the worst pause in the thread's CPU time (ms)."""
        return {"gen_n": list(self.gen_n), "gen_max_ms": list(self.gen_max_ms),
                "gen_max_cpu_ms": list(self.gen_max_cpu_ms),
                "gen_total_ms": list(self.gen_total_ms),
                "gen_collected": list(self.gen_collected)}

    def take_max(self) -> float:
        """The longest pause since the last call (ms)."""
        worst, self.max_since_read_ms = self.max_since_read_ms, 0.0
        return worst


STATS = GcStats()


def install() -> None:
    """Measure every collection, collect young objects less often and old ones rarely
    (idempotent)."""
    if STATS.callback not in gc.callbacks:
        gc.callbacks.append(STATS.callback)
    gc.set_threshold(GEN0_THRESHOLD, GEN1_THRESHOLD, GEN2_THRESHOLD)


def freeze() -> None:
    """Collect the young generations, then move everything alive to the permanent one."""
    gc.collect(1)
    gc.freeze()


def freeze_when_ready() -> int:
    """Once the gateway has delivered every server (the first `on_ready`): a full collection,
    then `gc.freeze()`. discord.py's caches of servers, channels, roles and members arrive
    after `freeze()` ran at start-up and live as long as the bot; at 2,000 servers they are
    tens of thousands of objects that every full collection would walk again
    (benchmarks/many_guilds.py). The full collection first means nothing collectable is
    frozen; a server the bot later leaves is freed by reference counting, except what of it
    is in reference cycles. Returns the number of frozen objects."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def gc_after_swap() -> float:
    """After a model swap: the worst GC pause (ms) since the previous swap, for the fit log
    line. (No freeze here: freezing after every swap kept cyclic garbage alive for good —
    benchmarks/many_guilds.py saw the frozen set grow tenfold in a minute — and the young
    collection before it ran on the event loop.)"""
    return STATS.take_max()
