"""The Seerr webhook listener: `MEDIA_AVAILABLE` notices in, "now available" DMs out.

Seerr's Webhook agent (Settings > Notifications > Webhook) posts JSON to
`http://<bot host>:<[seerr] webhook_port>/seerr` with the Authorization header it is given:
set that to `[seerr] webhook_secret` (plain, or as `Bearer <secret>`). Anything without the
secret gets 401 and is not read; bodies are capped at `MAX_BODY`. A `MEDIA_AVAILABLE` notice
for a movie (`{{media}}.media_type` "movie", `{{media}}.tmdbId`) is handed to `on_available`
in the background (Seerr does not wait for the DMs); `TEST_NOTIFICATION` and other events are
acknowledged and ignored. The listener runs only with both the port and the secret set.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.media.models import obj, tmdb_id

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
PATH = "/seerr"

OnAvailable = Callable[[int], Awaitable[object]]


def authorised(header: str, secret: str) -> bool:
    """The Authorization header carries the secret (plain or after "Bearer ")."""
    if not secret:
        return False
    given = header.strip()
    if given.lower().startswith("bearer "):
        given = given[7:].strip()
    return hmac.compare_digest(given.encode("utf-8"), secret.encode("utf-8"))


def available_movie(payload: Any) -> int | None:
    """The TMDB id of the movie a MEDIA_AVAILABLE notice announces (None for anything else)."""
    data = obj(payload)
    kind = data.get("notification_type") or data.get("event")
    if kind != "MEDIA_AVAILABLE":
        return None
    media = obj(data.get("media"))
    if str(media.get("media_type") or media.get("mediaType") or "").lower() != "movie":
        return None
    return tmdb_id(media.get("tmdbId") or media.get("tmdb_id"))


class SeerrWebhook:
    def __init__(self, secret: str, on_available: OnAvailable, *, host: str = "0.0.0.0",
                 port: int = 0) -> None:
        self._secret = secret
        self.on_available = on_available
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.received = 0  # notices accepted (tests, logs)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(PATH, self._notice)
        return app

    async def start(self) -> int:
        """Listen; returns the port (the one chosen when `port` is 0)."""
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        log.info("listening for Seerr's webhook on %s:%s%s", self.host, self.port, PATH)
        return self.port

    async def close(self) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _notice(self, request: web.Request) -> web.Response:
        if not authorised(request.headers.get("Authorization", ""), self._secret):
            return web.Response(status=401, text="unauthorised")
        try:
            payload = json.loads(await request.read())
        except ValueError:
            return web.Response(status=400, text="not a JSON notice")
        movie = available_movie(payload)
        if movie is None:
            return web.Response(status=204)
        self.received += 1
        task = asyncio.create_task(self._deliver(movie), name=f"seerr-available-{movie}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.Response(status=202, text="accepted")

    async def _deliver(self, movie: int) -> None:
        try:
            await self.on_available(movie)
        except Exception:
            log.exception("a Seerr MEDIA_AVAILABLE notice (TMDB %s) was not delivered", movie)
