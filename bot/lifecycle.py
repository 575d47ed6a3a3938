"""Serving the bot until a signal: graceful shutdown for `docker stop` (SIGTERM) and Ctrl-C.

`serve(bot, token)` installs the handlers, runs `bot.start(token)` and returns once the bot has
closed: `MovieBot.close` stops taking commands, lets a running fit finish (bounded) and closes
the database. Anything else that runs a bot in the foreground (the console) calls
`install_shutdown_handlers(bot)` once its event loop runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

log = logging.getLogger("bot")

SHUTDOWN_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def install_shutdown_handlers(bot, loop: asyncio.AbstractEventLoop | None = None) -> None:
    """On SIGTERM/SIGINT, close `bot` (once) in the running loop instead of dying mid-write."""
    loop = loop or asyncio.get_running_loop()
    for signum in SHUTDOWN_SIGNALS:
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows, non-main thread
            loop.add_signal_handler(signum, request_shutdown, bot, signum)


def request_shutdown(bot, signum: int) -> None:
    if getattr(bot, "_shutdown_requested", False):
        return
    bot._shutdown_requested = True
    log.info("received %s: shutting down", signal.Signals(signum).name)
    bot.accepting_commands = False
    task = asyncio.get_running_loop().create_task(bot.close(), name="shutdown")
    bot._shutdown_task = task  # keep a reference until it is done


async def serve(bot, token: str) -> int:
    """Run the bot until it is closed (by a signal or otherwise); 0 after a clean stop."""
    install_shutdown_handlers(bot)
    async with bot:
        await bot.start(token)
    task = getattr(bot, "_shutdown_task", None)
    if task is not None:
        await task
    log.info("stopped cleanly")
    return 0
