"""DetailsService: TMDB posters and details for movies, cached in the database.

Off (every call answers None, nothing is sent anywhere) unless the host configured `[tmdb]
api_key` or `MOVIEBOT_TMDB_API_KEY`. A movie's details are read from the `movie_details`
table while younger than `[tmdb] cache_days`, else asked from TMDB (`bot.tmdb`) and saved;
"TMDB has no such movie" is cached too. When TMDB fails, stale details are still shown and
otherwise the answer goes without: commands never wait on or fail because of TMDB. A movie
a server added with `/movies add` that TMDB knows gets its TMDB and IMDb ids recorded.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import replace

from bot.config import TmdbSettings
from bot.domain.models import Movie, MovieDetails
from bot.service.cache import LRUCache
from bot.service.gate import Gate
from bot.storage import Storage
from bot.tmdb import TmdbClient, TmdbUnavailable

log = logging.getLogger(__name__)

POSTER_CONCURRENCY = 4  # TMDB lookups and poster downloads at once for one page
POSTER_CACHE = 200  # poster images kept in memory (about 30 KB each)


class DetailsService:
    def __init__(self, storage: Storage, gate: Gate, client: TmdbClient | None, *,
                 cache_seconds: float) -> None:
        self.storage = storage
        self.gate = gate
        self.client = client
        self.cache_seconds = cache_seconds
        self._images: LRUCache[str, bytes] = LRUCache(POSTER_CACHE)

    @classmethod
    def from_settings(cls, storage: Storage, gate: Gate, settings: TmdbSettings) -> DetailsService:
        client = (TmdbClient(settings.api_key, settings.base_url,
                             test_image_origins=settings.test_image_origins)
                  if settings.enabled else None)
        return cls(storage, gate, client, cache_seconds=settings.cache_days * 86400.0)

    @property
    def enabled(self) -> bool:
        return self.client is not None

    async def get(self, movie: Movie) -> MovieDetails | None:
        """The movie's details (cached, or fetched now), or None (off, unknown, failed)."""
        if self.client is None:
            return None
        async with self.gate.enter():
            cached = (await self.storage.movie_details([movie.id])).get(movie.id)
        if cached is not None and cached.poster_url and \
                not self.client.image_allowed(cached.poster_url):
            cached = replace(cached, poster_url=None)  # saved before the image allow-list
        if cached is not None and time.time() - cached.fetched_at < self.cache_seconds:
            return cached if cached.tmdb_id is not None else None
        try:
            fresh = await self.client.lookup(movie)
        except TmdbUnavailable as error:
            log.warning("no TMDB details for movie=%s: %s", movie.id, error)
            return cached if cached is not None and cached.tmdb_id is not None else None
        async with self.gate.enter():
            await self.storage.save_movie_details(fresh)
            if movie.guild_id is not None and fresh.tmdb_id is not None \
                    and (movie.tmdb_id is None or movie.imdb_id is None):
                # A movie added with /movies add, found on TMDB: keep its ids, so imports
                # match it by IMDb id (catalog movies keep the ids their import gave them).
                await self.storage.link_movie_ids(movie.id, fresh.tmdb_id, fresh.imdb_id)
        return fresh if fresh.tmdb_id is not None else None

    async def posters(self, movies: Sequence[Movie]) -> dict[int, bytes]:
        """{movie id: poster bytes} for the movies TMDB has a poster of (the pictures
        service's `PosterSource`: a page whose picks all have one becomes a poster grid).
        Looked up a few at a time; images kept in memory (LRU)."""
        if self.client is None or not movies:
            return {}
        client = self.client
        limit = asyncio.Semaphore(POSTER_CONCURRENCY)

        async def one(movie: Movie) -> tuple[int, bytes | None]:
            async with limit:
                details = await self.get(movie)
                url = details.poster_url if details is not None else None
                if url is None:
                    return movie.id, None
                data = self._images.get(url)
                if data is None:
                    try:
                        data = await client.image(url)
                    except TmdbUnavailable as error:
                        log.warning("no poster for movie=%s: %s", movie.id, error)
                        return movie.id, None
                    self._images.put(url, data)
                return movie.id, data

        found = await asyncio.gather(*(one(m) for m in movies))
        return {movie_id: data for movie_id, data in found if data is not None}

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()
