"""Per-member budgets at the door (`bot.service.buckets`): checked before anything is read.

`reads_a_lot` is the check on every command that reads a lot (a member over budget gets the
ephemeral "Slow down a little: try again in N s." and nothing runs; discord.py runs checks
before transforming options, so not even a movie option is looked up); `may_autocomplete` is
asked by every autocomplete before its database read (over budget: an empty list at once).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import discord
from discord import app_commands

if TYPE_CHECKING:
    from bot.client import MovieBot


def may_autocomplete(interaction: discord.Interaction) -> bool:
    """True if the member may have suggestions now (a token is taken)."""
    return cast("MovieBot", interaction.client).app.budgets.may_autocomplete(
        interaction.user.id)


def read_wait(interaction: discord.Interaction) -> float | None:
    """None if the member may run a command that reads a lot now, else seconds to wait."""
    return cast("MovieBot", interaction.client).app.budgets.read_wait(interaction.user.id)


async def _within_read_budget(interaction: discord.Interaction) -> bool:
    wait = read_wait(interaction)
    if wait is None:
        return True
    reads = cast("MovieBot", interaction.client).app.budgets.reads
    raise app_commands.CommandOnCooldown(
        app_commands.Cooldown(reads.burst, reads.burst / reads.per_second), wait)


reads_a_lot = app_commands.check(_within_read_budget)
