"""/help and /about: what the bot can do, generated from the command tree (never out of date).

`/help` lists every slash command (and each subcommand of a group) with its options and its
one-line description, as Discord shows them to the member (in their language: the names and
descriptions the tree's translator gives Discord, `bot.i18n.translator`); `/about` says what
the bot is, its version and how this server's recommendations work. Both replies are ephemeral.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.i18n import N_, _, current
from bot.i18n.translator import command_name, description, option_name
from cogs.ui.text import NO_PINGS

if TYPE_CHECKING:
    from bot.client import MovieBot

ABOUT = N_("A self-hosted movie bot: rate movies with `/rate` and it learns this server's taste "
         "from its own ratings (nothing is shared between servers), then `/recommend` gives "
         "each member personal picks with a reason, or a movie night pick for a group.")


def _usage(command: app_commands.Command, language: str) -> str:
    names = command.qualified_name.split()
    parts = ["/" + " ".join(command_name(name, language) for name in names)]
    for param in command.parameters:
        name = option_name(param.display_name, language)
        parts.append(name if param.required else f"[{name}]")
    return " ".join(parts)


def command_lines(tree: app_commands.CommandTree,
                  guild: discord.abc.Snowflake | None = None,
                  language: str = "en") -> list[str]:
    """One line per command: "`/usage` — description", groups expanded, in tree order, with
    the names and descriptions members of `language` see."""
    lines: list[str] = []
    for entry in tree.get_commands(guild=guild, type=discord.AppCommandType.chat_input):
        if isinstance(entry, app_commands.Group):
            for sub in entry.walk_commands():
                if isinstance(sub, app_commands.Command):
                    lines.append(f"`{_usage(sub, language)}` — "
                                 f"{description(sub.description, language)}")
        elif isinstance(entry, app_commands.Command):
            lines.append(f"`{_usage(entry, language)}` — "
                         f"{description(entry.description, language)}")
    return lines


class Help(commands.Cog):
    def __init__(self, bot: MovieBot) -> None:
        self.bot = bot

    @app_commands.command(name="help", description="List the bot's commands, one line each")
    @app_commands.guild_only()
    async def help(self, interaction: discord.Interaction) -> None:
        lines = command_lines(self.bot.tree, language=current())
        embed = discord.Embed(title=_("Commands"), description="\n".join(lines)[:4000],
                              colour=discord.Colour.blurple())
        embed.set_footer(text=_("Movie options autocomplete: start typing a title."))
        await interaction.response.send_message(embed=embed, ephemeral=True,
                                                allowed_mentions=NO_PINGS)

    @app_commands.command(name="about", description="What this bot is and which version runs")
    @app_commands.guild_only()
    async def about(self, interaction: discord.Interaction) -> None:
        from bot.about import version

        embed = discord.Embed(title=_("Movie bot"), description=_(ABOUT),
                              colour=discord.Colour.blurple())
        embed.add_field(name=_("Version"), value=version())
        embed.add_field(name=_("Commands"), value=_("`/{help}` lists them").format(
            help=command_name("help", current())))
        if self.bot.app.details.enabled:  # TMDB's terms ask for this line
            from bot.domain.watch import JUSTWATCH
            from bot.tmdb import ATTRIBUTION

            embed.add_field(name=_("Posters and details"), value=ATTRIBUTION, inline=False)
            embed.add_field(name=_("Where to watch"), value=_(JUSTWATCH), inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True,
                                                allowed_mentions=NO_PINGS)


async def setup(bot: MovieBot) -> None:
    await bot.add_cog(Help(bot))
