"""A tiny progress bar on stderr (no dependency).

On a terminal it redraws one line at most ten times a second; when stderr is not a terminal
(logs, CI, tests) it stays silent and prints only the final line.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30


class Progress:
    """Call `update(done)` with the units done so far, then `close()`."""

    def __init__(self, total: int | None, label: str, *, unit: str = "rows",
                 stream: TextIO | None = None, interval: float = 0.1) -> None:
        self.total = total if total and total > 0 else None
        self.label = label
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self.done = 0
        self._last_draw = 0.0
        self._closed = False
        isatty = getattr(self.stream, "isatty", None)
        self.interactive = bool(isatty and isatty())

    def __call__(self, done: int) -> None:
        self.update(done)

    def update(self, done: int) -> None:
        self.done = done
        if not self.interactive:
            return
        now = time.monotonic()
        if now - self._last_draw >= self.interval:
            self._last_draw = now
            self.stream.write("\r" + self._line())
            self.stream.flush()

    def _line(self) -> str:
        if self.total:
            fraction = min(self.done / self.total, 1.0)
            filled = int(fraction * WIDTH)
            bar = "#" * filled + "." * (WIDTH - filled)
            if self.unit == "bytes":
                amount = f"{_human(self.done, self.unit)}/{_human(self.total, self.unit)}"
            else:
                amount = f"{self.done}/{self.total} {self.unit}"
            return f"{self.label} [{bar}] {fraction:4.0%} {amount}"
        return f"{self.label} {_human(self.done, self.unit)}"

    def close(self) -> None:
        """Draw the final state and end the line (the only output when not a terminal)."""
        if self._closed:
            return
        self._closed = True
        prefix = "\r" if self.interactive else ""
        self.stream.write(prefix + self._line() + "\n")
        self.stream.flush()


def _human(value: int, unit: str) -> str:
    if unit != "bytes":
        return f"{value} {unit}" if unit else str(value)
    size = float(value)
    for suffix in ("B", "KB", "MB", "GB"):
        if size < 1024 or suffix == "GB":
            return f"{size:.0f} {suffix}" if suffix == "B" else f"{size:.1f} {suffix}"
        size /= 1024
    return f"{value} B"
