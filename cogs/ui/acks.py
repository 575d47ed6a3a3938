"""Acknowledging an interaction in time, whatever the work behind it costs.

Discord fails an interaction that is not acknowledged within 3 s. A command whose answer is
usually immediate (`/rate`) awaits its service call through `within_ack`: past `ACK_AFTER`
seconds the interaction is deferred (the member sees "thinking…", ephemeral), the work goes on,
and `reply` then edits that deferred answer instead of sending a new one. So a slow database or
a busy machine makes an answer late, never a failed interaction. A button that edits its own
message (`/recommend`'s Show more) does the same with `within_update_ack` (a deferred update:
no "thinking…") and `edit_message`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

import discord

from cogs.ui.text import NO_PINGS

# Seconds an immediate answer may take before Discord hears "thinking" (a defer: the member
# sees at once that the bot is on it, and the answer replaces it). Was 1.0 for /rate and Show
# more and 0.4 for a reply with a picture: on a quiet machine at 50 commands/s
# (benchmarks/many_guilds.py) every ack past 100 ms was one of those windows running out
# (/movies info p99 417-422 ms, Show more 640-780 ms), against issue 24's all-command ack p99
# < 100 ms. 50 ms leaves the parse, the loop's stalls and the defer's own round trip inside it.
ACK_AFTER = 0.05

T = TypeVar("T")


async def within_ack(interaction: discord.Interaction, work: Awaitable[T], *,
                     ephemeral: bool = True, after: float = ACK_AFTER) -> T:
    """Await `work`; if it takes longer than `after`, defer the interaction first and go on
    waiting. An exception from `work` propagates unchanged (the error handler answers the
    deferred interaction with a follow-up)."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.wait_for(asyncio.shield(task), after)
    except TimeoutError:
        if not interaction.response.is_done():
            await interaction.response.defer(ephemeral=ephemeral, thinking=True)
        return await task


async def within_update_ack(interaction: discord.Interaction, work: Awaitable[T], *,
                            after: float = ACK_AFTER) -> T:
    """`within_ack` for a component that edits its message: past `after` seconds the
    interaction is deferred as an update (Discord waits, the message stays as it is)."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.wait_for(asyncio.shield(task), after)
    except TimeoutError:
        if not interaction.response.is_done():
            await interaction.response.defer()
        return await task


async def edit_message(interaction: discord.Interaction, **fields: Any) -> None:
    """Edit the component's message: at once, or after `within_update_ack` deferred."""
    if interaction.response.is_done():
        await interaction.edit_original_response(**fields)
    else:
        await interaction.response.edit_message(**fields)


async def reply(interaction: discord.Interaction, content: str, *, ephemeral: bool = True,
                **kwargs: Any) -> None:
    """Send the answer, or edit the deferred "thinking…" answer `within_ack` left."""
    kwargs.setdefault("allowed_mentions", NO_PINGS)
    if interaction.response.is_done():
        await interaction.edit_original_response(content=content, **kwargs)
    else:
        await interaction.response.send_message(content, ephemeral=ephemeral, **kwargs)
