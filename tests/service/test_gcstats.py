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
        assert gc.get_threshold()[1] == gcstats.GEN1_THRESHOLD  # shorter generation-1 walks
        assert gc.get_threshold()[2] == gcstats.GEN2_THRESHOLD  # full collections rare
        gcstats.STATS.reset_generations()
        assert gc.callbacks.count(gcstats.STATS.callback) == 1
        counted = list(gcstats.STATS.collections)
        gc.collect(1)
        gc.collect(2)
        assert gcstats.STATS.collections[1] == counted[1] + 1
        assert gcstats.STATS.collections[2] == counted[2] + 1
        by_gen = gcstats.STATS.by_generation()  # what each generation's pauses were
        assert by_gen["gen_n"][1] >= 1 and by_gen["gen_n"][2] >= 1
        assert by_gen["gen_max_ms"][2] > 0 and by_gen["gen_collected"][2] >= 0
        assert by_gen["gen_max_cpu_ms"][2] >= 0
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


def test_freeze_when_ready_moves_live_objects_out_of_the_collectors_walk() -> None:
    """The servers' caches arrive after start-up: once every server is in (`on_ready`), what
    is alive is frozen (a full collection first, so no collectable garbage is frozen)."""
    frozen_before = gc.get_freeze_count()
    try:
        cache = [{"guild": i, "members": [object() for _ in range(3)]} for i in range(500)]
        garbage = [[]]
        garbage[0].append(garbage)  # a reference cycle, unreachable after the del
        del garbage
        count = gcstats.freeze_when_ready()
        assert count >= frozen_before + 500
        assert count == gc.get_freeze_count()
        tracked = {id(o) for o in gc.get_objects()}  # the frozen ones are not walked
        assert id(cache[0]) not in tracked and id(cache[0]["members"]) not in tracked
    finally:
        gc.unfreeze()
        if frozen_before:
            gc.freeze()


async def test_a_started_service_hands_the_gil_to_the_loop_within_a_millisecond(
        tmp_path) -> None:
    """Fit threads running Python code give the GIL up after `SWITCH_INTERVAL` (1 ms), not
    CPython's 5 ms: each of the event loop's socket operations waits at most that long."""
    import sys

    from bot.config import Settings
    from bot.service import RecommendationService, switching
    from bot.storage import Storage

    before = sys.getswitchinterval()
    storage = await Storage.open(tmp_path / "switch.sqlite3")
    service = RecommendationService(storage, Settings(database=tmp_path / "switch.sqlite3"))
    try:
        await service.start()
        assert sys.getswitchinterval() == switching.SWITCH_INTERVAL < 0.005
    finally:
        await service.close()
        await storage.close()
        sys.setswitchinterval(before)
