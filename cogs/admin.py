"""/sync: register the slash commands with Discord (bot owner only).

The owner check runs in the bot (`Client.is_owner`), whatever the server's command permissions
say. `python -m bot sync` does the same from the command line.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.plural import plural
from bot.i18n import _, ngettext, number
from cogs.errors import UserError
from cogs.ui.guild import guild_id_of
from cogs.ui.text import NO_PINGS

if TYPE_CHECKING:
    from bot.client import MovieBot

log = logging.getLogger(__name__)

SCOPE_CHOICES = [
    app_commands.Choice(name=app_commands.locale_str("this server"), value="guild"),
    app_commands.Choice(name=app_commands.locale_str("global"), value="global"),
]


class Admin(commands.Cog):
    def __init__(self, bot: MovieBot) -> None:
        self.bot = bot

    @app_commands.command(name="sync", description="Register the bot's commands (bot owner "
                                                   "only)")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.describe(scope="This server (visible at once) or every server (may take a "
                                 "while to show)")
    @app_commands.choices(scope=SCOPE_CHOICES)
    async def sync(self, interaction: discord.Interaction,
                   scope: app_commands.Choice[str] | None = None) -> None:
        if not await self.bot.is_owner(interaction.user):
            raise UserError(_("Only the bot owner can do this."))
        where = scope.value if scope is not None else "guild"
        await interaction.response.defer(ephemeral=True, thinking=True)
        tree = self.bot.tree
        if where == "global":
            synced = await tree.sync()
            message = ngettext(
                "Synced {n} command globally; Discord may take a few minutes to show changes.",
                "Synced {n} commands globally; Discord may take a few minutes to show changes.",
                len(synced)).format(n=number(len(synced)))
        else:
            guild_id = guild_id_of(interaction)
            guild = discord.Object(id=guild_id)
            tree.copy_global_to(guild=guild)
            synced = await tree.sync(guild=guild)
            message = ngettext("Synced {n} command to this server.",
                               "Synced {n} commands to this server.",
                               len(synced)).format(n=number(len(synced)))
        log.info("sync by owner %s: %s, %s", interaction.user.id, where,
                 plural(len(synced), "command"))
        await interaction.followup.send(message, ephemeral=True, allowed_mentions=NO_PINGS)


async def setup(bot: MovieBot) -> None:
    await bot.add_cog(Admin(bot))
