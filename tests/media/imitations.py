"""Local aiohttp imitations of the media services, for the media tests and the e2e tests
(tests/ has no packages: load this module by path, see `load()` in conftest.py).

* `FakeJellyfin(version=...)`: "10.11" accepts the API key as `Authorization: MediaBrowser
  Token="..."`, `X-Emby-Token` or `api_key`; "12" only as the Authorization header and answers
  401 to the legacy forms (jellyfin#17245).
* `FakePlex`: `/accounts`, the admin's `/status/sessions/history/all` (paged, by accountID)
  and `/library/metadata/{keys}` with GUIDs and the owner's `userRating`.
* `FakeTrakt`: the device flow (`approve(user_code)`), 24 h tokens dated by the test's clock,
  refresh, revoke, paged history, ratings; `rate_limit(n, retry_after)` answers the next n
  GETs 429.
* `FakeLetterboxd`: public RSS feeds with watch, review and list items.
* Libraries: `FakeJellyfin.libraries` (`/Library/VirtualFolders`, `/Items?ParentId=`) and
  `FakePlex.sections` (`/identity`, `/library/sections`, `/library/sections/{key}/all`).
* `FakeSeerr(version=...)`: users naming their Discord id as `settings.discordIds` ("3.3")
  or `settings.discordId` ("3.2"), `/api/v1/movie/{tmdb}` with `mediaInfo.status`, and
  `POST /api/v1/request` (recorded in `requests`; a slow `request_delay` lets tests press
  twice at once).

Every imitation records what reached it (`seen`), so tests can assert what was (not) sent.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import socket
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from aiohttp import web


@asynccontextmanager
async def serve(app: web.Application, port: int = 0) -> AsyncIterator[str]:
    """Run `app` on 127.0.0.1 (`port`, default a free one); yields its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def free_port() -> int:
    """A port free now on 127.0.0.1 (for a server the test starts later, after the bot's
    settings name its URL)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def movie_item(n: int, *, tmdb: int | None = None, imdb: str | None = None,
               title: str | None = None, year: int = 2000) -> dict[str, Any]:
    """A Jellyfin movie item as /Items lists it."""
    ids = {}
    if tmdb is not None:
        ids["Tmdb"] = str(tmdb)
    if imdb is not None:
        ids["Imdb"] = imdb
    return {"Name": title or f"Movie {n}", "Id": f"item{n}", "Type": "Movie",
            "ProductionYear": year, "ProviderIds": ids,
            "UserData": {"Played": True, "PlayCount": 1,
                         "LastPlayedDate": f"2025-01-{1 + n % 28:02d}T20:00:00.1234567Z"}}


def library_item(n: int, *, tmdb: int | None = None, imdb: str | None = None,
                 title: str | None = None, year: int = 2000) -> dict[str, Any]:
    """A Jellyfin movie item as a library lists it (no user data)."""
    item = movie_item(n, tmdb=tmdb, imdb=imdb, title=title, year=year)
    item.pop("UserData")
    item["Id"] = f"lib{n}"
    return item


# ---------------------------------------------------------------------------- Jellyfin
@dataclass
class FakeJellyfin:
    api_key: str = "jf-api-key-0123456789"
    version: str = "12"
    users: dict[str, str] = field(default_factory=lambda: {"u-alice": "Alice",
                                                           "u-bob": "Bob"})
    disabled: set[str] = field(default_factory=set)
    played: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    seen: Counter[str] = field(default_factory=Counter)
    auth_forms: Counter[str] = field(default_factory=Counter)  # header, x-emby, api_key
    hold_users: asyncio.Event | None = None  # set: /Users waits for it (a slow server)
    hold_pages: asyncio.Event | None = None  # set: played pages after the first wait for it
    # library id -> (name, collection type, [movie items]); see `library_item`
    libraries: dict[str, tuple[str, str, list[dict[str, Any]]]] = field(default_factory=dict)

    def _authorised(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if header.startswith("MediaBrowser ") and f'Token="{self.api_key}"' in header:
            self.auth_forms["header"] += 1
            return True
        legacy = (request.headers.get("X-Emby-Token") == self.api_key
                  or request.query.get("api_key") == self.api_key
                  or request.query.get("ApiKey") == self.api_key)
        if legacy:
            self.auth_forms["legacy"] += 1
            return not self.version.startswith("12")
        return False

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/Users", self._users)
        app.router.add_get("/Items", self._items)
        app.router.add_get("/Library/VirtualFolders", self._folders)
        return app

    async def _folders(self, request: web.Request) -> web.Response:
        self.seen["folders"] += 1
        if not self._authorised(request):
            return web.Response(status=401)
        return web.json_response([
            {"Name": name, "ItemId": lib, "CollectionType": kind, "Locations": []}
            for lib, (name, kind, _items) in self.libraries.items()])

    async def _users(self, request: web.Request) -> web.Response:
        self.seen["users"] += 1
        if self.hold_users is not None:
            await self.hold_users.wait()
        if not self._authorised(request):
            return web.Response(status=401)
        return web.json_response([
            {"Name": name, "Id": uid, "Policy": {"IsDisabled": uid in self.disabled}}
            for uid, name in self.users.items()])

    async def _items(self, request: web.Request) -> web.Response:
        self.seen["items"] += 1
        if not self._authorised(request):
            return web.Response(status=401)
        parent = request.query.get("ParentId")
        if parent is not None:
            self.seen["library_items"] += 1
            entries = self.libraries.get(parent, ("", "", []))[2]
            start = int(request.query.get("StartIndex", "0"))
            limit = int(request.query.get("Limit", "100"))
            return web.json_response({"Items": entries[start:start + limit],
                                      "TotalRecordCount": len(entries), "StartIndex": start})
        user = request.query.get("userId", "")
        if user not in self.users:
            return web.Response(status=400, text="Error processing request.")
        if request.query.get("IsPlayed") != "true":
            return web.json_response({"Items": [], "TotalRecordCount": 0})
        items = self.played.get(user, [])
        start = int(request.query.get("StartIndex", "0"))
        limit = int(request.query.get("Limit", "100"))
        if start > 0 and self.hold_pages is not None:
            await self.hold_pages.wait()
        return web.json_response({"Items": items[start:start + limit],
                                  "TotalRecordCount": len(items), "StartIndex": start})


# ---------------------------------------------------------------------------- Plex
@dataclass
class FakePlex:
    token: str = "plex-token-0123456789"
    accounts: dict[int, str] = field(default_factory=lambda: {1: "admin", 2: "alice"})
    # account id -> [(ratingKey, viewedAt)]
    history: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    # ratingKey -> {"title", "year", "tmdb", "imdb", "userRating"}
    metadata: dict[int, dict[str, Any]] = field(default_factory=dict)
    seen: Counter[str] = field(default_factory=Counter)
    machine: str = "abc123machine"
    # section key -> (title, type, [ratingKey]); the movies' rows come from `metadata`
    sections: dict[int, tuple[str, str, list[int]]] = field(default_factory=dict)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/identity", self._identity)
        app.router.add_get("/library/sections", self._sections)
        app.router.add_get("/library/sections/{key}/all", self._section_all)
        app.router.add_get("/accounts", self._accounts)
        app.router.add_get("/status/sessions/history/all", self._history)
        app.router.add_get("/library/metadata/{keys}", self._metadata)
        return app

    def _ok(self, request: web.Request) -> bool:
        return request.headers.get("X-Plex-Token") == self.token

    async def _identity(self, request: web.Request) -> web.Response:
        return web.json_response({"MediaContainer": {"machineIdentifier": self.machine}})

    async def _sections(self, request: web.Request) -> web.Response:
        self.seen["sections"] += 1
        if not self._ok(request):
            return web.Response(status=401)
        return web.json_response({"MediaContainer": {"Directory": [
            {"key": str(key), "title": title, "type": kind}
            for key, (title, kind, _keys) in self.sections.items()]}})

    async def _section_all(self, request: web.Request) -> web.Response:
        self.seen["section_all"] += 1
        if not self._ok(request):
            return web.Response(status=401)
        section = self.sections.get(int(request.match_info["key"]))
        if section is None:
            return web.Response(status=404)
        rows = [self._row(key) for key in section[2] if key in self.metadata]
        start = int(request.query.get("X-Plex-Container-Start", "0"))
        size = int(request.query.get("X-Plex-Container-Size", "50"))
        return web.json_response({"MediaContainer": {"size": len(rows[start:start + size]),
                                                     "Metadata": rows[start:start + size]}})

    def _row(self, key: int) -> dict[str, Any]:
        meta = self.metadata[key]
        guids = [{"id": f"tmdb://{meta['tmdb']}"}] if meta.get("tmdb") else []
        if meta.get("imdb"):
            guids.append({"id": f"imdb://{meta['imdb']}"})
        return {"ratingKey": str(key), "title": meta["title"], "year": meta.get("year"),
                "type": "movie", "Guid": guids}

    async def _accounts(self, request: web.Request) -> web.Response:
        self.seen["accounts"] += 1
        if not self._ok(request):
            return web.Response(status=401)
        return web.json_response({"MediaContainer": {"Account": [
            {"id": 0, "name": ""}, *({"id": i, "name": n} for i, n in self.accounts.items())]}})

    async def _history(self, request: web.Request) -> web.Response:
        self.seen["history"] += 1
        if not self._ok(request):
            return web.Response(status=401)
        account = int(request.query.get("accountID", "0"))
        start = int(request.query.get("X-Plex-Container-Start", "0"))
        size = int(request.query.get("X-Plex-Container-Size", "50"))
        rows = [{"ratingKey": str(key), "type": "movie", "accountID": account,
                 "viewedAt": viewed, "title": self.metadata.get(key, {}).get("title", "?")}
                for key, viewed in self.history.get(account, [])]
        return web.json_response({"MediaContainer": {"size": len(rows[start:start + size]),
                                                     "totalSize": len(rows),
                                                     "Metadata": rows[start:start + size]}})

    async def _metadata(self, request: web.Request) -> web.Response:
        self.seen["metadata"] += 1
        if not self._ok(request):
            return web.Response(status=401)
        found = []
        for key in request.match_info["keys"].split(","):
            meta = self.metadata.get(int(key))
            if meta is None:
                continue
            guids = [{"id": f"tmdb://{meta['tmdb']}"}] if meta.get("tmdb") else []
            if meta.get("imdb"):
                guids.append({"id": f"imdb://{meta['imdb']}"})
            row = {"ratingKey": key, "title": meta["title"], "year": meta.get("year"),
                   "type": "movie", "Guid": guids}
            if meta.get("userRating") is not None:
                row["userRating"] = meta["userRating"]
            found.append(row)
        if not found:
            return web.Response(status=404)
        return web.json_response({"MediaContainer": {"Metadata": found}})


# ---------------------------------------------------------------------------- Trakt
@dataclass
class FakeTrakt:
    client_id: str = "trakt-client-id-0123"
    client_secret: str = "trakt-client-secret-0123456789"
    now: float = 1_750_000_000.0  # the imitation's clock: tokens are dated by it
    lifetime: int = 86_400
    device_token_age: float = 0.0  # the device flow's token is dated this long before `now`
    username: str = "alice_t"
    # [{"title", "year", "tmdb", "imdb", "watched_at"}] and [{"...", "rating"}]
    history: list[dict[str, Any]] = field(default_factory=list)
    ratings: list[dict[str, Any]] = field(default_factory=list)
    page_size_cap: int = 100
    seen: Counter[str] = field(default_factory=Counter)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)  # device code -> state
    tokens: dict[str, float] = field(default_factory=dict)  # access token -> expires at
    refresh_tokens: set[str] = field(default_factory=set)
    revoked: list[str] = field(default_factory=list)
    limited: int = 0  # GETs still to answer 429
    retry_after: str = "1"
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/oauth/device/code", self._device_code)
        app.router.add_post("/oauth/device/token", self._device_token)
        app.router.add_post("/oauth/token", self._refresh)
        app.router.add_post("/oauth/revoke", self._revoke)
        app.router.add_get("/users/settings", self._settings)
        app.router.add_get("/sync/history/movies", self._history)
        app.router.add_get("/sync/ratings/movies", self._ratings)
        return app

    def rate_limit(self, count: int, retry_after: str = "1") -> None:
        self.limited, self.retry_after = count, retry_after

    def approve(self, user_code: str) -> None:
        for state in self.codes.values():
            if state["user_code"] == user_code:
                state["approved"] = True
                return
        raise KeyError(user_code)

    def pending_user_codes(self) -> list[str]:
        return [s["user_code"] for s in self.codes.values() if not s["approved"]]

    def _new_token(self, age: float = 0.0) -> dict[str, Any]:
        access, refresh = secrets.token_hex(16), secrets.token_hex(16)
        created = self.now - age
        self.tokens[access] = created + self.lifetime
        self.refresh_tokens.add(refresh)
        return {"access_token": access, "token_type": "bearer", "expires_in": self.lifetime,
                "refresh_token": refresh, "scope": "public", "created_at": int(created)}

    def _client_ok(self, request: web.Request) -> bool:
        return (request.headers.get("trakt-api-key") == self.client_id
                and request.headers.get("trakt-api-version") == "2")

    async def _device_code(self, request: web.Request) -> web.Response:
        self.seen["device_code"] += 1
        body = await request.json()
        if body.get("client_id") != self.client_id:
            return web.Response(status=401)
        code = secrets.token_hex(8)
        user_code = f"{next(self._ids):08X}"
        self.codes[code] = {"user_code": user_code, "approved": False, "used": False}
        return web.json_response({"device_code": code, "user_code": user_code,
                                  "verification_url": "https://trakt.tv/activate",
                                  "expires_in": 600, "interval": 1})

    async def _device_token(self, request: web.Request) -> web.Response:
        self.seen["device_token"] += 1
        body = await request.json()
        if (body.get("client_id"), body.get("client_secret")) != (self.client_id,
                                                                   self.client_secret):
            return web.Response(status=401)
        state = self.codes.get(body.get("code", ""))
        if state is None:
            return web.Response(status=404)
        if state["used"]:
            return web.Response(status=409)
        if not state["approved"]:
            return web.Response(status=400)
        state["used"] = True
        return web.json_response(self._new_token(self.device_token_age))

    async def _refresh(self, request: web.Request) -> web.Response:
        self.seen["refresh"] += 1
        body = await request.json()
        if (body.get("grant_type") != "refresh_token"
                or body.get("refresh_token") not in self.refresh_tokens
                or body.get("client_secret") != self.client_secret):
            return web.Response(status=401)
        self.refresh_tokens.discard(body["refresh_token"])
        return web.json_response(self._new_token())

    async def _revoke(self, request: web.Request) -> web.Response:
        self.seen["revoke"] += 1
        body = await request.json()
        if body.get("client_secret") != self.client_secret:
            return web.Response(status=401)
        self.revoked.append(body.get("token", ""))
        self.tokens.pop(body.get("token", ""), None)
        return web.json_response({})

    def _authorised(self, request: web.Request) -> web.Response | None:
        """None when the request may be answered, else the refusal (429 first)."""
        if self.limited > 0:
            self.limited -= 1
            self.seen["429"] += 1
            return web.Response(status=429, headers={"Retry-After": self.retry_after})
        if not self._client_ok(request):
            return web.Response(status=403)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        expires = self.tokens.get(token)
        if expires is None or expires <= self.now:
            self.seen["expired_token"] += 1
            return web.Response(status=401)
        return None

    @staticmethod
    def _movie(row: dict[str, Any], n: int) -> dict[str, Any]:
        return {"title": row["title"], "year": row.get("year"),
                "ids": {"trakt": 10_000 + n, "slug": f"m{n}", "tmdb": row.get("tmdb"),
                        "imdb": row.get("imdb")}}

    async def _settings(self, request: web.Request) -> web.Response:
        self.seen["settings"] += 1
        if (refusal := self._authorised(request)) is not None:
            return refusal
        return web.json_response({"user": {"username": self.username,
                                           "ids": {"slug": self.username}}})

    async def _history(self, request: web.Request) -> web.Response:
        self.seen["history"] += 1
        if (refusal := self._authorised(request)) is not None:
            return refusal
        page = int(request.query.get("page", "1"))
        limit = min(int(request.query.get("limit", "10")), self.page_size_cap)
        rows = [{"id": n, "watched_at": r.get("watched_at", "2025-02-01T20:00:00.000Z"),
                 "action": "watch", "type": "movie", "movie": self._movie(r, n)}
                for n, r in enumerate(self.history)]
        pages = max(1, -(-len(rows) // limit))
        return web.json_response(rows[(page - 1) * limit:page * limit], headers={
            "X-Pagination-Page": str(page), "X-Pagination-Page-Count": str(pages),
            "X-Pagination-Item-Count": str(len(rows))})

    async def _ratings(self, request: web.Request) -> web.Response:
        self.seen["ratings"] += 1
        if (refusal := self._authorised(request)) is not None:
            return refusal
        index = {r["title"]: n for n, r in enumerate(self.history)}
        return web.json_response([
            {"rated_at": "2025-02-02T20:00:00.000Z", "rating": r["rating"], "type": "movie",
             "movie": self._movie(r, index.get(r["title"], 5_000 + n))}
            for n, r in enumerate(self.ratings)])


# ---------------------------------------------------------------------------- Letterboxd
@dataclass
class FakeLetterboxd:
    # username -> [{"title", "year", "tmdb", "rating" (0.5-5 or None), "kind"}]
    feeds: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    seen: Counter[str] = field(default_factory=Counter)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{user}/rss/", self._rss)
        return app

    def rss(self, user: str) -> str:
        items = []
        for n, entry in enumerate(self.feeds[user]):
            kind = entry.get("kind", "watch")
            rating = (f"<letterboxd:memberRating>{entry['rating']}</letterboxd:memberRating>"
                      if entry.get("rating") is not None else "")
            tmdb = (f"<tmdb:movieId>{entry['tmdb']}</tmdb:movieId>"
                    if entry.get("tmdb") is not None else "")
            items.append(
                f"<item><title>{escape(entry['title'])}</title>"
                f"<guid isPermaLink=\"false\">letterboxd-{kind}-{1000 + n}</guid>"
                f"<letterboxd:watchedDate>2025-03-{1 + n % 28:02d}</letterboxd:watchedDate>"
                f"<letterboxd:filmTitle>{escape(entry['title'])}</letterboxd:filmTitle>"
                f"<letterboxd:filmYear>{entry.get('year', '')}</letterboxd:filmYear>"
                f"{rating}{tmdb}</item>")
        return ("<?xml version=\"1.0\" encoding=\"utf-8\"?>"
                "<rss version=\"2.0\" xmlns:letterboxd=\"https://letterboxd.com\" "
                "xmlns:tmdb=\"https://themoviedb.org\"><channel>"
                f"<title>Letterboxd - {escape(user)}</title>{''.join(items)}</channel></rss>")

    async def _rss(self, request: web.Request) -> web.Response:
        user = request.match_info["user"]
        self.seen[user] += 1
        if user not in self.feeds:
            return web.Response(status=404)
        return web.Response(text=self.rss(user), content_type="application/rss+xml")


# ---------------------------------------------------------------------------- Seerr
@dataclass
class FakeSeerr:
    api_key: str = "seerr-api-key-0123456789"
    version: str = "3.3"  # "3.3": settings.discordIds; "3.2": settings.discordId
    # Seerr user id -> (name, Discord id or None)
    users: dict[int, tuple[str, int | None]] = field(default_factory=dict)
    status: dict[int, int] = field(default_factory=dict)  # TMDB id -> mediaInfo.status
    auto_approve: bool = False
    request_delay: float = 0.0  # seconds POST /request takes (concurrent presses)
    hold: dict[int, asyncio.Event] = field(default_factory=dict)  # TMDB id: POST waits for it
    held: asyncio.Event = field(default_factory=asyncio.Event)  # set: a POST is waiting
    requests: list[dict[str, Any]] = field(default_factory=list)  # bodies POSTed
    seen: Counter[str] = field(default_factory=Counter)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/v1/user", self._users)
        app.router.add_get("/api/v1/movie/{tmdb}", self._movie)
        app.router.add_post("/api/v1/request", self._request)
        return app

    def _ok(self, request: web.Request) -> bool:
        return request.headers.get("X-Api-Key") == self.api_key

    def _settings(self, discord: int | None) -> dict[str, Any]:
        if self.version.startswith("3.2"):
            return {"discordId": str(discord) if discord else None, "locale": "en"}
        return {"discordIds": [str(discord)] if discord else [], "locale": "en"}

    async def _users(self, request: web.Request) -> web.Response:
        self.seen["users"] += 1
        if not self._ok(request):
            return web.Response(status=403)
        results = [{"id": uid, "displayName": name, "email": f"{name}@example.org",
                    "permissions": 32, "settings": self._settings(discord)}
                   for uid, (name, discord) in self.users.items()]
        return web.json_response({"pageInfo": {"pages": 1, "pageSize": 1000,
                                               "results": len(results), "page": 1},
                                  "results": results})

    async def _movie(self, request: web.Request) -> web.Response:
        self.seen["movie"] += 1
        if not self._ok(request):
            return web.Response(status=403)
        tmdb = int(request.match_info["tmdb"])
        body: dict[str, Any] = {"id": tmdb, "title": f"TMDB {tmdb}"}
        if tmdb in self.status:
            body["mediaInfo"] = {"id": tmdb, "tmdbId": tmdb, "status": self.status[tmdb]}
        return web.json_response(body)

    async def _request(self, request: web.Request) -> web.Response:
        self.seen["request"] += 1
        if not self._ok(request):
            return web.Response(status=403)
        body = await request.json()
        if self.request_delay:
            await asyncio.sleep(self.request_delay)
        tmdb = int(body["mediaId"])
        if tmdb in self.hold:
            self.held.set()
            await self.hold[tmdb].wait()
        self.requests.append(body)
        self.status[tmdb] = 3 if self.auto_approve else 2
        return web.json_response({"id": len(self.requests), "status": 2 if self.auto_approve
                                  else 1, "media": {"tmdbId": tmdb, "status": self.status[tmdb]},
                                  "requestedBy": {"id": body.get("userId")}}, status=201)
