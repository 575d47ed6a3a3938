"""The extension that installs the one error handler (`cogs.errors.report_failure`) on the
command tree: every failed slash command becomes a short ephemeral message, and counts as a
failed command in the metrics (`MovieBot.record_command`). Loaded first, so it is in place
before any command is; unloading it puts discord.py's default handler back.

(`cogs.errors` itself stays a plain module, not an extension, so `UserError` is one class for
the life of the process.)
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from cogs.errors import report_failure

if TYPE_CHECKING:
    from bot.client import MovieBot


async def setup(bot: MovieBot) -> None:
    @bot.tree.error
    async def on_tree_error(interaction: discord.Interaction,
                            error: app_commands.AppCommandError) -> None:
        bot.record_command(interaction, ok=False)
        await report_failure(interaction, error)


async def teardown(bot: MovieBot) -> None:
    with contextlib.suppress(AttributeError):  # back to CommandTree.on_error
        del bot.tree.on_error
