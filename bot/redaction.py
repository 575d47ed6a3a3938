"""Uncaught exceptions go through the same token redaction as logging.

`python -m bot` logs through a handler with `RedactToken` (in `bot.__main__`). An exception
that nobody catches, in the main thread (`sys.excepthook`) or in any other thread
(`threading.excepthook`), would otherwise be printed by Python straight to stderr, token and
all (an error message or a request URL can carry it). `install_excepthooks(token)` routes both
through the logger `bot.uncaught`, after replacing the token in the formatted traceback.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from types import TracebackType

REDACTED = "[token]"

log = logging.getLogger("bot.uncaught")


def redact(text: str, token: str | None) -> str:
    """`text` with every occurrence of `token` replaced by "[token]"."""
    return text.replace(token, REDACTED) if token else text


def _report(where: str, kind: type[BaseException], value: BaseException | None,
            tb: TracebackType | None, token: str | None) -> None:
    text = "".join(traceback.format_exception(kind, value, tb))
    log.critical("uncaught exception in %s\n%s", redact(where, token),
                 redact(text, token).rstrip())


def install_excepthooks(token: str | None) -> None:
    """Make uncaught exceptions (main thread and other threads) redacted log lines."""

    def main_hook(kind: type[BaseException], value: BaseException,
                  tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, value, tb)
            return
        _report("the main thread", kind, value, tb, token)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return  # what the default hook does too
        name = args.thread.name if args.thread is not None else "a thread"
        _report(f"thread {name}", args.exc_type, args.exc_value, args.exc_traceback, token)

    sys.excepthook = main_hook
    threading.excepthook = thread_hook
