"""Paginated embeds with Previous/Next buttons, for lists longer than one message.

Only the member who ran the command can turn pages; the buttons disable themselves when the
view times out, and a message deleted in the meantime, an expired token or a stopped bot is not
an error (`cogs.ui.timeouts`). After that last edit a view lets go of everything it held
(`OwnedView.release`), so a timed-out view costs nothing until the next collection.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable

import discord
from discord import app_commands

from bot.i18n import N_, _
from cogs.errors import report_failure
from cogs.ui.budgets import read_wait
from cogs.ui.text import NO_PINGS
from cogs.ui.timeouts import end_quietly

log = logging.getLogger(__name__)

PageRenderer = Callable[[int], Awaitable[discord.Embed]]

PAGING_RATE = (3, 2.0)  # page turns a member may make per this many seconds (all views)


class PagingCooldown:
    """A per-member limit on page turns (Previous/Next, Show more), across all their views:
    each turn renders or ranks on the bot's side, so a member pressing fast cannot make it
    do unbounded work. discord.py's token-bucket `Cooldown` per member, pruned as it goes."""

    def __init__(self, rate: int, per: float) -> None:
        self.rate, self.per = rate, per
        self._buckets: dict[int, app_commands.Cooldown] = {}

    def retry_after(self, user_id: int) -> float | None:
        """None if the member may turn a page now (and counts it), else seconds to wait."""
        now = time.monotonic()
        if len(self._buckets) > 10_000:  # forget members whose window has passed
            self._buckets = {k: b for k, b in self._buckets.items()
                             if b.get_tokens(now) < self.rate}
        bucket = self._buckets.setdefault(user_id, app_commands.Cooldown(self.rate, self.per))
        return bucket.update_rate_limit(now)


PAGING = PagingCooldown(*PAGING_RATE)


async def check_paging(interaction: discord.Interaction) -> bool:
    """True if the member may turn a page; otherwise tells them (ephemeral) and is False.
    A page turn counts against the member's budget of reads too (`cogs.ui.budgets`)."""
    wait = PAGING.retry_after(interaction.user.id)
    if wait is None:
        wait = read_wait(interaction)
    if wait is None:
        return True
    await interaction.response.send_message(
        _("Slow down a little: try again in {seconds} s.").format(
            seconds=max(1, math.ceil(wait))), ephemeral=True, allowed_mentions=NO_PINGS)
    return False


class OwnedView(discord.ui.View):
    """A view whose components answer only the member who ran the command."""

    def __init__(self, owner_id: int, *, timeout: float | None = 180.0) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id
        self.interaction: discord.Interaction | None = None  # whose response holds the view

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(
                _("These buttons belong to the member who ran the command; run it yourself "
                  "to get your own."), ephemeral=True, allowed_mentions=NO_PINGS)
            return False
        return True

    def disable_all(self) -> None:
        for item in self.children:
            if isinstance(item, (discord.ui.Button, discord.ui.Select)):
                item.disabled = True

    async def on_timeout(self) -> None:
        self.disable_all()
        interaction = self.interaction
        try:
            if interaction is not None:
                # Deleted message, expired token, stopped bot: nothing to update
                # (`cogs.ui.timeouts`).
                await end_quietly(interaction.client,
                                  lambda: interaction.edit_original_response(view=self))
        finally:
            self.release()

    def release(self) -> None:
        """After the timeout's last edit: drop what the view holds. discord.py has already
        taken it out of its view store; the items no longer point back at the view (no
        reference cycle left for the garbage collector), so reference counting frees the view
        and its pages at once (issue 24 item 3). Subclasses drop their own state too."""
        self.clear_items()
        self.interaction = None

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
        # In the language of the member who ran the command (the decorators' are English).
        self.previous.label, self.next.label = _("Previous"), _("Next")
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
            embed.set_footer(text=_("Page {page} of {pages}").format(
                page=self.page + 1, pages=self.page_count))
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
        if not await check_paging(interaction):
            return
        self.page = max(0, min(page, self.page_count - 1))
        self._sync_buttons()
        await interaction.response.edit_message(embed=await self.page_embed(), view=self)

    @discord.ui.button(label=N_("Previous"), style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await self._turn(interaction, self.page - 1)

    @discord.ui.button(label=N_("Next"), style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await self._turn(interaction, self.page + 1)
