"""DetailsService: TMDB posters and details for movies, cached in the database.

Off (every call answers None, nothing is sent anywhere) unless the host configured `[tmdb]
api_key` or `MOVIEBOT_TMDB_API_KEY`. A movie's details are read from the `movie_details`
table while younger than `[tmdb] cache_days`, else asked from TMDB (`bot.tmdb`) and saved;
"TMDB has no such movie" is cached too. When TMDB fails, stale details are still shown and
otherwise the answer goes without: commands never wait on or fail because of TMDB. A movie
a server added with `/movies add` that TMDB knows gets its TMDB and IMDb ids recorded.

A reply waits for TMDB at most `LOOKUP_BUDGET` seconds (1.5 s; posters of a picture
`POSTER_BUDGET`, 1 s, so the picture can still be drawn in its own budget): past it the answer
goes without details, and the lookup goes on in the background (at most `LOOKUP_DEADLINE` s)
into the cache, where the next call finds it. One lookup per movie at a time (callers share
it) and at most `MAX_BACKGROUND` at once: a slow TMDB cannot pile up work either.

`find_movie` finds a movie the catalog does not have (a linked account's history,
`bot.service.media`): at most `FIND_CONCURRENCY` at once, each within `LOOKUP_DEADLINE`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from bot.config import TmdbSettings
from bot.domain.models import Movie, MovieDetails
from bot.service.cache import LRUCache
from bot.service.gate import Gate
from bot.storage import Storage
from bot.tmdb import TmdbClient, TmdbMovie, TmdbUnavailable

log = logging.getLogger(__name__)

POSTER_CONCURRENCY = 4  # TMDB lookups and poster downloads at once for posters
POSTER_CACHE = 200  # poster images kept in memory (about 30 KB each)
LOOKUP_BUDGET = 1.5  # seconds a reply waits for a movie's TMDB details
POSTER_BUDGET = 1.0  # seconds a picture waits for posters (then drawn without them)
LOOKUP_DEADLINE = 30.0  # seconds a background lookup may take in all (retries included)
MAX_BACKGROUND = {"details": 16, "poster": 50}  # running at once, per kind; more go without
FIND_CONCURRENCY = 4  # find_movie lookups at once (a sync adding a history's unknown movies)

T = TypeVar("T")


class DetailsService:
    def __init__(self, storage: Storage, gate: Gate, client: TmdbClient | None, *,
                 cache_seconds: float) -> None:
        self.storage = storage
        self.gate = gate
        self.client = client
        self.cache_seconds = cache_seconds
        self.lookup_budget = LOOKUP_BUDGET
        self.poster_budget = POSTER_BUDGET
        self._images: LRUCache[str, bytes] = LRUCache(POSTER_CACHE)
        # ("details" | "poster", movie id) -> the lookup running for it (shared by callers)
        self._running: dict[tuple[str, int], asyncio.Task[Any]] = {}
        self._downloads = asyncio.Semaphore(POSTER_CONCURRENCY)
        self._finds = asyncio.Semaphore(FIND_CONCURRENCY)

    @classmethod
    def from_settings(cls, storage: Storage, gate: Gate, settings: TmdbSettings) -> DetailsService:
        client = (TmdbClient(settings.api_key, settings.base_url,
                             test_image_origins=settings.test_image_origins)
                  if settings.enabled else None)
        return cls(storage, gate, client, cache_seconds=settings.cache_days * 86400.0)

    @property
    def enabled(self) -> bool:
        return self.client is not None

    @property
    def running(self) -> int:
        """Lookups and downloads running now (in the background or awaited)."""
        return len(self._running)

    def _background(self, key: tuple[str, int],
                    work: Callable[[], Coroutine[Any, Any, T]]) -> asyncio.Task[T] | None:
        """The task already running for `key`, else a new one (None when MAX_BACKGROUND of its
        kind run)."""
        task = self._running.get(key)
        if task is not None:
            return task
        cap = MAX_BACKGROUND[key[0]]
        if sum(1 for kind, _id in self._running if kind == key[0]) >= cap:
            log.info("TMDB busy (%d %s lookups running): answering without", cap, key[0])
            return None
        task = asyncio.create_task(work(), name=f"tmdb-{key[0]}-{key[1]}")
        self._running[key] = task

        def done(finished: asyncio.Task[T]) -> None:
            if self._running.get(key) is finished:
                del self._running[key]

        task.add_done_callback(done)
        return task

    async def get(self, movie: Movie, *, budget: float | None = None) -> MovieDetails | None:
        """The movie's details (cached, or fetched now), or None (off, unknown, failed, or not
        fetched within `budget` seconds, `lookup_budget` unless given: then the stale cached
        details if any, and the lookup goes on in the background)."""
        if self.client is None:
            return None
        async with self.gate.enter():
            cached = (await self.storage.movie_details([movie.id])).get(movie.id)
        if cached is not None and cached.poster_url and \
                not self.client.image_allowed(cached.poster_url):
            cached = replace(cached, poster_url=None)  # saved before the image allow-list
        if cached is not None and time.time() - cached.fetched_at < self.cache_seconds:
            return cached if cached.tmdb_id is not None else None
        stale = cached if cached is not None and cached.tmdb_id is not None else None
        task = self._background(("details", movie.id), lambda: self._fetch(movie, stale))
        if task is None:
            return stale
        await asyncio.wait({task}, timeout=self.lookup_budget if budget is None else budget)
        if not task.done():
            log.info("TMDB slower than the reply's budget for movie=%s: answering without",
                     movie.id)
            return stale
        return task.result()

    def look_up_later(self, movie: Movie) -> None:
        """Fetch the movie's details into the cache in the background (nobody waits; skipped
        when TMDB is off or too many lookups run)."""
        if self.client is not None:
            self._background(("details", movie.id), lambda: self._fetch(movie, None))

    async def _fetch(self, movie: Movie, stale: MovieDetails | None) -> MovieDetails | None:
        """Ask TMDB and save the answer (the background part of `get`)."""
        assert self.client is not None
        try:
            async with asyncio.timeout(LOOKUP_DEADLINE):
                fresh = await self.client.lookup(movie)
        except (TmdbUnavailable, TimeoutError) as error:
            log.warning("no TMDB details for movie=%s: %s", movie.id,
                        error or f"no answer within {LOOKUP_DEADLINE:g} s")
            return stale
        try:
            async with self.gate.enter():
                await self.storage.save_movie_details(fresh)
                if movie.guild_id is not None and fresh.tmdb_id is not None \
                        and (movie.tmdb_id is None or movie.imdb_id is None):
                    # A movie added with /movies add, found on TMDB: keep its ids, so imports
                    # match it by IMDb id (catalog movies keep the ids their import gave them).
                    await self.storage.link_movie_ids(movie.id, fresh.tmdb_id, fresh.imdb_id)
        except Exception as error:  # shutting down, or the database failed: not cached
            log.warning("TMDB details for movie=%s not saved: %s", movie.id,
                        type(error).__name__)
        return fresh if fresh.tmdb_id is not None else None

    async def find_movie(self, *, tmdb_id: int | None = None, imdb_id: str | None = None,
                         title: str | None = None,
                         year: int | None = None) -> TmdbMovie | None:
        """A movie on TMDB by TMDB id, IMDb id or title + year (`TmdbClient.find_movie`);
        None when TMDB has none or is off. TmdbUnavailable when TMDB failed or took longer
        than LOOKUP_DEADLINE."""
        if self.client is None:
            return None
        async with self._finds:
            try:
                async with asyncio.timeout(LOOKUP_DEADLINE):
                    return await self.client.find_movie(tmdb_id=tmdb_id, imdb_id=imdb_id,
                                                        title=title, year=year)
            except TimeoutError:
                raise TmdbUnavailable(f"no answer within {LOOKUP_DEADLINE:g} s") from None

    async def posters(self, movies: Sequence[Movie], *,
                      budget: float | None = None) -> dict[int, bytes]:
        """{movie id: poster bytes} for the movies TMDB has a poster of (the pictures
        service's `PosterSource`: a page whose picks all have one becomes a poster grid), as
        far as found within `budget` seconds (`poster_budget` unless given); the rest go on
        in the background into the caches. Looked up a few at a time; images kept in memory
        (LRU)."""
        if self.client is None or not movies:
            return {}
        tasks: dict[asyncio.Task[bytes | None], int] = {}
        for movie in movies:
            task = self._background(("poster", movie.id), functools.partial(self._poster, movie))
            if task is not None:
                tasks[task] = movie.id
        if not tasks:
            return {}
        done, _pending = await asyncio.wait(
            tasks, timeout=self.poster_budget if budget is None else budget)
        return {tasks[task]: data for task in done if (data := task.result()) is not None}

    async def _poster(self, movie: Movie) -> bytes | None:
        assert self.client is not None
        async with self._downloads:
            details = await self.get(movie, budget=LOOKUP_DEADLINE)
            url = details.poster_url if details is not None else None
            if url is None:
                return None
            data = self._images.get(url)
            if data is None:
                try:
                    async with asyncio.timeout(LOOKUP_DEADLINE):
                        data = await self.client.image(url)
                except (TmdbUnavailable, TimeoutError) as error:
                    log.warning("no poster for movie=%s: %s", movie.id, error or "too slow")
                    return None
                self._images.put(url, data)
            return data

    async def settled(self) -> None:
        """Wait until no lookup runs (tests: what a slow TMDB finished in the background)."""
        while self._running:
            await asyncio.wait(list(self._running.values()))

    async def close(self) -> None:
        running = list(self._running.values())
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        if self.client is not None:
            await self.client.close()
