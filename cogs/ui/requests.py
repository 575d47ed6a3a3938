"""The Seerr hand-off under /recommend's picks (issue 25 item 4): "Request on Seerr…".

The select lists the picks on the page that the media server's library lacks (and that have a
TMDB id). Choosing one shows, only to the member, the movie and a **Request** button; pressing
it asks Seerr for the movie as the member's Seerr user (`RequestService.request`: one request
per movie, whoever presses and however often). The answer says what Seerr now says: pending
approval, approved, or already available. A member Seerr does not know is told how to link
their Discord id there.
"""

from __future__ import annotations

import discord

from bot.domain.models import Movie
from bot.i18n import N_, _
from bot.service.media import MediaProblem
from bot.service.requests import RequestOutcome
from cogs.errors import UserError
from cogs.lazy_select import LazySelect
from cogs.ui.lookup import bot_of
from cogs.ui.paginator import OwnedView
from cogs.ui.text import NO_PINGS, movie_label, safe

CONFIRM_TIMEOUT = 300.0

STATUS_TEXT = {
    "pending": N_("it is waiting for approval"),
    "approved": N_("it is approved and on its way"),
    "processing": N_("it is being downloaded"),
    "partially available": N_("part of it is available already"),
    "available": N_("it is already available on the media server"),
    "declined": N_("Seerr declined it"),
    "failed": N_("Seerr could not process it"),
    "blocklisted": N_("it is on Seerr's blocklist"),
}


def outcome_text(outcome: RequestOutcome) -> str:
    label = movie_label(outcome.movie)
    state = (_(STATUS_TEXT[outcome.status]) if outcome.status in STATUS_TEXT
             else _("its status is {status}").format(status=safe(outcome.status, 40)))
    if outcome.made:
        return _("Requested **{movie}** on Seerr as {user}: {state}.").format(
            movie=label, user=safe(outcome.seerr_user, 60), state=state)
    return _("**{movie}** was requested already, so I did not ask again: {state}.").format(
        movie=label, state=state)


class RequestSelect(LazySelect):
    """'Request on Seerr…': the page's picks the library lacks."""

    def __init__(self, movies: list[Movie]) -> None:
        options = [discord.SelectOption(label=movie_label(m, 95)[:100], value=str(m.id))
                   for m in movies[:25]]
        super().__init__(placeholder=_("Request on Seerr…"), options=options)
        self.movies = {m.id: m for m in movies[:25]}

    async def callback(self, interaction: discord.Interaction) -> None:
        movie = self.movies.get(int(self.values[0]))
        if movie is None:
            raise UserError(_("That movie is no longer in this list."))
        view = RequestView(interaction.user.id, movie)
        await interaction.response.send_message(
            _("**{movie}** is not in the media server's library. Request it on Seerr?").format(
                movie=movie_label(movie)), view=view, ephemeral=True, allowed_mentions=NO_PINGS)
        view.interaction = interaction


class RequestButton(discord.ui.Button["RequestView"]):
    def __init__(self) -> None:
        super().__init__(label=_("Request"), style=discord.ButtonStyle.primary)

    async def callback(self, interaction: discord.Interaction) -> None:
        assert self.view is not None
        await self.view.press(interaction)


class RequestView(OwnedView):
    """One movie's Request button (for the member who chose it)."""

    def __init__(self, owner_id: int, movie: Movie) -> None:
        super().__init__(owner_id, timeout=CONFIRM_TIMEOUT)
        self.movie = movie
        self.add_item(RequestButton())

    async def press(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            outcome = await bot_of(interaction).app.requests.request(interaction.user.id,
                                                                     self.movie)
        except MediaProblem as error:
            raise UserError(safe(str(error), 1500)) from None
        await interaction.followup.send(outcome_text(outcome), ephemeral=True,
                                        allowed_mentions=NO_PINGS)


__all__ = ["RequestSelect", "RequestView", "outcome_text"]
