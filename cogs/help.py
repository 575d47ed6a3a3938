"""/help and /about: what the bot can do, generated from the command tree (never out of date).

`/help` lists every slash command (and each subcommand of a group) with its options and its
one-line description, as Discord shows them; `/about` says what the bot is, its version and how
this server's recommendations work. Both replies are ephemeral.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs.ui.text import NO_PINGS

if TYPE_CHECKING:
    from bot.client import MovieBot

ABOUT = ("A self-hosted movie bot: rate movies with `/rate` and it learns this server's taste "
         "from its own ratings (nothing is shared between servers), then `/recommend` gives "
         "each member personal picks with a reason, or a movie night pick for a group.")


def _usage(command: app_commands.Command) -> str:
    parts = [f"/{command.qualified_name}"]
    for param in command.parameters:
        parts.append(param.name if param.required else f"[{param.name}]")
    return " ".join(parts)


def command_lines(tree: app_commands.CommandTree,
                  guild: discord.abc.Snowflake | None = None) -> list[str]:
    """One line per command: "`/usage` — description", groups expanded, in tree order."""
    lines: list[str] = []
    for entry in tree.get_commands(guild=guild, type=discord.AppCommandType.chat_input):
        if isinstance(entry, app_commands.Group):
            for sub in entry.walk_commands():
                if isinstance(sub, app_commands.Command):
                    lines.append(f"`{_usage(sub)}` — {sub.description}")
        elif isinstance(entry, app_commands.Command):
            lines.append(f"`{_usage(entry)}` — {entry.description}")
    return lines


class Help(commands.Cog):
    def __init__(self, bot: MovieBot) -> None:
        self.bot = bot

    @app_commands.command(name="help", description="List the bot's commands, one line each")
    @app_commands.guild_only()
    async def help(self, interaction: discord.Interaction) -> None:
        lines = command_lines(self.bot.tree)
        embed = discord.Embed(title="Commands", description="\n".join(lines)[:4000],
                              colour=discord.Colour.blurple())
        embed.set_footer(text="Movie options autocomplete: start typing a title.")
        await interaction.response.send_message(embed=embed, ephemeral=True,
                                                allowed_mentions=NO_PINGS)

    @app_commands.command(name="about", description="What this bot is and which version runs")
    @app_commands.guild_only()
    async def about(self, interaction: discord.Interaction) -> None:
        from bot.about import version

        embed = discord.Embed(title="Movie bot", description=ABOUT,
                              colour=discord.Colour.blurple())
        embed.add_field(name="Version", value=version())
        embed.add_field(name="Commands", value="`/help` lists them")
        if self.bot.app.details.enabled:  # TMDB's terms ask for this line
            from bot.tmdb import ATTRIBUTION

            embed.add_field(name="Posters and details", value=ATTRIBUTION, inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True,
                                                allowed_mentions=NO_PINGS)


async def setup(bot: MovieBot) -> None:
    await bot.add_cog(Help(bot))
