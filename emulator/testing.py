"""Running a real discord.py client against the emulator (tests, console, benchmarks).

``running_bot`` starts ``bot.start(token)`` as a task, waits for on_ready and closes the bot
cleanly on exit. Pass ``guild_ready_timeout=0.1`` to the Bot constructor (a ``Client``
kwarg; the default makes on_ready wait 2 s after the last GUILD_CREATE) -- ``running_bot``
also lowers ``bot._connection.guild_ready_timeout`` to ``ready_delay`` when it is larger.

``fast_retries`` shortens the sleeps discord.py does between HTTP retries (500s back off
1 s, 3 s, 5 s, ...) so tests of persistent server errors stay fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import types
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from discord import Client

    from .server import DiscordEmulator

B = TypeVar("B", bound="Client")


def quiet_discord_logging(level: int = logging.WARNING) -> None:
    """Keep discord.py's loggers quiet (rate-limit warnings etc. stay visible at WARNING)."""
    for name in ("discord", "discord.client", "discord.gateway", "discord.http",
                 "discord.state", "discord.webhook.async_"):
        logging.getLogger(name).setLevel(level)


@contextlib.asynccontextmanager
async def running_bot(
    bot: B,
    emu: DiscordEmulator,
    token: str = "test-token",
    *,
    ready_timeout: float = 10.0,
    ready_delay: float = 0.1,
    skip_identify_delay: bool = True,
) -> AsyncIterator[B]:
    """Log ``bot`` into ``emu`` and yield it once ready; close it on exit.

    ``skip_identify_delay``: discord.py sleeps 5 s in ``before_identify_hook`` before every
    re-IDENTIFY (after an INVALID_SESSION); unless the bot class overrides that hook, the
    sleep is skipped for this bot instance.
    """
    import discord

    emu.point_discord_py_here()
    conn = bot._connection
    if conn.guild_ready_timeout > ready_delay:
        conn.guild_ready_timeout = ready_delay
    if skip_identify_delay and (
        type(bot).before_identify_hook is discord.Client.before_identify_hook
    ):
        bot.before_identify_hook = _no_identify_delay  # type: ignore[method-assign]
    task = asyncio.create_task(bot.start(token), name="emulated-bot")
    body_failed = False
    try:
        await _wait_ready(bot, task, emu, ready_timeout)
        try:
            yield bot
        except BaseException:
            body_failed = True
            raise
    finally:
        with contextlib.suppress(Exception):
            await bot.close()
        if not task.done():
            try:
                await asyncio.wait_for(task, 5)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
    if task.done() and not task.cancelled() and not body_failed:
        exc = task.exception()
        if exc is not None:
            raise RuntimeError(f"bot.start() failed: {exc!r}") from exc


async def _no_identify_delay(shard_id: int | None, *, initial: bool = False) -> None:
    return None


async def _wait_ready(bot: Client, task: asyncio.Task[Any], emu: DiscordEmulator,
                      timeout: float) -> None:  # noqa: ASYNC109
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not bot.is_ready():
        if task.done():
            exc = task.exception()
            if exc is not None:
                raise RuntimeError(f"bot.start() died before on_ready: {exc!r}") from exc
            raise RuntimeError("bot.start() returned before on_ready")
        if loop.time() > deadline:
            task.cancel()
            raise TimeoutError(f"bot not ready after {timeout}s\n{emu.diagnostics()}")
        await asyncio.sleep(0.005)


class _FastSleepAsyncio(types.ModuleType):
    """Stand-in for the ``asyncio`` module inside discord.http: caps ``sleep``."""

    def __init__(self, cap: float) -> None:
        super().__init__("asyncio")
        self._cap = cap

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    async def sleep(self, delay: float, result: Any = None) -> Any:
        return await asyncio.sleep(min(delay, self._cap), result)


@contextlib.contextmanager
def fast_retries(cap: float = 0.02) -> Iterator[None]:
    """Cap discord.py's HTTP retry/backoff sleeps at ``cap`` seconds while active."""
    import discord.http
    import discord.webhook.async_ as webhook_async

    fake = _FastSleepAsyncio(cap)
    saved = (discord.http.asyncio, webhook_async.asyncio)
    discord.http.asyncio = fake  # type: ignore[assignment]
    webhook_async.asyncio = fake  # type: ignore[assignment]
    try:
        yield
    finally:
        discord.http.asyncio, webhook_async.asyncio = saved
