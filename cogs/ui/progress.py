"""A progress line for a long sync (`/link`, issue 25): the member's deferred, ephemeral reply
is edited with "Syncing Jellyfin: 400/1,250 movies matched…" while a big history is read and
matched, then replaced by the summary.

Only histories of more than `BIG_HISTORY` movies get one (a small one is done before a line
would be read). The first report is shown at once, later ones at most every `EVERY` seconds:
Discord allows a handful of edits per couple of seconds on an interaction's webhook, and a
line a few seconds apart stays far below that (the summary's edit may follow the last line at
once: two edits).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from bot.i18n import _, number
from bot.media.models import SERVICE_NAMES

BIG_HISTORY = 200  # movies: a sync of more shows its progress
EVERY = 3.0  # seconds at least between two progress edits


def progress_text(service: str, phase: str, done: int, total: int) -> str:
    name = SERVICE_NAMES.get(service, service)
    if phase == "read":
        return _("Syncing {service}: {done}/{total} movies read…").format(
            service=name, done=number(done), total=number(total))
    return _("Syncing {service}: {done}/{total} movies matched…").format(
        service=name, done=number(done), total=number(total))


class ProgressLine:
    """`Progress` callback of `MediaService` that edits a reply, throttled (module
    docstring). `edit(text)` shows a line; `clock` is monotonic seconds."""

    def __init__(self, service: str, edit: Callable[[str], Awaitable[object]], *,
                 big: int = BIG_HISTORY, every: float = EVERY,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.service = service
        self.edit = edit
        self.big = big
        self.every = every
        self.clock = clock
        self.last: float | None = None
        self.shown: list[str] = []  # the lines shown, in order

    async def __call__(self, phase: str, done: int, total: int) -> None:
        if total <= self.big or (phase == "match" and done >= total):
            return  # small, or finished: the summary comes next
        now = self.clock()
        if self.last is not None and now - self.last < self.every:
            return
        self.last = now
        text = progress_text(self.service, phase, done, total)
        self.shown.append(text)
        await self.edit(text)
