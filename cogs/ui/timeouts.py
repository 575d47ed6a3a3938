"""What a view does when its time runs out: a last cosmetic edit (disabled buttons, "expired")
that ends quietly whatever happened to the message meanwhile.

A timeout has nobody to report to, and its edit may fail for ordinary reasons: the bot closed
(discord.py's HTTP session is gone: aiohttp's "Session is closed"), the interaction's 15-minute
token expired, the message was deleted, the network failed. Every view's `on_timeout` goes
through `end_quietly`, so none of these escapes as an unretrieved task exception.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import discord

log = logging.getLogger(__name__)

# What a timeout's edit may meet: an HTTP error (deleted message: 404, expired token: 401),
# a network error, a request cut by a timeout, or the closed session of a stopped bot (aiohttp
# raises RuntimeError("Session is closed")).
QUIET_FAILURES: tuple[type[BaseException], ...] = (
    discord.HTTPException, aiohttp.ClientError, TimeoutError, RuntimeError)


async def end_quietly(client: discord.Client | None,
                      edit: Callable[[], Awaitable[Any]]) -> bool:
    """Run a timeout's last edit unless the bot has closed; True if it went through. A
    failure in `QUIET_FAILURES` is logged at debug level, never raised."""
    if client is not None and client.is_closed():
        return False
    try:
        await edit()
    except QUIET_FAILURES as error:
        log.debug("a timed-out view's message could not be updated: %r", error)
        return False
    return True
