"""Pictures are drawn in a separate process (bot.render.pool): the bot process's GIL is never
held by matplotlib, a dead drawing process is replaced, and a machine without processes
still gets its pictures."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from bot.render import CardLine, Distribution, draw_distribution, draw_picks_card
from bot.render.pool import DRAWING, DrawingPool, worker_pid

LINES = [CardLine(rank=i, title=f"Movie {i} (1999)", detail="because you liked Heat",
                  score=8.0 - i / 10) for i in range(1, 6)]


def test_the_drawing_runs_in_another_process_and_gives_the_same_picture() -> None:
    pid = DRAWING.draw(worker_pid)
    assert pid != os.getpid()
    there = DRAWING.draw(draw_picks_card, "Your picks", LINES, "")
    here = draw_picks_card("Your picks", LINES, "")
    assert there.png.startswith(b"\x89PNG") and there.size == here.size
    chart = DRAWING.draw(draw_distribution, Distribution(
        title="Scores", counts=np.arange(10.0), mine=7, mine_label="you"))
    assert chart.png.startswith(b"\x89PNG")


def test_a_killed_drawing_process_is_replaced_for_the_next_picture() -> None:
    pool = DrawingPool()
    try:
        first = pool.draw(worker_pid)
        os.kill(first, signal.SIGKILL)
        picture = pool.draw(draw_picks_card, "Again", LINES, "")
        assert picture.png.startswith(b"\x89PNG")
        second = pool.draw(worker_pid)
        assert second not in (first, os.getpid())
        assert pool.restarts >= 1
    finally:
        pool.shutdown()


def test_without_processes_pictures_are_drawn_in_the_calling_thread(
        monkeypatch: pytest.MonkeyPatch) -> None:
    pool = DrawingPool()

    def no_processes(*_args, **_kwargs):
        raise OSError("no process support here")

    monkeypatch.setattr("bot.render.pool.ProcessPoolExecutor", no_processes)
    assert pool.warm() is None
    assert pool.draw(worker_pid) == os.getpid()
    assert not pool.in_process
    assert pool.draw(draw_picks_card, "Here", LINES, "").png.startswith(b"\x89PNG")


def test_an_error_while_drawing_reaches_the_caller() -> None:
    with pytest.raises(ZeroDivisionError):
        DRAWING.draw(divmod, 1, 0)


def test_workers_that_die_as_they_start_give_way_to_in_thread_drawing() -> None:
    import sys

    pool = DrawingPool(initializer=sys.exit)  # every worker exits in its initializer
    try:
        assert pool.draw(worker_pid) == os.getpid()  # two deaths, then this one in-thread
        assert pool.draw(worker_pid) == os.getpid()  # the third death: processes given up
        assert not pool.in_process
        assert pool.draw(draw_picks_card, "Here", LINES, "").png.startswith(b"\x89PNG")
    finally:
        pool.shutdown()
