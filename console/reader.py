"""The console's input: a line reader that never blocks the event loop, plus the terminal.

`LineReader` reads on a daemon thread (so a blocked read never keeps the process alive), with
`input()` and readline editing at a terminal and plain `readline()` on a script or pipe.
`setup_readline` adds history and Tab completion; `terminal_restored` puts the terminal back as
it was even when the session ends while readline holds it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

HISTORY_FILE = Path("~/.moviebot_console_history")


class LineReader:
    """Reads lines on a daemon thread, so a blocked read never keeps the process alive.

    Interactive: `input()` (with readline editing when available). Otherwise: `readline()` on
    the source. `read()` returns None at the end of input.
    """

    def __init__(self, source: Any, interactive: bool) -> None:
        self.source = source
        self.interactive = interactive
        self._prompts: queue.Queue[
            tuple[str, asyncio.AbstractEventLoop, asyncio.Future[str | None]]] = queue.Queue()
        self._pending: asyncio.Future[str | None] | None = None
        self._ended = False
        self._thread = threading.Thread(target=self._run, name="console-input", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            prompt, loop, future = self._prompts.get()
            try:
                if self.interactive:
                    try:
                        line: str | None = input(prompt)
                    except EOFError:
                        line = None
                else:
                    line = self.source.readline() or None
            except Exception as error:  # a closed or undecodable input ends the session
                log.debug("input failed: %r", error)
                line = None
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                loop.call_soon_threadsafe(_resolve, future, line)

    async def read(self, prompt: str = "") -> str | None:
        if self._ended:
            return None
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str | None] = loop.create_future()
        self._pending = future
        self._prompts.put((prompt, loop, future))
        try:
            line = await future
        finally:
            self._pending = None
        if line is None:
            self._ended = True
            return None
        return line.rstrip("\r\n")

    def interrupt(self) -> bool:
        """Ctrl-C at the prompt: end the input. False when no read was waiting."""
        if self._pending is None or self._pending.done():
            return False
        self._ended = True
        self._pending.set_result(None)
        return True


def _resolve(future: asyncio.Future[str | None], value: str | None) -> None:
    if not future.done():
        future.set_result(value)


def setup_readline(completions: Iterable[str]) -> None:
    """History in ~/.moviebot_console_history and Tab completion of `completions`, when
    readline exists."""
    try:
        import readline
    except ImportError:  # e.g. Windows without pyreadline
        return
    history = HISTORY_FILE.expanduser()
    with contextlib.suppress(OSError):
        readline.read_history_file(history)
    readline.set_history_length(1000)

    def save() -> None:
        with contextlib.suppress(OSError):
            readline.write_history_file(history)

    import atexit

    atexit.register(save)
    words = sorted(set(completions))

    def complete(text: str, state: int) -> str | None:
        matches = [w for w in words if w.startswith(text)]
        return matches[state] if state < len(matches) else None

    readline.set_completer_delims(" \t\n\"")
    readline.set_completer(complete)
    readline.parse_and_bind("tab: complete")


@contextlib.contextmanager
def terminal_restored() -> Iterator[None]:
    """Put the terminal back as it was, even if we exit while readline holds it."""
    try:
        import termios

        fd = sys.stdin.fileno()
        saved = termios.tcgetattr(fd)
    except Exception:
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
