"""A small TMDB client: posters and details for catalog movies, when a key is configured.

Four endpoints of TMDB's v3 API: `/3/configuration` (the image base URL, asked once an hour
at most), `/3/movie/{id}` (details, with `release_dates` for age ratings and `watch/providers`
for where to watch, data by JustWatch, appended), `/3/search/movie` (a movie without a
known TMDB id, by title and year) and `/3/find/{imdb id}` (a movie known by its IMDb id:
`find_movie`, which adds a linked account's unknown movies to a server's catalog). A v3 API
key goes in the `api_key` query parameter, a v4 read access token ("eyJ...") in an
`Authorization: Bearer` header.

Failures never reach members: a 429 waits its `Retry-After` (capped) and tries again, a 5xx or
a network error is retried once after a short pause, and then `lookup` returns None (the bot
answers without details, as without a key). The key never appears in logs.

Posters come only from a fixed allow-list of image hosts (`IMAGE_ORIGINS`: TMDB's own
`https://image.tmdb.org`), whatever image base URL the API names; tests add their imitation's
origin explicitly (`TmdbSettings.test_image_origins`, never read from the config file). No
request follows a redirect (a 3xx is a failure, so nothing is fetched from a host the redirect
names), and every body is read up to a cap (`MAX_IMAGE_BYTES`, `MAX_JSON_BYTES`) and refused
past it.

This product uses the TMDB API but is not endorsed or certified by TMDB.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from bot.domain.models import Movie, MovieDetails
from bot.domain.stored_text import clean_text
from bot.domain.watch import parse_certifications, parse_providers

log = logging.getLogger(__name__)

_IMDB_ID = re.compile(r"tt\d{5,10}")

POSTER_SIZE = "w342"
CONFIG_TTL = 3600.0  # seconds the image base URL is reused
MAX_RETRY_AFTER = 5.0  # seconds at most waited for a 429
RETRY_PAUSE = 0.5  # seconds before the one retry of a 5xx or a network error
TIMEOUT = 5.0  # seconds per request
MAX_IMAGE_BYTES = 2 * 1024 * 1024  # a w342 poster is about 30 KB
MAX_JSON_BYTES = 1024 * 1024  # an API answer (a movie's details are a few KB)
IMAGE_ORIGINS = ("https://image.tmdb.org",)  # the only hosts posters are downloaded from
ATTRIBUTION = "This product uses the TMDB API but is not endorsed or certified by TMDB."


# TMDB's genre names that MovieLens (the catalog's vocabulary) spells otherwise.
TMDB_GENRES = {"Science Fiction": "Sci-Fi", "Family": "Children", "Music": "Musical"}


class TmdbUnavailable(Exception):
    """TMDB did not answer usefully (after the retries); the caller goes without."""


@dataclass(frozen=True, slots=True)
class TmdbMovie:
    """What a catalog entry needs of a TMDB movie (`find_movie`)."""

    tmdb_id: int
    title: str
    year: int | None
    genres: tuple[str, ...]  # MovieLens spellings where they differ (TMDB_GENRES)
    imdb_id: str | None


class TmdbClient:
    def __init__(self, api_key: str, base_url: str = "https://api.themoviedb.org", *,
                 timeout: float = TIMEOUT, test_image_origins: Iterable[str] = ()) -> None:
        self._key = api_key
        self.base_url = base_url.rstrip("/")
        self.image_origins = frozenset(
            origin for o in (*IMAGE_ORIGINS, *test_image_origins)
            if (origin := _origin(o)) is not None)
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
                                             headers=headers, allow_redirects=False
                                             ) as response:
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
                    data = json.loads(await _read_capped(response, MAX_JSON_BYTES))
            except TooLarge:
                raise TmdbUnavailable(f"TMDB sent more than {MAX_JSON_BYTES} bytes for "
                                      f"{path}") from None
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
        data = await self._get(f"/3/movie/{int(tmdb_id)}",
                               {"append_to_response": "release_dates,watch/providers"})
        if data is None:
            return MovieDetails(movie.id, None, time.time())
        poster = data.get("poster_path")
        poster_url = None
        if isinstance(poster, str) and re.fullmatch(r"/[\w.-]{1,200}", poster):
            base = await self.image_base()
            if self.image_allowed(base):
                poster_url = f"{base.rstrip('/')}/{POSTER_SIZE}{poster}"
            else:
                log.warning("TMDB named an image host outside the allow-list: no posters")
        runtime = data.get("runtime")
        collection = data.get("belongs_to_collection")
        collection_id = collection.get("id") if isinstance(collection, dict) else None
        return MovieDetails(
            movie_id=movie.id, tmdb_id=int(tmdb_id), fetched_at=time.time(),
            poster_url=poster_url,
            overview=_text(data.get("overview"), newlines=True),
            runtime=int(runtime) if isinstance(runtime, int) and runtime > 0 else None,
            original_title=_text(data.get("original_title")),
            imdb_id=imdb if isinstance(imdb := data.get("imdb_id"), str)
            and _IMDB_ID.fullmatch(imdb) else None,
            collection_id=(collection_id if isinstance(collection_id, int)
                           and not isinstance(collection_id, bool)
                           and 0 < collection_id < 2**53 else None),
            original_language=lang if isinstance(lang := data.get("original_language"), str)
            and re.fullmatch(r"[a-z]{2,3}", lang) else None,
            certifications=parse_certifications(
                (data.get("release_dates") or {}).get("results")
                if isinstance(data.get("release_dates"), dict) else None),
            providers=parse_providers(
                (data.get("watch/providers") or {}).get("results")
                if isinstance(data.get("watch/providers"), dict) else None))


    async def find_movie(self, *, tmdb_id: int | None = None, imdb_id: str | None = None,
                         title: str | None = None, year: int | None = None) -> TmdbMovie | None:
        """The TMDB movie with this TMDB id, else this IMDb id (`/3/find`), else the first
        search hit for title + year; None when TMDB has none. TmdbUnavailable when it
        failed."""
        if tmdb_id is None and imdb_id and _IMDB_ID.fullmatch(imdb_id):
            found = await self._get(f"/3/find/{imdb_id}", {"external_source": "imdb_id"}) or {}
            tmdb_id = _first_id(found.get("movie_results"))
        if tmdb_id is None and title:
            params = {"query": title, "include_adult": "false"}
            if year:
                params["year"] = str(year)
            found = await self._get("/3/search/movie", params) or {}
            tmdb_id = _first_id(found.get("results"))
        if tmdb_id is None:
            return None
        data = await self._get(f"/3/movie/{int(tmdb_id)}")
        name = _text(data.get("title")) if data is not None else None
        if data is None or not name:
            return None
        released = data.get("release_date")
        year_found = (int(released[:4]) if isinstance(released, str)
                      and re.fullmatch(r"\d{4}-\d{2}-\d{2}", released) else None)
        genres = []
        for genre in data.get("genres") or []:
            genre_name = _text(genre.get("name")) if isinstance(genre, dict) else None
            if genre_name:
                genres.append(TMDB_GENRES.get(genre_name, genre_name))
        imdb = data.get("imdb_id")
        return TmdbMovie(int(tmdb_id), name[:300], year_found, tuple(genres[:10]),
                         imdb if isinstance(imdb, str) and _IMDB_ID.fullmatch(imdb) else None)

    def image_allowed(self, url: str) -> bool:
        """True if `url` is on an allowed image host (`IMAGE_ORIGINS`, plus tests' own)."""
        return _origin(url) in self.image_origins

    async def image(self, url: str) -> bytes:
        """A poster's bytes (at most MAX_IMAGE_BYTES, an image content type); only from an
        allowed image host, never through a redirect. TmdbUnavailable otherwise."""
        if not self.image_allowed(url):
            raise TmdbUnavailable("poster outside the allowed image hosts")
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        self.requests += 1
        try:
            async with self._session.get(url, allow_redirects=False) as response:
                kind = response.headers.get("Content-Type", "")
                if response.status != 200 or not kind.startswith("image/"):
                    raise TmdbUnavailable(f"poster answered {response.status} ({kind})")
                return await _read_capped(response, MAX_IMAGE_BYTES)
        except TooLarge:
            raise TmdbUnavailable("poster too large") from None
        except (aiohttp.ClientError, TimeoutError) as error:
            raise TmdbUnavailable(f"poster unreachable: {type(error).__name__}") from None


class TooLarge(Exception):
    """A body over its cap (by its Content-Length, or once that much was read)."""


def _first_id(results: Any) -> int | None:
    """The id of the first result of a TMDB list, if it is a sane one."""
    if not isinstance(results, list) or not results or not isinstance(results[0], dict):
        return None
    value = results[0].get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) \
        and 0 < value < 2**31 else None


def _text(value: Any, *, newlines: bool = False) -> str | None:
    """A text field of TMDB's answer, cleaned for storage (no NUL or other controls)."""
    if not value:
        return None
    return clean_text(str(value), newlines=newlines).strip() or None


async def _read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body, read in chunks; TooLarge as soon as it is known to pass `limit` bytes."""
    if response.content_length is not None and response.content_length > limit:
        raise TooLarge()
    data = bytearray()
    async for chunk in response.content.iter_chunked(64 * 1024):
        data += chunk
        if len(data) > limit:
            raise TooLarge()
    return bytes(data)


def _origin(url: str) -> tuple[str, str, int | None] | None:
    """(scheme, host, port) of an http(s) URL, else None."""
    try:
        parsed = URL(url)
    except (ValueError, TypeError):
        return None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        return None
    return parsed.scheme, parsed.host.lower(), parsed.port


def _retry_after(value: str | None) -> float:
    try:
        return min(MAX_RETRY_AFTER, max(0.0, float(value or 1)))
    except ValueError:
        return 1.0
