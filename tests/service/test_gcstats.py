"""GC under control (bot.service.gcstats): the threshold is set, every collection's pause is
recorded, and the worst pause since the last read is handed out once."""

from __future__ import annotations

import gc

from bot.service import gcstats


def test_install_sets_the_young_threshold_and_records_pauses() -> None:
    before = gc.get_threshold()
    installed = gcstats.STATS.callback in gc.callbacks  # an earlier bot in this process
    try:
        gcstats.install()
        gcstats.install()  # idempotent: one callback
        assert gc.get_threshold()[0] == gcstats.GEN0_THRESHOLD
        assert gc.callbacks.count(gcstats.STATS.callback) == 1
        counted = list(gcstats.STATS.collections)
        gc.collect(1)
        gc.collect(2)
        assert gcstats.STATS.collections[1] == counted[1] + 1
        assert gcstats.STATS.collections[2] == counted[2] + 1
        assert gcstats.STATS.max_ms > 0 and gcstats.STATS.total_ms >= gcstats.STATS.max_ms
        gc.disable()  # no automatic collection between the two reads below
        worst = gcstats.gc_after_swap()
        assert worst > 0
        assert gcstats.STATS.take_max() == 0.0  # handed out once
    finally:
        gc.enable()
        if not installed:
            gc.callbacks.remove(gcstats.STATS.callback)
            gc.set_threshold(*before)
