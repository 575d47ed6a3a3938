"""How a list of picks reads (/recommend, /setup's sample, the movie-night list): one line
per pick with its predicted score, the reason behind it (the member's own rating, else the
blend part that carried it) and marks (watchlist, library, new here), shortened to fit one
embed; the empty states' next steps. Every title and genre is escaped; text is translated."""

from __future__ import annotations

from collections.abc import Callable

import discord

from bot.domain.genres import shown_genres
from bot.domain.library import LibraryItem
from bot.domain.models import Movie
from bot.domain.scores import DISLIKED_AT_MOST
from bot.i18n import N_, _, ngettext, number
from bot.service import Pick, Picks
from cogs.ui.next_steps import first_ratings, with_prior_hint
from cogs.ui.text import NEW_HERE, movie_label, safe, stars

EMBED_TEXT_BUDGET = 3900  # an embed description holds 4096 characters
# Personal picks are ranked by a blend of how likely the member is to pick a movie and how much
# they would enjoy it; the number shown is the predicted rating, so the reply says why the
# order can differ from it.
PERSONAL_ORDER_NOTE = N_("Ranked by how likely you'll pick and enjoy it; the number is your "
                         "predicted rating.")
# Cold-start picks: ranked the same way for a member the model does not know yet; the number is
# the rating a typical member here would give (not the "server score" of /movies top).
POPULAR_ORDER_NOTE = N_("Ranked by how likely members here pick and enjoy it; the number is "
                        "the rating a typical member would give.")
COLOUR = discord.Colour.blurple()


def genres_text(movie: Movie, limit: int) -> str:
    return safe(shown_genres(movie.genres), limit) if movie.genres else _("no genre listed")


def fit_lines(render: Callable[[int, int, int], str], count: int) -> list[str]:
    """Lines from `render(title_limit, other_limit)`, shortened until they fit one embed."""
    title_limit, other_limit = 100, 60
    while True:
        lines = [render(i, title_limit, other_limit) for i in range(count)]
        if sum(len(line) + 1 for line in lines) <= EMBED_TEXT_BUDGET or title_limit <= 20:
            return lines
        title_limit = max(20, int(title_limit * 0.75))
        other_limit = max(12, int(other_limit * 0.75))


def reason_text(label: str, score: int) -> str:
    """'because you rated *X* 9/10', or for a low score 'because you didn't like *X* (2/10)'
    (disliking a movie can speak for another just as liking one can)."""
    if score <= DISLIKED_AT_MOST:
        return _("because you didn't like *{movie}* ({score})").format(movie=label,
                                                                        score=stars(score))
    return _("because you rated *{movie}* {score}").format(movie=label, score=stars(score))


# What carried a pick that none of the member's own ratings explains well
# (`recommender.reasons`: the blend part with the largest share).
CARRIED_BY = {
    "pick": N_("popular with members who share your taste"),
    "prior": N_("close to your taste in the prior"),
    "enjoy": N_("members with your taste rate it highly"),
    "popularity": N_("popular in this server"),
    "rated": N_("highly rated"),  # the rating model's movie baseline, nobody's taste
}
STRETCH_NOTE = N_("a stretch: predicted below your average")


def pick_reason(pick: Pick, movies: dict[int, Movie], limit: int = 60,
                markdown: bool = True) -> str | None:
    """The reason shown for a pick: the member's own rating behind it, else what carried it."""
    because = pick.because
    if because is not None and because[0] in movies:
        text = reason_text(movie_label(movies[because[0]], limit) if markdown
                           else movies[because[0]].label, because[1])
        return text if markdown else text.replace("*", "")
    if pick.carried_by in CARRIED_BY:
        return _(CARRIED_BY[pick.carried_by])
    return None


def library_mark(movie_id: int, library: dict[int, LibraryItem] | None,
                 link: bool = True) -> str:
    """' · [in the library](link)' or ' · not in the library' ('' without a media server)."""
    if library is None:
        return ""
    item = library.get(movie_id)
    if item is None:
        return " · " + _("not in the library")
    if not link:
        return " · " + _("in the library")
    return " · [{label}]({url})".format(label=_("in the library"),
                                        url=item.url.replace(")", "%29"))


def pick_lines(picks: list[Pick], movies: dict[int, Movie], *, start: int, personal: bool,
               group: bool = False, watchlisted: frozenset[int] = frozenset(),
               library: dict[int, LibraryItem] | None = None,
               ) -> tuple[list[str], list[tuple[Movie, float]]]:
    """'**Title (Year)** — Genres · predicted 8.6/10 · because you rated *X* 9/10' lines
    (' · on your watchlist' for a movie in `watchlisted`; ' · in the library' with its link,
    or ' · not in the library', when a media server is configured)."""
    shown = [(pick, movies[pick.movie_id]) for pick in picks if pick.movie_id in movies]
    links = True  # the library's links, while the lines fit with them

    def render(i: int, title_limit: int, other_limit: int) -> str:
        pick, movie = shown[i]
        if group:
            score = _("group score {score}").format(score=stars(round(pick.score, 1)))
        elif personal:
            score = _("predicted {score}").format(score=stars(round(pick.score, 1)))
        else:
            score = _("typical rating {score}").format(score=stars(round(pick.score, 1)))
        line = (f"{start + i + 1}. **{movie_label(movie, title_limit)}** — "
                f"{genres_text(movie, other_limit)} · {score}")
        if pick.stretch and personal and not group:
            line += f" ({_(STRETCH_NOTE)})"
        reason = pick_reason(pick, movies, other_limit)
        if reason is not None:
            line += " · " + reason
        if pick.new_here:
            line += f" · {_(NEW_HERE)}"
        if movie.id in watchlisted:
            line += " · " + _("on your watchlist")
        return line + library_mark(movie.id, library, links)

    if library and sum(len(render(i, 100, 60)) + 1 for i in range(len(shown))) > \
            EMBED_TEXT_BUDGET:
        links = False  # titles first: links only while the full lines fit
    return fit_lines(render, len(shown)), [(movie, pick.score) for pick, movie in shown]


def picks_title(personal: bool, genre: str | None) -> str:
    title = _("Your picks") if personal else _("Popular in this server")
    return title + f": {safe(genre, 60)}" if genre else title


def empty_picks_message(picks: Picks, genre: str | None = None) -> str:
    """What a member reads when /recommend has no pick to show: the next step that works."""
    needed, minimum = picks.ratings_needed, picks.min_ratings
    if not picks.guild_has_ratings:
        return with_prior_hint(first_ratings("personal picks", minimum),
                               picks.prior_installed)
    if picks.provisional and not genre:
        pending = _("I'm still learning this server's taste; try again in a few seconds.")
        if needed:
            pending += " " + unlock_text(needed)
        return pending
    if genre:
        return _("I have no {genre} picks for you yet: nobody here has rated one you haven't "
                 "seen. Try another genre, or none.").format(genre=safe(genre, 60))
    if needed:
        return _("Not enough ratings in this server for picks yet.") + " " + unlock_text(needed)
    return with_prior_hint(
        _("You've rated every movie I could recommend from this server's ratings. Rate "
          "movies you haven't yet with `/rate` (find titles with `/movies search`), or ask "
          "the others to rate more."), picks.prior_installed)


def unlock_text(needed: int) -> str:
    """'Rate 3 more movies with `/rate` to unlock personal picks.'"""
    return ngettext("Rate {n} more movie with `/rate` to unlock personal picks.",
                    "Rate {n} more movies with `/rate` to unlock personal picks.",
                    needed).format(n=number(needed))
