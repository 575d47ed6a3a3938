"""/setup: the admin's checklist of what is configured and what is missing, each with its fix.

Needs Manage Server (checked by the service too, since a server can override the command's
default permissions); the reply is ephemeral. This cog gathers what only Discord knows (the
bot's permissions in this channel, from the interaction's `app_permissions`, and the commands
Discord has registered), makes one call (`SetupService.checklist`) and renders the items. The
"Test" button posts a sample pick only the admin sees, from the same recommendations as
`/recommend`: proof that the bot answers here.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.i18n import N_, _, ngettext, number
from bot.invite import EVENT_PERMISSIONS, PERMISSIONS
from bot.service.checklist import CheckItem, DiscordFacts, PermissionFact
from cogs.ui.guild import guild_id_of
from cogs.ui.paginator import OwnedView
from cogs.ui.picks import (
    COLOUR,
    PERSONAL_ORDER_NOTE,
    POPULAR_ORDER_NOTE,
    empty_picks_message,
    pick_lines,
)
from cogs.ui.text import NO_PINGS

if TYPE_CHECKING:
    from bot.client import MovieBot

log = logging.getLogger(__name__)

VIEW_TIMEOUT = 600.0  # interaction tokens last 15 minutes
OK, MISSING, SUGGESTED = "✅", "❌", "➖"
TEST_NOTE = N_("Only you see this sample. Members get picks like it with `/recommend`.")


def permission_facts(granted: discord.Permissions,
                     wanted: tuple[tuple[str, str, str], ...]) -> tuple[PermissionFact, ...]:
    """Each permission of `wanted` ((flag, name, why), as in `bot.invite`) and whether the bot
    has it (`granted`: the interaction's `app_permissions` in this channel)."""
    return tuple(PermissionFact(_(name), _(why), bool(getattr(granted, flag)))
                 for flag, name, why in wanted)


def mark(item: CheckItem) -> str:
    if item.ok:
        return OK
    return SUGGESTED if item.optional else MISSING


def checklist_embed(items: list[CheckItem]) -> discord.Embed:
    """One field per item: its mark and name, what is there and, when missing, the fix."""
    problems = sum(1 for item in items if not item.ok and not item.optional)
    if problems:
        description = ngettext("{n} thing to fix ({missing}); {optional} marks what is "
                               "optional.",
                               "{n} things to fix ({missing}); {optional} marks what is "
                               "optional.", problems).format(
            n=number(problems), missing=MISSING, optional=SUGGESTED)
    else:
        description = _("Everything the bot needs is in place.")
    embed = discord.Embed(title=_("Set-up checklist"), description=description, colour=COLOUR)
    for item in items[:25]:
        value = item.detail
        if not item.ok and item.fix:
            value += "\n**{label}:** {fix}".format(
                label=_("To add") if item.optional else _("Fix"), fix=item.fix)
        embed.add_field(name=f"{mark(item)} {item.name}"[:256], value=value[:1024],
                        inline=False)
    embed.set_footer(text=_("{test}: post a sample pick only you see · run /setup again after "
                            "a fix").format(test=_("Test")))
    return embed


class SetupView(OwnedView):
    """The checklist's "Test" button: a sample pick as an ephemeral follow-up."""

    def __init__(self, bot: MovieBot, owner_id: int) -> None:
        super().__init__(owner_id, timeout=VIEW_TIMEOUT)
        self.bot = bot
        self.test.label = _("Test")

    @discord.ui.button(label=N_("Test"), style=discord.ButtonStyle.primary)
    async def test(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        guild_id = guild_id_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        picks = await self.bot.app.recommendations.recommend(
            guild_id, interaction.user.id, n=1)
        lines, shown = pick_lines(picks.items, picks.movies, start=0, personal=picks.personal)
        if not shown:
            await interaction.followup.send(
                _("The bot can answer you here, but has no pick to show yet.") + " "
                + empty_picks_message(picks), ephemeral=True, allowed_mentions=NO_PINGS)
            return
        embed = discord.Embed(title=_("Sample pick"), description="\n".join(lines),
                              colour=COLOUR)
        order = _(PERSONAL_ORDER_NOTE if picks.personal else POPULAR_ORDER_NOTE)
        embed.set_footer(text=f"{_(TEST_NOTE)} {order}".replace("`", ""))
        await interaction.followup.send(embed=embed, ephemeral=True, allowed_mentions=NO_PINGS)


class Setup(commands.Cog):
    def __init__(self, bot: MovieBot) -> None:
        self.bot = bot

    @app_commands.command(name="setup", description="Check what is configured and what is "
                                                    "missing, with the fix for each")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def setup(self, interaction: discord.Interaction) -> None:
        guild_id = guild_id_of(interaction)
        granted = interaction.app_permissions  # the bot's permissions in this channel

        async def facts() -> DiscordFacts:
            await interaction.response.defer(ephemeral=True, thinking=True)
            missing, unknown = await self._command_sync(guild_id)
            return DiscordFacts(permissions=permission_facts(granted, PERMISSIONS),
                                event_permissions=permission_facts(granted, EVENT_PERMISSIONS),
                                missing_commands=missing, unknown_commands=unknown)

        items = await self.bot.app.checklist.checklist(
            guild_id, facts, can_manage_guild=interaction.permissions.manage_guild)
        view = SetupView(self.bot, interaction.user.id)
        view.interaction = interaction
        await interaction.edit_original_response(embed=checklist_embed(items), view=view,
                                                 allowed_mentions=NO_PINGS)

    async def _command_sync(self, guild_id: int
                            ) -> tuple[tuple[str, ...] | None, tuple[str, ...]]:
        """(this version's commands Discord has not registered for the server, registered
        ones this version no longer has), by name; (None, ()) if Discord could not be asked."""
        tree = self.bot.tree
        guild = discord.Object(id=guild_id)
        local = ({c.name for c in tree.get_commands()}
                 | {c.name for c in tree.get_commands(guild=guild)})
        try:
            registered = {c.name for c in await tree.fetch_commands()}
            registered |= {c.name for c in await tree.fetch_commands(guild=guild)}
        except discord.HTTPException as error:
            log.warning("/setup: cannot read the registered commands: %s", error)
            return None, ()
        return tuple(sorted(local - registered)), tuple(sorted(registered - local))


async def setup(bot: MovieBot) -> None:
    await bot.add_cog(Setup(bot))
