"""Turning a `bot.service.pictures.Picture` into what Discord shows: a PNG file whose
description is its alt text, an embed that shows it (`attachment://name`) with the alt text in
its description, and a "Share" button that posts a private picture publicly, without pings.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import Awaitable, Callable
from typing import TypeVar

import discord

from bot.i18n import N_, _
from bot.service.pictures import Picture
from cogs.ui.acks import ACK_AFTER
from cogs.ui.paginator import OwnedView, Paginator
from cogs.ui.text import NO_PINGS, safe

SHARE_TIMEOUT = 600.0  # seconds the Share button stays live
COLOUR = discord.Colour.blurple()

T = TypeVar("T")


async def soon_or_thinking(interaction: discord.Interaction, work: Awaitable[T], *,
                           ephemeral: bool) -> T:
    """Await `work` (a picture that accompanies the reply); if it takes longer than
    `ACK_AFTER` (`cogs.ui.acks`), defer the interaction first (the member sees "thinking…")
    and go on waiting, so the acknowledgement never waits for a slow picture. The caller then edits
    the original response (`interaction.response.is_done()`)."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.wait_for(asyncio.shield(task), ACK_AFTER)
    except TimeoutError:
        if not interaction.response.is_done():
            await interaction.response.defer(ephemeral=ephemeral, thinking=True)
        return await task


def picture_file(picture: Picture) -> discord.File:
    """The PNG as an attachment; its description is Discord's alt text for the image."""
    return discord.File(io.BytesIO(picture.png), filename=picture.filename,
                        description=picture.alt[:1024])


def show_picture(embed: discord.Embed, picture: Picture, *, alt_in_description: bool = True,
                 limit: int = 4096) -> discord.Embed:
    """`embed` shows the picture; the alt text goes into its description (after what is
    there, if it fits)."""
    embed.set_image(url=f"attachment://{picture.filename}")
    if alt_in_description:
        alt = f"*{safe(picture.alt, 1000)}*"
        text = embed.description or ""
        joined = f"{text}\n\n{alt}" if text else alt
        if len(joined) <= limit:
            embed.description = joined
    return embed


def picture_embed(title: str, picture: Picture) -> discord.Embed:
    return show_picture(discord.Embed(title=title[:256], colour=COLOUR), picture)


class ShareView(OwnedView):
    """A 'Share' button under a private picture: posts it in the channel for everyone (the
    member chose to show it), mentions disabled; then the button switches off."""

    def __init__(self, owner_id: int, picture: Picture, heading: Callable[[], str], *,
                 timeout: float = SHARE_TIMEOUT) -> None:
        super().__init__(owner_id, timeout=timeout)
        self.picture = picture
        self.heading = heading
        self.share.label = _("Share")

    @discord.ui.button(label=N_("Share"), style=discord.ButtonStyle.primary)
    async def share(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.send_message(
            self.heading(), embed=show_picture(discord.Embed(colour=COLOUR), self.picture),
            file=picture_file(self.picture), allowed_mentions=NO_PINGS)
        button.disabled = True
        button.label = _("Shared")
        if self.interaction is not None:
            # the private message may be gone: nothing to update then
            with contextlib.suppress(discord.HTTPException):
                await self.interaction.edit_original_response(view=self)
        self.stop()


class PicturePaginator(Paginator):
    """A `Paginator` whose first message carries a picture every page's embed shows (page
    turns keep the message's attachment)."""

    def __init__(self, *args: object, picture: Picture | None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.picture = picture

    async def page_embed(self) -> discord.Embed:
        embed = await super().page_embed()
        if self.picture is not None:
            show_picture(embed, self.picture)
        return embed

    async def send(self, interaction: discord.Interaction, *, ephemeral: bool = True,
                   content: str | None = None) -> None:
        if self.picture is None:
            await super().send(interaction, ephemeral=ephemeral, content=content)
            return
        embed = await self.page_embed()
        self.interaction = interaction
        await interaction.response.send_message(
            content, embed=embed, view=self, ephemeral=ephemeral, allowed_mentions=NO_PINGS,
            file=picture_file(self.picture))


__all__ = ["PicturePaginator", "ShareView", "picture_embed", "picture_file", "show_picture"]
