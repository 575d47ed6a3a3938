"""The shutdown gate: every service call passes through it, so shutdown drains at the resource.

`async with gate.enter():` admits a call while the gate is open and counts it as running; once
`close()` is called new calls raise `ShuttingDown` (a polite, member-facing refusal) and
`drain(timeout)` waits until the running ones have finished. Commands, autocompletes, buttons,
selects and forms all reach storage through a service, so all of them are covered without
hooking discord.py's private dispatch. A call made from inside an admitted call (a service using
another) is admitted even after `close()`: it is part of work that was already running.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from bot.i18n import N_

SHUTTING_DOWN = N_("The bot is restarting or shutting down; please try again in a minute.")

_inside: contextvars.ContextVar[bool] = contextvars.ContextVar("inside_gate", default=False)


class ShuttingDown(Exception):
    """Refused: the bot is shutting down. `str()` is the message for the member."""

    def __init__(self) -> None:
        super().__init__(SHUTTING_DOWN)


class Gate:
    """Counts running service calls and refuses new ones once closed (see module docstring)."""

    def __init__(self) -> None:
        self._open = True
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def is_open(self) -> bool:
        return self._open

    @property
    def running(self) -> int:
        """Calls admitted and not yet finished."""
        return self._running

    @asynccontextmanager
    async def enter(self) -> AsyncIterator[None]:
        if _inside.get():
            yield
            return
        if not self._open:
            raise ShuttingDown()
        self._running += 1
        self._idle.clear()
        token = _inside.set(True)
        try:
            yield
        finally:
            _inside.reset(token)
            self._running -= 1
            if self._running == 0:
                self._idle.set()

    def close(self) -> None:
        """Refuse new calls from now on."""
        self._open = False

    async def drain(self, timeout: float) -> int:  # noqa: ASYNC109 (a bounded grace period)
        """Close, then wait at most `timeout` s for running calls; returns how many remain."""
        self.close()
        with suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)
        return self._running


class HasGate(Protocol):
    gate: Gate


S = TypeVar("S", bound=HasGate)
P = ParamSpec("P")
R = TypeVar("R")


def gated(method: Callable[Concatenate[S, P], Awaitable[R]]
          ) -> Callable[Concatenate[S, P], Awaitable[R]]:
    """Run an async method of an object with a `gate` inside `gate.enter()`."""

    @functools.wraps(method)
    async def wrapper(self: S, *args: P.args, **kwargs: P.kwargs) -> R:
        async with self.gate.enter():
            return await method(self, *args, **kwargs)

    return wrapper
