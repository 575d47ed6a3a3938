"""Paginated embeds with Previous/Next buttons, for lists longer than one message.

Only the member who ran the command can turn pages; the buttons disable themselves when the
view times out, and a message deleted in the meantime is not an error.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import discord

from cogs.errors import report_failure
from cogs.text import NO_PINGS

log = logging.getLogger(__name__)

PageRenderer = Callable[[int], Awaitable[discord.Embed]]


class OwnedView(discord.ui.View):
    """A view whose components answer only the member who ran the command."""

    def __init__(self, owner_id: int, *, timeout: float | None = 180.0) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id
        self.interaction: discord.Interaction | None = None  # whose response holds the view

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(
                "These buttons belong to the member who ran the command; run it yourself "
                "to get your own.", ephemeral=True, allowed_mentions=NO_PINGS)
            return False
        return True

    def disable_all(self) -> None:
        for item in self.children:
            if isinstance(item, (discord.ui.Button, discord.ui.Select)):
                item.disabled = True

    async def on_timeout(self) -> None:
        self.disable_all()
        if self.interaction is None:
            return
        try:
            await self.interaction.edit_original_response(view=self)
        except discord.HTTPException:  # deleted message, expired token: nothing to update
            log.debug("view timed out on a message that is gone")

    async def on_error(self, interaction: discord.Interaction, error: Exception,
                       item: discord.ui.Item) -> None:
        await report_failure(interaction, error)


class Paginator(OwnedView):
    """Shows page 0 first; `render(i)` builds page i (0-based) on demand."""

    def __init__(self, owner_id: int, render: PageRenderer, page_count: int,
                 *, timeout: float | None = 180.0) -> None:
        super().__init__(owner_id, timeout=timeout)
        self.render = render
        self.page_count = max(1, page_count)
        self.page = 0
        if self.page_count == 1:
            self.remove_item(self.previous)
            self.remove_item(self.next)
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        self.previous.disabled = self.page == 0
        self.next.disabled = self.page >= self.page_count - 1

    async def page_embed(self) -> discord.Embed:
        embed = await self.render(self.page)
        if self.page_count > 1:
            embed.set_footer(text=f"Page {self.page + 1} of {self.page_count}")
        return embed

    async def send(self, interaction: discord.Interaction, *, ephemeral: bool = True,
                   content: str | None = None) -> None:
        embed = await self.page_embed()
        self.interaction = interaction
        if interaction.response.is_done():
            await interaction.followup.send(content or "", embed=embed, view=self,
                                            ephemeral=ephemeral, allowed_mentions=NO_PINGS)
        else:
            await interaction.response.send_message(content, embed=embed, view=self,
                                                    ephemeral=ephemeral,
                                                    allowed_mentions=NO_PINGS)

    async def _turn(self, interaction: discord.Interaction, page: int) -> None:
        self.page = max(0, min(page, self.page_count - 1))
        self._sync_buttons()
        await interaction.response.edit_message(embed=await self.page_embed(), view=self)

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await self._turn(interaction, self.page - 1)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await self._turn(interaction, self.page + 1)
