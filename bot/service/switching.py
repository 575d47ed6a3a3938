"""How soon a busy thread hands the GIL to the event loop: CPython's switch interval.

A thread running Python code (a small guild's fit in the small lane, a model being unpacked,
a ranking) keeps the GIL until another thread has waited `sys.getswitchinterval()` for it, 5 ms
by default. The event loop gives the GIL up at every socket write, read and select, and each
time must get it back: with a fit thread busy, every one of those waits up to 5 ms, many times
per command (benchmarks/many_guilds.py, issue 24: the loop's worst stalls sat in a socket
write with 0.1-0.2 s of its own CPU in 1-2 s, and the small lane's fits used half the
process's CPU). A 1 ms interval bounds each wait to 1 ms; CPU-bound threads switch a little
more often (a few hundred more switches a second at most).
"""

from __future__ import annotations

import sys

SWITCH_INTERVAL = 0.001  # seconds (CPython's default is 0.005)


def install() -> None:
    """Set the interval for the whole process (idempotent)."""
    sys.setswitchinterval(SWITCH_INTERVAL)


__all__ = ["SWITCH_INTERVAL", "install"]
