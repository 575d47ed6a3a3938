"""Serving the bot until a signal: connecting with retries, graceful shutdown for `docker stop`
(SIGTERM) and Ctrl-C.

`serve(bot, token)` installs the handlers, opens what needs no network (`bot.prepare()`: the
database, metrics, the health status file), logs in (retrying transient failures), connects and
returns once the bot has closed: `MovieBot.close` stops taking commands, lets a running fit
finish (bounded) and closes the database. Anything else that runs a bot in the foreground (the
console) calls `install_shutdown_handlers(bot)` once its event loop runs.

Start-up failures fall in two kinds:

* transient (connection refused, DNS failure, a timeout, Discord answering 5xx): one log line
  per attempt, then another attempt after an exponential backoff with full jitter, forever —
  a network that comes back later gets a running bot, not a crash loop;
* permanent (the token is rejected, Discord refuses the intents): raised, so the entry point
  prints one line saying what to fix and exits with `EXIT_DISCORD_REFUSED`.

A signal stops it cleanly at any point: during an attempt, between attempts or once connected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
import time
from typing import Any

import aiohttp
import discord

from bot.domain.plural import plural

log = logging.getLogger("bot")

SHUTDOWN_SIGNALS = (signal.SIGTERM, signal.SIGINT)
BACKOFF_BASE = 1.0  # seconds before the second attempt (on average), doubling each time
BACKOFF_CAP = 300.0  # never wait more than this between attempts

# Failures worth another attempt: the network or Discord, not the token or the code.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # connection refused or reset, DNS failure (aiohttp's are OSErrors too)
    aiohttp.ClientError,
    TimeoutError,
    discord.GatewayNotFound,
    discord.DiscordServerError,  # 5xx after discord.py's own retries
    discord.RateLimited,
)


def backoff_delay(attempt: int, *, base: float | None = None, cap: float | None = None,
                  rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt number `attempt` (1, 2, ...): exponential with
    full jitter, uniform in [0, min(cap, base * 2**(attempt-1))] but at least a tenth of it."""
    base = BACKOFF_BASE if base is None else base
    cap = BACKOFF_CAP if cap is None else cap
    ceiling = min(cap, base * 2 ** min(attempt - 1, 30))
    return (rng or random).uniform(ceiling / 10, ceiling)


def describe(error: BaseException) -> str:
    """One line for a transient failure (no traceback: the cause is the network)."""
    if isinstance(error, discord.DiscordServerError):
        return f"Discord answered HTTP {error.status}"
    if isinstance(error, aiohttp.ClientConnectorError):
        return f"cannot connect to {error.host}:{error.port} ({error.os_error.strerror or error})"
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


def is_transient(error: BaseException) -> bool:
    if isinstance(error, discord.LoginFailure | discord.PrivilegedIntentsRequired):
        return False
    if isinstance(error, discord.HTTPException) and not isinstance(
            error, discord.DiscordServerError):
        return error.status == 429  # other 4xx: a bug or a setup problem, not the network
    return isinstance(error, TRANSIENT_ERRORS)


def install_shutdown_handlers(bot: Any, loop: asyncio.AbstractEventLoop | None = None) -> None:
    """On SIGTERM/SIGINT, close `bot` (once) in the running loop instead of dying mid-write."""
    loop = loop or asyncio.get_running_loop()
    for signum in SHUTDOWN_SIGNALS:
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows, non-main thread
            loop.add_signal_handler(signum, request_shutdown, bot, signum)


def request_shutdown(bot: Any, signum: int) -> None:
    if getattr(bot, "_shutdown_requested", False):
        return
    bot._shutdown_requested = True
    log.info("received %s: shutting down", signal.Signals(signum).name)
    bot.accepting_commands = False
    task = asyncio.get_running_loop().create_task(bot.close(), name="shutdown")
    bot._shutdown_task = task  # keep a reference until it is done


def _stopping(bot: Any) -> bool:
    return bool(getattr(bot, "_shutdown_requested", False)) or bot.is_closed()


async def _pause(bot: Any, seconds: float) -> None:
    """Sleep `seconds`, or less if the bot starts closing meanwhile."""
    step = 0.05
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while not _stopping(bot) and (left := end - loop.time()) > 0:
        await asyncio.sleep(min(step, left))
        step = min(step * 2, 1.0)


async def _reset_http(bot: Any) -> None:
    """Drop the HTTP session of a failed login so the next attempt starts a fresh one."""
    with contextlib.suppress(Exception):
        await bot.http.close()
    with contextlib.suppress(Exception):
        from discord.utils import MISSING

        bot.http.connector = MISSING  # the closed session took its connector with it


async def login_with_retry(bot: Any, token: str) -> bool:
    """Log in, retrying transient failures forever; False if the bot was closed meanwhile."""
    attempt = 0
    while not _stopping(bot):
        try:
            await bot.login(token)
            if attempt:
                log.info("reached Discord after %s", plural(attempt, "failed attempt"))
            if hasattr(bot, "note_logged_in"):
                bot.note_logged_in()
            return True
        except Exception as error:
            if _stopping(bot):
                return False
            if not is_transient(error):
                raise
            attempt += 1
            delay = backoff_delay(attempt)
            log.warning("cannot reach Discord (attempt %d): %s; retrying in %.1f s",
                        attempt, describe(error), delay)
            if hasattr(bot, "note_login_retry"):  # the health status file says so at once
                bot.note_login_retry(attempt, time.time() + delay, describe(error))
            await _reset_http(bot)
            await _pause(bot, delay)
    return False


async def serve(bot: Any, token: str) -> int:
    """Run the bot until it is closed (by a signal or otherwise); 0 after a clean stop.

    What needs no network comes first (`bot.prepare()`: the database, migrations, the starter
    catalog, metrics, the health status file), so all of it works while Discord is out of
    reach; then the login, retried, and the gateway connection."""
    install_shutdown_handlers(bot)
    async with bot:
        prepare = getattr(bot, "prepare", None)
        if prepare is not None and not _stopping(bot):
            await prepare()
        if not _stopping(bot) and await login_with_retry(bot, token) and not _stopping(bot):
            try:
                await bot.connect(reconnect=True)
            except Exception:
                if not _stopping(bot):
                    raise
    task = getattr(bot, "_shutdown_task", None)
    if task is not None:
        await task
    log.info("stopped cleanly")
    return 0
