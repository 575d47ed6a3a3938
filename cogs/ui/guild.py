"""The server an interaction came from, typed: every command is guild-only (`MovieTree`
refuses the others), so a command reads its guild id with `guild_id_of(interaction)` instead of
asserting it is there."""

from __future__ import annotations

import discord
from discord import app_commands


def guild_id_of(interaction: discord.Interaction) -> int:
    """The interaction's guild id; `NoPrivateMessage` (which the error handler turns into "This
    command works in a server, not in direct messages.") when it has none."""
    guild_id = interaction.guild_id
    if guild_id is None:
        raise app_commands.NoPrivateMessage()
    return guild_id
