"""Trakt: the device flow, 24 h tokens kept fresh, watch history and ratings, within limits.

* **Device flow**: `device_code()` asks for a code (`POST /oauth/device/code`); the member
  enters the `user_code` at the `verification_url`; `poll_token(device_code)` asks
  `POST /oauth/device/token` (field `code`, as Trakt names it) and returns the token once the
  member approved, None while pending, and raises `DeviceFlowEnded` when the code expired
  (410), was denied (418) or used (409).
* **Tokens** last 24 h: `fresh(token)` refreshes (`POST /oauth/token`) when less than
  `REFRESH_MARGIN` is left, so a token is never used past its expiry between two syncs.
  `revoke(token)` ends it (`POST /oauth/revoke`) when a member unlinks or is forgotten.
* **Limits**: GETs stay within `GET_BUDGET` per `GET_WINDOW` seconds (Trakt allows 500 per
  5 min): past it a request waits for the window to move. A 429 waits its `Retry-After`
  (Cloudflare sends 300; capped at `MAX_RETRY_AFTER`) and tries again, at most
  `MAX_429_RETRIES` times. POSTs are spaced a second apart.
* **Reads**: `/sync/history/movies` (paged) and `/sync/ratings/movies` (1-10), merged into
  one `WatchedMovie` per movie; `/users/settings` names the account.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.i18n import _
from bot.media.http import HttpClient, Response, check
from bot.media.jellyfin import parse_time
from bot.media.models import (
    ExternalAccount,
    MediaError,
    MediaUnavailable,
    WatchedMovie,
    imdb_id,
    obj,
    tmdb_id,
    to_scale,
    unexpected,
)

GET_BUDGET = 500
GET_WINDOW = 300.0  # seconds
POST_SPACING = 1.0  # seconds between two POSTs
MAX_RETRY_AFTER = 300.0
MAX_429_RETRIES = 3
REFRESH_MARGIN = 12 * 3600.0  # refresh a (24 h) token with less than this left
PAGE = 100  # history entries per page
MAX_PAGES = 200
OOB = "urn:ietf:wg:oauth:2.0:oob"

Sleep = Callable[[float], Awaitable[None]]


class DeviceFlowEnded(MediaError):
    """The device code can no longer be approved (expired, denied or already used)."""


@dataclass(frozen=True, slots=True)
class DeviceCode:
    device_code: str
    user_code: str
    verification_url: str
    expires_in: int
    interval: int


@dataclass(frozen=True, slots=True)
class TraktToken:
    access_token: str
    refresh_token: str
    expires_at: float  # epoch seconds

    def __repr__(self) -> str:  # never the token itself
        return f"TraktToken(expires_at={self.expires_at:.0f})"


class GetBudget:
    """At most `limit` GETs in any `window` seconds: `acquire` waits for a free slot."""

    def __init__(self, limit: int = GET_BUDGET, window: float = GET_WINDOW, *,
                 clock: Callable[[], float] = time.monotonic, sleep: Sleep = asyncio.sleep
                 ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self.sleep = sleep
        self._sent: deque[float] = deque()
        self.waited = 0.0  # seconds spent waiting for the window (tests, logs)

    async def acquire(self) -> None:
        while True:
            now = self.clock()
            while self._sent and self._sent[0] <= now - self.window:
                self._sent.popleft()
            if len(self._sent) < self.limit:
                self._sent.append(now)
                return
            pause = self._sent[0] + self.window - now
            self.waited += pause
            await self.sleep(pause)


class TraktClient:
    def __init__(self, client_id: str, client_secret: str,
                 base_url: str = "https://api.trakt.tv", *, timeout: float = 10.0,
                 budget: GetBudget | None = None, sleep: Sleep = asyncio.sleep,
                 clock: Callable[[], float] = time.time) -> None:
        self._client_id = client_id
        self._secret = client_secret
        self.http = HttpClient("Trakt", base_url, timeout=timeout, headers={
            "trakt-api-key": client_id, "trakt-api-version": "2",
            "Content-Type": "application/json"})
        self.sleep = sleep
        self.clock = clock  # wall clock: token expiry times are epoch seconds
        self.budget = budget or GetBudget(sleep=sleep)
        self._last_post = 0.0
        self.backoffs: list[float] = []  # Retry-After waits taken (tests, logs)

    async def close(self) -> None:
        await self.http.close()

    # ------------------------------------------------------------------ requests
    async def _send(self, method: str, path: str, *, token: str | None = None,
                    params: dict[str, str] | None = None, body: Any = None) -> Response:
        headers = {"Authorization": f"Bearer {token}"} if token else None
        for attempt in range(MAX_429_RETRIES + 1):
            if method == "GET":
                await self.budget.acquire()
            else:
                gap = self._last_post + POST_SPACING - time.monotonic()
                if gap > 0:
                    await self.sleep(gap)
                self._last_post = time.monotonic()
            response = await self.http.request(method, path, params=params, json_body=body,
                                               headers=headers)
            if response.status != 429 or attempt == MAX_429_RETRIES:
                return response
            wait = _retry_after(response.headers.get("retry-after"))
            self.backoffs.append(wait)
            await self.sleep(wait)
        raise AssertionError("unreachable")

    async def _get(self, path: str, token: str,
                   params: dict[str, str] | None = None) -> Response:
        response = await self._send("GET", path, token=token, params=params)
        if response.status == 429:
            raise MediaUnavailable(_("Trakt is rate limiting the bot; the next sync tries "
                                     "again"))
        check("Trakt", response)
        return response

    # ------------------------------------------------------------------ device flow
    async def device_code(self) -> DeviceCode:
        response = await self._send("POST", "/oauth/device/code",
                                    body={"client_id": self._client_id})
        check("Trakt", response)
        data = await response.json_off_loop()
        try:
            return DeviceCode(str(data["device_code"]), str(data["user_code"]),
                              str(data["verification_url"]), int(data["expires_in"]),
                              max(1, int(data.get("interval", 5))))
        except (KeyError, TypeError, ValueError):
            raise unexpected("Trakt", "/oauth/device/code") from None

    async def poll_token(self, device_code: str) -> TraktToken | None:
        """The token once the member approved; None while pending (or asked to slow down)."""
        response = await self._send("POST", "/oauth/device/token", body={
            "code": device_code, "client_id": self._client_id, "client_secret": self._secret})
        if response.status in (400, 429):
            return None
        if response.status in (404, 409, 410, 418):
            reason = {404: _("the code is not valid"), 409: _("the code was already used"),
                      410: _("the code expired"), 418: _("the request was denied")}
            raise DeviceFlowEnded(_("Trakt linking ended: {reason}").format(
                reason=reason[response.status]))
        check("Trakt", response)
        return self._token(response.json())

    def _token(self, data: Any) -> TraktToken:
        try:
            created = data.get("created_at")
            start = float(created) if isinstance(created, (int, float)) else self.clock()
            return TraktToken(str(data["access_token"]), str(data["refresh_token"]),
                              start + float(data["expires_in"]))
        except (AttributeError, KeyError, TypeError, ValueError):
            raise unexpected("Trakt", "/oauth/token") from None

    async def refresh(self, token: TraktToken) -> TraktToken:
        response = await self._send("POST", "/oauth/token", body={
            "refresh_token": token.refresh_token, "client_id": self._client_id,
            "client_secret": self._secret, "redirect_uri": OOB,
            "grant_type": "refresh_token"})
        check("Trakt", response)
        return self._token(response.json())

    def needs_refresh(self, token: TraktToken, margin: float = REFRESH_MARGIN) -> bool:
        return token.expires_at - self.clock() < margin

    async def fresh(self, token: TraktToken,
                    margin: float = REFRESH_MARGIN) -> tuple[TraktToken, bool]:
        """`token`, refreshed first when less than `margin` seconds of it are left; and
        whether it was."""
        if self.needs_refresh(token, margin):
            return await self.refresh(token), True
        return token, False

    async def revoke(self, access_token: str) -> bool:
        """End the token at Trakt; False when Trakt could not be told (it then expires on
        its own within 24 h)."""
        try:
            response = await self._send("POST", "/oauth/revoke", body={
                "token": access_token, "client_id": self._client_id,
                "client_secret": self._secret})
        except MediaUnavailable:
            return False
        return 200 <= response.status < 300

    # ------------------------------------------------------------------ reads
    async def account(self, access_token: str) -> ExternalAccount:
        data = (await self._get("/users/settings", access_token)).json()
        user = data.get("user") if isinstance(data, dict) else None
        if not isinstance(user, dict):
            raise unexpected("Trakt", "/users/settings")
        ids = obj(user.get("ids"))
        name = str(user.get("username") or ids.get("slug") or "")
        return ExternalAccount(str(ids.get("slug") or name), name)

    async def watched(self, access_token: str, *,
                      progress: Callable[[int, int], Awaitable[None]] | None = None
                      ) -> list[WatchedMovie]:
        """Every movie in the history (last watch) and every rated movie, one each.
        `progress(entries read, entries in all)` after each history page, when Trakt says
        how many there are (`X-Pagination-Item-Count`)."""
        movies: dict[tuple[Any, ...], dict[str, Any]] = {}
        for page in range(1, MAX_PAGES + 1):
            response = await self._get("/sync/history/movies", access_token,
                                       {"page": str(page), "limit": str(PAGE)})
            entries = await response.json_off_loop()
            if not isinstance(entries, list):
                raise unexpected("Trakt", "/sync/history/movies")
            for entry in entries:
                if isinstance(entry, dict) and isinstance(entry.get("movie"), dict):
                    found = movies.setdefault(_key(entry["movie"]), {"movie": entry["movie"]})
                    when = parse_time(entry.get("watched_at"))
                    if when and (found.get("at") is None or when > found["at"]):
                        found["at"] = when
            count = response.headers.get("x-pagination-item-count", "")
            if progress is not None and count.isdigit() and int(count) > 0:
                await progress(min(page * PAGE, int(count)), int(count))
            pages = response.headers.get("x-pagination-page-count", "1")
            if not entries or not pages.isdigit() or page >= int(pages):
                break
        ratings = await (await self._get("/sync/ratings/movies", access_token)).json_off_loop()
        for entry in ratings if isinstance(ratings, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("movie"), dict):
                found = movies.setdefault(_key(entry["movie"]), {"movie": entry["movie"]})
                found["rating"] = to_scale(entry.get("rating"), 10)
                found.setdefault("at", parse_time(entry.get("rated_at")))
        return [_movie(v["movie"], v.get("rating"), v.get("at")) for v in movies.values()
                if v["movie"].get("title")]


def _key(movie: dict[str, Any]) -> tuple[Any, ...]:
    ids = obj(movie.get("ids"))
    if ids.get("trakt") is not None:
        return ("trakt", ids["trakt"])
    return ("title", movie.get("title"), movie.get("year"))


def _movie(movie: dict[str, Any], rating: int | None, at: datetime | None) -> WatchedMovie:
    ids = obj(movie.get("ids"))
    year = movie.get("year")
    return WatchedMovie(tmdb_id=tmdb_id(ids.get("tmdb")), imdb_id=imdb_id(ids.get("imdb")),
                        title=str(movie["title"]),
                        year=year if isinstance(year, int) and year > 0 else None,
                        rating_1_10=rating, watched_at=at)


def _retry_after(value: str | None) -> float:
    """Seconds a 429 asks to wait (1 when it does not say), at most MAX_RETRY_AFTER."""
    try:
        seconds = float(value) if value is not None else 1.0
    except ValueError:
        seconds = 1.0
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)
