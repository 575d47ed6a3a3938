"""Option types that both declare a bound to Discord and check it when the value arrives.

discord.py's `app_commands.Range[int, low, high]` only tells Discord the bounds (the client
enforces them); a value from anywhere else is passed on unchecked. `InRange` declares the same
bounds and refuses a value outside them with the command's own message (a `UserError`), so a
command needs no hand-written check: `count: app_commands.Transform[int, InRange(1, 25, "...")]`.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.i18n import _
from cogs.errors import UserError


class InRange(app_commands.Transformer):
    """A whole number from `low` to `high` (inclusive); `message` refuses any other value (a
    msgid marked with `N_`, shown translated, `{low}` and `{high}` filled in)."""

    def __init__(self, low: int, high: int, message: str) -> None:
        if low > high:
            raise ValueError("low must not be above high")
        self.low, self.high, self.message = low, high, message

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.integer

    @property
    def min_value(self) -> int:
        return self.low

    @property
    def max_value(self) -> int:
        return self.high

    async def transform(self, interaction: discord.Interaction, value: Any, /) -> int:
        if isinstance(value, bool) or not isinstance(value, int) \
                or not self.low <= value <= self.high:
            raise UserError(_(self.message).format(low=self.low, high=self.high))
        return value
