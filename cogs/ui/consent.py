"""The movie-night consent prompt: while a server keeps ratings private, each member named in
`/recommend group:` who is not in the requester's voice channel presses *Agree* before their
ratings count (`bot.service.privacy`).

The prompt is a public message (the named members must see it) that names, never pings, and
shows no ratings and no picks. It answers only the named members; one *Decline* or the
timeout ends it with a clear message. When everyone agreed, `on_agreed(agreed)` runs, which
sends the picks to the requester alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import discord

from bot.i18n import N_, _
from cogs.errors import report_failure, send_ephemeral
from cogs.ui.text import NO_PINGS
from cogs.ui.timeouts import end_quietly

CONSENT_TIMEOUT = 120.0  # seconds the named members have to answer


class ConsentView(discord.ui.View):
    """Agree / Decline buttons for the members in `pending` (ids -> escaped display names)."""

    def __init__(self, requester: str, pending: dict[int, str],
                 on_agreed: Callable[[frozenset[int]], Awaitable[None]],
                 *, timeout: float | None = None) -> None:
        super().__init__(timeout=CONSENT_TIMEOUT if timeout is None else timeout)
        self.requester = requester
        self.pending = dict(pending)
        self.agreed: set[int] = set()
        self.on_agreed = on_agreed
        self.message: discord.InteractionMessage | None = None
        self.finished = False
        self.agree.label, self.decline.label = _("Agree"), _("Decline")

    def prompt(self) -> str:
        waiting = [name for uid, name in self.pending.items() if uid not in self.agreed]
        minutes = max(1, round((self.timeout or CONSENT_TIMEOUT) / 60))
        return _("**{requester}** would like a movie night pick with {members}. This server "
                 "keeps ratings private, so each of you decides: **{agree}** lets your ratings "
                 "count (nobody sees them, and only {requester} sees the picks), **{decline}** "
                 "stops the request.\nWaiting for: {waiting} (expires in {minutes} min).").format(
            requester=self.requester, members=", ".join(self.pending.values()),
            agree=_("Agree"), decline=_("Decline"), waiting=", ".join(waiting),
            minutes=minutes)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id in self.pending and not self.finished:
            return True
        await send_ephemeral(interaction, _("Only the members named in this movie night "
                                            "request can answer it."))
        return False

    def _close(self) -> None:
        self.finished = True
        for item in self.children:
            if isinstance(item, discord.ui.Button):
                item.disabled = True
        self.stop()

    @discord.ui.button(label=N_("Agree"), style=discord.ButtonStyle.success)
    async def agree(self, interaction: discord.Interaction,
                    button: discord.ui.Button[ConsentView]) -> None:
        self.agreed.add(interaction.user.id)
        if not set(self.pending) <= self.agreed:
            await interaction.response.edit_message(content=self.prompt(), view=self,
                                                    allowed_mentions=NO_PINGS)
            return
        self._close()
        await interaction.response.edit_message(
            content=_("Everyone agreed: the movie night picks went to {requester} only.").format(
                requester=self.requester),
            view=self, allowed_mentions=NO_PINGS)
        await self.on_agreed(frozenset(self.agreed))

    @discord.ui.button(label=N_("Decline"), style=discord.ButtonStyle.secondary)
    async def decline(self, interaction: discord.Interaction,
                      button: discord.ui.Button[ConsentView]) -> None:
        name = self.pending.get(interaction.user.id, _("Someone"))
        self._close()
        await interaction.response.edit_message(
            content=_("{name} declined, so no movie night picks were made. Nobody's ratings "
                      "were used.").format(name=name), view=self, allowed_mentions=NO_PINGS)

    async def on_timeout(self) -> None:
        if self.finished:
            return
        self._close()
        message = self.message
        if message is not None:
            await end_quietly(None, lambda: message.edit(
                content=_("This movie night request expired before everyone agreed, so no "
                          "picks were made. Nobody's ratings were used."), view=self,
                allowed_mentions=NO_PINGS))

    async def on_error(self, interaction: discord.Interaction, error: Exception,
                       item: discord.ui.Item[ConsentView]) -> None:
        await report_failure(interaction, error)
