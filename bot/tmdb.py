"""A small TMDB client: posters and details for catalog movies, when a key is configured.

Three endpoints of TMDB's v3 API: `/3/configuration` (the image base URL, asked once an hour
at most), `/3/movie/{id}` (details) and `/3/search/movie` (a movie without a known TMDB id,
by title and year). A v3 API key goes in the `api_key` query parameter, a v4 read access
token ("eyJ...") in an `Authorization: Bearer` header.

Failures never reach members: a 429 waits its `Retry-After` (capped) and tries again, a 5xx or
a network error is retried once after a short pause, and then `lookup` returns None (the bot
answers without details, as without a key). The key never appears in logs.

This product uses the TMDB API but is not endorsed or certified by TMDB.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any

import aiohttp

from bot.domain.models import Movie, MovieDetails

log = logging.getLogger(__name__)

_IMDB_ID = re.compile(r"tt\d{5,10}")

POSTER_SIZE = "w342"
CONFIG_TTL = 3600.0  # seconds the image base URL is reused
MAX_RETRY_AFTER = 5.0  # seconds at most waited for a 429
RETRY_PAUSE = 0.5  # seconds before the one retry of a 5xx or a network error
TIMEOUT = 5.0  # seconds per request
MAX_IMAGE_BYTES = 2 * 1024 * 1024  # a w342 poster is about 30 KB
ATTRIBUTION = "This product uses the TMDB API but is not endorsed or certified by TMDB."


class TmdbUnavailable(Exception):
    """TMDB did not answer usefully (after the retries); the caller goes without."""


class TmdbClient:
    def __init__(self, api_key: str, base_url: str = "https://api.themoviedb.org", *,
                 timeout: float = TIMEOUT) -> None:
        self._key = api_key
        self.base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self._image_base: tuple[str, float] | None = None
        self.requests = 0  # requests sent (tests and logs)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _auth(self) -> tuple[dict[str, str], dict[str, str]]:
        if self._key.startswith("eyJ"):  # a v4 read access token (a JWT)
            return {"Authorization": f"Bearer {self._key}"}, {}
        return {}, {"api_key": self._key}

    async def _get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any] | None:
        """The JSON of a GET, None for a 404; TmdbUnavailable after the retries."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        headers, auth = self._auth()
        query = {**(params or {}), **auth}
        retried_5xx = False
        waited_429 = 0
        while True:
            self.requests += 1
            try:
                async with self._session.get(f"{self.base_url}{path}", params=query,
                                             headers=headers) as response:
                    if response.status == 404:
                        return None
                    if response.status == 429 and waited_429 < 2:
                        waited_429 += 1
                        delay = _retry_after(response.headers.get("Retry-After"))
                        log.info("TMDB rate limit: waiting %.1f s", delay)
                        await asyncio.sleep(delay)
                        continue
                    if response.status >= 500 and not retried_5xx:
                        retried_5xx = True
                        await asyncio.sleep(RETRY_PAUSE)
                        continue
                    if response.status != 200:
                        raise TmdbUnavailable(f"TMDB answered {response.status} for {path}")
                    data = await response.json(content_type=None)
            except (aiohttp.ClientError, TimeoutError, ValueError) as error:
                if not retried_5xx:
                    retried_5xx = True
                    await asyncio.sleep(RETRY_PAUSE)
                    continue
                raise TmdbUnavailable(f"TMDB unreachable for {path}: "
                                      f"{type(error).__name__}") from None
            if not isinstance(data, dict):
                raise TmdbUnavailable(f"TMDB sent no object for {path}")
            return data

    async def image_base(self) -> str:
        """TMDB's image base URL (secure), from /3/configuration, reused for an hour."""
        now = time.monotonic()
        if self._image_base is not None and now - self._image_base[1] < CONFIG_TTL:
            return self._image_base[0]
        data = await self._get("/3/configuration") or {}
        images = data.get("images") or {}
        base = str(images.get("secure_base_url") or images.get("base_url") or "")
        if not base:
            raise TmdbUnavailable("TMDB configuration has no image base URL")
        self._image_base = (base, now)
        return base

    async def lookup(self, movie: Movie) -> MovieDetails:
        """What TMDB knows about `movie` (by its TMDB id, else title + year); a result with
        `tmdb_id` None when TMDB has no such movie. TmdbUnavailable when TMDB failed."""
        tmdb_id = movie.tmdb_id
        if tmdb_id is None:
            params = {"query": movie.title, "include_adult": "false"}
            if movie.year:
                params["year"] = str(movie.year)
            found = await self._get("/3/search/movie", params) or {}
            results = found.get("results") or []
            if not results or not isinstance(results[0], dict) or "id" not in results[0]:
                return MovieDetails(movie.id, None, time.time())
            tmdb_id = int(results[0]["id"])
        data = await self._get(f"/3/movie/{int(tmdb_id)}")
        if data is None:
            return MovieDetails(movie.id, None, time.time())
        poster = data.get("poster_path")
        poster_url = (f"{(await self.image_base()).rstrip('/')}/{POSTER_SIZE}{poster}"
                      if isinstance(poster, str) and poster.startswith("/") else None)
        runtime = data.get("runtime")
        return MovieDetails(
            movie_id=movie.id, tmdb_id=int(tmdb_id), fetched_at=time.time(),
            poster_url=poster_url,
            overview=str(data["overview"]).strip() or None if data.get("overview") else None,
            runtime=int(runtime) if isinstance(runtime, int) and runtime > 0 else None,
            original_title=str(data["original_title"]) if data.get("original_title") else None,
            imdb_id=imdb if isinstance(imdb := data.get("imdb_id"), str)
            and _IMDB_ID.fullmatch(imdb) else None)


    async def image(self, url: str) -> bytes:
        """A poster's bytes (at most MAX_IMAGE_BYTES, an image content type); only from the
        image host TMDB's configuration named. TmdbUnavailable otherwise."""
        base = await self.image_base()
        if not url.startswith(base):
            raise TmdbUnavailable("poster outside TMDB's image host")
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        self.requests += 1
        try:
            async with self._session.get(url) as response:
                kind = response.headers.get("Content-Type", "")
                if response.status != 200 or not kind.startswith("image/"):
                    raise TmdbUnavailable(f"poster answered {response.status} ({kind})")
                data = await response.content.read(MAX_IMAGE_BYTES + 1)
        except (aiohttp.ClientError, TimeoutError) as error:
            raise TmdbUnavailable(f"poster unreachable: {type(error).__name__}") from None
        if len(data) > MAX_IMAGE_BYTES:
            raise TmdbUnavailable("poster too large")
        return data


def _retry_after(value: str | None) -> float:
    try:
        return min(MAX_RETRY_AFTER, max(0.0, float(value or 1)))
    except ValueError:
        return 1.0
