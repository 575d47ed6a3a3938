"""PicksService: `/recommend`'s use case, one call that gathers everything the reply shows.

`personal` returns the member's first page of picks (`RecommendationService.recommend`), the
movies on their watchlist (marked in the list), the page's picture (`PictureService.picks_card`)
and TMDB's details of the top pick (`DetailsService.get`); the picture and the details are
fetched together, each within its own short budget, so the reply waits for neither past it.
`more` is a further page ("Show more": never a movie shown before). The cog supplies only the
wording of the picture (`CardText`, no I/O); it renders, nothing else.

`source` ("any", "library", "streaming") narrows the candidates through `PickSources` (issue
25; `personal`'s note says how many movies `source:streaming` and tonight's filters left out
unchecked); with a media server configured each page says which picks the library has (`library`,
with the item's link) and which of the others Seerr could be asked for (`requestable`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from bot.domain.library import LibraryItem
from bot.domain.models import Movie, MovieDetails
from bot.render import CardLine
from bot.service.catalog import GenreFilter
from bot.service.details import DetailsService
from bot.service.pictures import Picture, PictureService
from bot.service.requests import RequestService
from bot.service.service import Picks, RecommendationService
from bot.service.sources import Allowed, PickSources, joined_notes
from bot.service.tonight import Tonight, TonightService
from bot.service.watchlist import WatchlistService

CardText = Callable[[Picks, int], tuple[str, Sequence[CardLine], str]]
"""The cog's wording of a page's picture: (title, lines, note) for picks numbered from
start + 1 (the `int`)."""


@dataclass(frozen=True, slots=True)
class PicksPage:
    """One page of picks and its picture (None: no pick to draw, or not drawn in time)."""

    picks: Picks
    card: Picture | None
    # {movie id: library item} of the page's picks the media server has; None: no server
    library: dict[int, LibraryItem] | None = None
    requestable: tuple[Movie, ...] = ()  # picks not in the library that Seerr can request
    where: dict[int, str] = field(default_factory=dict)  # movie id -> where to watch


@dataclass(frozen=True, slots=True)
class PersonalPicks:
    """What /recommend shows a member: the first page, their watchlist's movies and the top
    pick's TMDB details (None: no pick, TMDB off, or not fetched in time)."""

    first: PicksPage
    watchlisted: frozenset[int]
    top_details: MovieDetails | None
    note: str = ""  # tonight's filters: what the member should know
    where: dict[int, str] = field(default_factory=dict)  # movie id -> where to watch

def shown_movies(picks: Picks) -> list[Movie]:
    """The page's movies, in order (a pick whose movie is gone is not shown)."""
    return [picks.movies[pick.movie_id] for pick in picks.items if pick.movie_id in picks.movies]


class PicksService:
    def __init__(self, recommendations: RecommendationService, watchlist: WatchlistService,
                 pictures: PictureService, details: DetailsService,
                 sources: PickSources | None = None,
                 requests: RequestService | None = None,
                 tonight: TonightService | None = None) -> None:
        self.recommendations = recommendations
        self.watchlist = watchlist
        self.pictures = pictures
        self.details = details
        self.sources = sources
        self.requests = requests
        self.tonight = tonight

    async def personal(self, guild_id: int, user_id: int, *, count: int,
                       genre: GenreFilter | None, card_text: CardText,
                       source: str = "any", filters: Tonight | None = None
                       ) -> PersonalPicks:
        """The member's first page of `count` picks (of `genre`'s movies when given, from
        `source`, passing tonight's `filters`; `SourceUnavailable` when that cannot be used
        here), with where to watch each pick."""
        narrowed = await self._candidates(guild_id, genre, source)
        candidates, note = narrowed.ids, narrowed.note
        if filters is not None and self.tonight is not None:
            allowed = await self.tonight.allowed(guild_id, filters, candidates)
            candidates, note = allowed.ids, joined_notes(note, allowed.note)
        watchlisted = frozenset(await self.watchlist.movie_ids(guild_id, user_id))
        picks = await self.recommendations.recommend(guild_id, user_id, n=count,
                                                     candidates=candidates)
        movies = shown_movies(picks)
        if not movies:
            return PersonalPicks(PicksPage(picks, None), watchlisted, None, note)
        card, top = await asyncio.gather(self._card(picks, 0, card_text),
                                         self.details.get(movies[0]))
        where = await self.tonight.where(guild_id, movies) if self.tonight else {}
        return PersonalPicks(await self._marked(guild_id, picks, card), watchlisted, top,
                             note, where)

    async def more(self, guild_id: int, user_id: int, *, count: int,
                   genre: GenreFilter | None, shown: frozenset[int], start: int,
                   card_text: CardText, source: str = "any",
                   filters: Tonight | None = None) -> PicksPage:
        """A further page: `count` picks none of which is in `shown`, numbered from
        start + 1."""
        candidates = (await self._candidates(guild_id, genre, source)).ids
        if filters is not None and self.tonight is not None:
            candidates = (await self.tonight.allowed(guild_id, filters, candidates)).ids
        picks = await self.recommendations.recommend(guild_id, user_id, n=count,
                                                     candidates=candidates, shown=shown)
        page = await self._marked(guild_id, picks, await self._card(picks, start, card_text))
        if self.tonight is None:
            return page
        return replace(page, where=await self.tonight.where(guild_id, shown_movies(picks)))

    async def _candidates(self, guild_id: int, genre: GenreFilter | None,
                          source: str) -> Allowed:
        if self.sources is None or source == "any":
            return Allowed(_candidates(genre))
        return await self.sources.narrowed(guild_id, source, _candidates(genre))

    async def _marked(self, guild_id: int, picks: Picks, card: Picture | None) -> PicksPage:
        """The page with its library marks and the picks Seerr could be asked for."""
        if self.sources is None:
            return PicksPage(picks, card)
        movies = shown_movies(picks)
        library = await self.sources.marks(guild_id, {m.id for m in movies})
        requests = self.requests
        requestable = tuple(m for m in movies if requests is not None
                            and requests.requestable(m) and m.id not in (library or {}))
        return PicksPage(picks, card, library, requestable)

    async def _card(self, picks: Picks, start: int, card_text: CardText) -> Picture | None:
        movies = shown_movies(picks)
        if not movies:
            return None
        title, lines, note = card_text(picks, start)
        return await self.pictures.in_time(self.pictures.picks_card(title, lines, movies,
                                                                    note=note))


def _candidates(genre: GenreFilter | None) -> set[int] | None:
    return set(genre.movie_ids) if genre is not None else None
