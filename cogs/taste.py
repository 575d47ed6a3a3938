"""/taste [member]: a map of this server's movies by taste, with the member on it.

The picture and its rules (projection, hidden ratings, caching, drawing off the loop) are
`bot.service.pictures`; this cog parses, makes one call and shows the picture privately with a
"Share" button that posts it publicly (mentions disabled). Another member's map only when the
server shows ratings (`ratings_visible`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.titles import strip_controls
from bot.i18n import _
from bot.service.errors import RatingsPrivate
from bot.service.pictures import NothingToDraw
from cogs.errors import UserError
from cogs.ui.budgets import reads_a_lot
from cogs.ui.guild import guild_id_of
from cogs.ui.pictures import ShareView, picture_embed, picture_file
from cogs.ui.text import NO_PINGS, safe

if TYPE_CHECKING:
    from bot.client import MovieBot


def plain_name(member: discord.Member | discord.User) -> str:
    """A display name for text drawn in a picture (no markdown there; controls removed)."""
    name = strip_controls(member.display_name).strip() or "member"
    return name if len(name) <= 32 else name[:31] + "…"


class Taste(commands.Cog):
    def __init__(self, bot: MovieBot) -> None:
        self.bot = bot

    @app_commands.command(name="taste", description="A map of this server's movies by taste, "
                                                    "with you (or a member) on it")
    @app_commands.guild_only()
    @reads_a_lot
    @app_commands.describe(member="Whose taste map (default: yours; another member's only if "
                                  "this server shows ratings)")
    async def taste(self, interaction: discord.Interaction,
                    member: discord.Member | None = None) -> None:
        guild_id = guild_id_of(interaction)
        own = member is None or member.id == interaction.user.id
        target = interaction.user if member is None else member
        name = _("you") if own else plain_name(target)
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            picture = await self.bot.app.pictures.taste_map(
                guild_id, interaction.user.id, target.id, member_name=name)
        except NothingToDraw as refusal:
            raise UserError(refusal.reason) from None
        except RatingsPrivate:
            raise UserError(_("This server keeps ratings private: you can only see your own "
                              "taste map.")) from None
        title = (_("Your taste map") if own else _("{member}'s taste map").format(
            member=safe(target.display_name, 80)))
        sharer = safe(interaction.user.display_name, 80)

        def heading() -> str:
            return (_("{sharer} shared their taste map.").format(sharer=sharer) if own
                    else _("{sharer} shared {member}'s taste map.").format(
                        sharer=sharer, member=safe(target.display_name, 80)))

        view = ShareView(interaction.user.id, picture, heading)
        view.interaction = interaction
        await interaction.edit_original_response(embed=picture_embed(title, picture),
                                                 attachments=[picture_file(picture)],
                                                 view=view, allowed_mentions=NO_PINGS)


async def setup(bot: MovieBot) -> None:
    await bot.add_cog(Taste(bot))
