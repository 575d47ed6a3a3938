"""The interactive part of a /recommend reply: rate a pick from the list, or show more picks.

`RecommendationView` carries a Select ("Rate one of these…") listing the picks on screen, "Add
to watchlist…", "Not interested in…" (`cogs.ui.not_interested`), "Request on Seerr…" for picks
the media server lacks (`cogs.ui.requests`, when Seerr is configured) and a "Show more" button.
Choosing a pick opens `ScoreModal`, whose 1-10 score is validated before anything is saved; the
rated pick then leaves the Select. Only the member who ran /recommend can use the components
(`OwnedView`); on timeout they are disabled, and a message deleted in the meantime is not an
error; then the view drops its page loader, movies and items (`RecommendationView.release`).
The selects build their options only when the message is rendered (`cogs.lazy_select`), so a
live list holds no `SelectOption` objects, and an open score form holds its list weakly.
Discord.py gives every component a random custom_id, so they are unique per message.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import discord

from bot.domain import scores
from bot.domain.errors import DomainError
from bot.domain.models import Movie
from bot.domain.scores import MAX_SCORE, MIN_SCORE
from bot.i18n import _
from cogs.errors import UserError, report_failure
from cogs.lazy_select import LazySelect
from cogs.rating import rate_text
from cogs.ui.acks import edit_message, within_update_ack
from cogs.ui.guild import guild_id_of
from cogs.ui.lookup import bot_of
from cogs.ui.not_interested import NotInterestedSelect
from cogs.ui.paginator import OwnedView, check_paging
from cogs.ui.requests import RequestSelect
from cogs.ui.text import NO_PINGS, choice_label, safe, stars
from cogs.watchlist import WatchlistSelect

log = logging.getLogger(__name__)

VIEW_TIMEOUT = 600.0  # interaction tokens last 15 minutes; stay well inside that


@dataclass
class Page:
    """One page of picks as shown: the embed, the movies on it (with their predicted score),
    and whether a further page may exist."""

    embed: discord.Embed
    movies: list[tuple[Movie, float]]  # (Movie, predicted score)
    has_more: bool
    file: discord.File | None = None  # the page's picture (cogs.recommend: the picks card)
    # picks not in the media server's library that Seerr can be asked for ("Request…")
    requestable: list[Movie] = field(default_factory=list)


PageLoader = Callable[[int], Awaitable[Page]]


def parse_score(text: str) -> int:
    """A form's score field: a whole number on the scale, or a UserError."""
    try:
        return scores.parse_score(text)
    except DomainError as error:
        raise UserError(_("{problem} Nothing was saved.").format(
            problem=safe(str(error), 200))) from None


class ScoreModal(discord.ui.Modal):
    """Asks for a 1-10 score for one movie."""

    def __init__(self, movie: Movie, view: RecommendationView | None = None) -> None:
        title = _("Rate {movie}").format(movie=choice_label(movie))
        super().__init__(title=title if len(title) <= 45 else title[:44] + "…",
                         timeout=VIEW_TIMEOUT)
        self.movie = movie
        # weak: an open (or abandoned) form must not keep a timed-out list alive
        self._list_view = weakref.ref(view) if view is not None else None
        self.score: discord.ui.TextInput[ScoreModal] = discord.ui.TextInput(
            label=_("Your score ({low}-{high})").format(low=MIN_SCORE, high=MAX_SCORE),
            placeholder=_("e.g. 8"),
            min_length=1, max_length=2, required=True)
        self.add_item(self.score)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        score = parse_score(self.score.value)
        guild_id = guild_id_of(interaction)
        outcome = await bot_of(interaction).app.ratings.rate(
            guild_id, interaction.user.id, self.movie, score)
        await interaction.response.send_message(rate_text(outcome), ephemeral=True,
                                                allowed_mentions=NO_PINGS)
        view = self._list_view() if self._list_view is not None else None
        if view is not None:
            await view.mark_rated(self.movie.id)

    async def on_error(self, interaction: discord.Interaction,  # type: ignore[override]
                       error: Exception) -> None:
        await report_failure(interaction, error)


class RateSelect(LazySelect):
    """'Rate one of these…': the picks on screen; choosing one opens the score modal."""

    def __init__(self) -> None:
        super().__init__(placeholder=_("Rate one of these…"), min_values=1, max_values=1,
                         options=[discord.SelectOption(label="-", value="0")])
        self.movies: dict[int, Movie] = {}

    def set_movies(self, movies: list[tuple[Movie, float]]) -> None:
        self.movies = {movie.id: movie for movie, _score in movies}
        self.options = [
            discord.SelectOption(label=choice_label(movie), value=str(movie.id),
                                 description=_("predicted {score}").format(
                                     score=stars(round(score, 1))))
            for movie, score in movies[:25]
        ]

    def remove_movie(self, movie_id: int) -> None:
        self.movies.pop(movie_id, None)
        self._choices = [c for c in self._choices if c[1] != str(movie_id)]

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            movie = self.movies[int(self.values[0])]
        except (KeyError, ValueError, IndexError):
            raise UserError(_("That pick is no longer on the list; run /recommend again.")) \
                from None
        view = self.view
        await interaction.response.send_modal(
            ScoreModal(movie, view if isinstance(view, RecommendationView) else None))


class ShowMoreButton(discord.ui.Button["RecommendationView"]):
    """'Show more': the next page of picks."""

    def __init__(self) -> None:
        super().__init__(label=_("Show more"), style=discord.ButtonStyle.secondary)

    async def callback(self, interaction: discord.Interaction) -> None:
        assert self.view is not None
        await self.view.show_more(interaction)


class RecommendationView(OwnedView):
    """Rate-select plus 'Show more' for a /recommend reply."""

    def __init__(self, owner_id: int, load_page: PageLoader, first: Page,
                 *, timeout: float | None = None) -> None:
        super().__init__(owner_id, timeout=VIEW_TIMEOUT if timeout is None else timeout)
        self.load_page = load_page
        self.page = 0
        self.rate_select = RateSelect()
        self.more = ShowMoreButton()
        self._show(first)

    def _show(self, page: Page) -> None:
        self.clear_items()
        self.rate_select.set_movies(page.movies)
        if self.rate_select.choice_count:
            self.add_item(self.rate_select)
        if page.movies:
            movies = [movie for movie, _score in page.movies]
            self.add_item(WatchlistSelect(movies))
            self.not_interested = NotInterestedSelect(movies, self.mark_hidden)
            self.add_item(self.not_interested)
        if page.requestable:
            self.add_item(RequestSelect(page.requestable))
        self.more.disabled = not page.has_more
        self.add_item(self.more)

    async def mark_hidden(self, movie_id: int) -> None:
        """A pick was marked "Not interested": it leaves the page's selects."""
        select = getattr(self, "not_interested", None)
        if select is not None:
            select.remove_movie(movie_id)
            if not select.choice_count and select in self.children:
                self.remove_item(select)
        await self.mark_rated(movie_id)

    async def mark_rated(self, movie_id: int) -> None:
        """A pick was rated through the modal: take it off the select on the original message."""
        self.rate_select.remove_movie(movie_id)
        if not self.rate_select.choice_count and self.rate_select in self.children:
            self.remove_item(self.rate_select)
        if self.interaction is None or self.is_finished():
            return
        try:
            await self.interaction.edit_original_response(view=self)
        except discord.HTTPException:  # deleted message or expired token: nothing to update
            log.debug("could not update the recommendation list after a rating")

    async def show_more(self, interaction: discord.Interaction) -> None:
        if not await check_paging(interaction):
            return
        # A page may wait on TMDB (tonight's filters, where to watch) and its picture.
        page = await within_update_ack(interaction, self.load_page(self.page + 1))
        if not page.movies:
            self.more.disabled = True
            await edit_message(interaction, view=self)
            await interaction.followup.send(_("That's every pick I have for you right now."),
                                            ephemeral=True, allowed_mentions=NO_PINGS)
            return
        self.page += 1
        self._show(page)
        await edit_message(
            interaction, embed=page.embed, view=self, allowed_mentions=NO_PINGS,
            attachments=[page.file] if page.file is not None else discord.utils.MISSING)

    def release(self) -> None:
        """Timed out: drop the page loader (its closure holds the request's state), the
        selects' movies and the items (see `OwnedView.release`)."""
        super().release()
        self.load_page = _no_more_pages
        self.rate_select.movies = {}
        self.rate_select.options = []
        self.__dict__.pop("not_interested", None)

    async def on_error(self, interaction: discord.Interaction, error: Exception,
                       item: discord.ui.Item) -> None:
        await report_failure(interaction, error)


async def _no_more_pages(page: int) -> Page:
    """The page loader of a released view (never called: a timed-out view takes no clicks)."""
    raise UserError(_("This list has expired; run /recommend again."))


__all__ = ["Page", "RateSelect", "RecommendationView", "ScoreModal", "parse_score"]
