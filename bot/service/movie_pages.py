"""MoviePagesService: `/movies info` and `/movies top`, one use-case call each.

`info` returns the movie's ratings in the guild as the asker may see them
(`CatalogService.details`), TMDB's details (`DetailsService.get`) and the score chart
(`PictureService.movie_distribution`), the last two fetched together, each within its own short
budget. `top` returns the guild's best movies by server score and the chart of their scores
(with the asker's own ratings marked). The cog words and renders them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from bot.domain.models import Movie
from bot.domain.models import MovieDetails as TmdbDetails
from bot.service.catalog import CatalogService, GenreFilter, MovieDetails, TopEntry
from bot.service.details import DetailsService
from bot.service.pictures import Picture, PictureService


@dataclass(frozen=True, slots=True)
class MovieInfo:
    """What /movies info shows: the guild's ratings (`ratings`), TMDB's details (None: off,
    unknown or not fetched in time) and the score chart (None: nothing it may show, or not
    drawn in time)."""

    ratings: MovieDetails
    tmdb: TmdbDetails | None
    chart: Picture | None


@dataclass(frozen=True, slots=True)
class TopMovies:
    """What /movies top shows: the entries, best first, and their scores' chart."""

    entries: list[TopEntry]
    chart: Picture | None


class MoviePagesService:
    def __init__(self, catalog: CatalogService, details: DetailsService,
                 pictures: PictureService) -> None:
        self.catalog = catalog
        self.details = details
        self.pictures = pictures

    @property
    def looks_up_tmdb(self) -> bool:
        """Whether `info` asks TMDB (a key is set): the reply may take a moment."""
        return self.details.enabled

    async def info(self, guild_id: int, user_id: int, movie: Movie) -> MovieInfo:
        ratings = await self.catalog.details(guild_id, user_id, movie)
        tmdb, chart = await asyncio.gather(
            self.details.get(movie),
            self.pictures.in_time(self.pictures.movie_distribution(guild_id, user_id, movie)))
        return MovieInfo(ratings, tmdb, chart)

    async def top(self, guild_id: int, n: int, genre: GenreFilter | None, *, asker_id: int,
                  chart_title: Callable[[int], str]) -> TopMovies:
        """The best `n` (of `genre`'s movies when given); `chart_title(len(entries))` titles
        the chart."""
        entries = await self.catalog.top(guild_id, n, genre, asker_id=asker_id)
        if not entries:
            return TopMovies([], None)
        chart = await self.pictures.in_time(self.pictures.list_distribution(
            guild_id, asker_id, [e.movie.id for e in entries], chart_title(len(entries))))
        return TopMovies(entries, chart)
