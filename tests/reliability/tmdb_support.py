"""The TMDB imitation of tests/e2e/test_e2e_tmdb.py, for the reliability tests (tests/ has no
packages: the module is loaded by path, as conftest.py loads the e2e fixture).

`serve(app)` runs any aiohttp application on 127.0.0.1 and yields its base URL; `hostile`
starts an imitation that can be told to misbehave (slow answers, another image host, poster
redirects, huge posters) and `elsewhere` a second host that only counts what reached it.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

_PATH = Path(__file__).resolve().parents[1] / "e2e" / "test_e2e_tmdb.py"
_spec = importlib.util.spec_from_file_location("reliability_tmdb_imitation", _PATH)
assert _spec is not None and _spec.loader is not None
imitation = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = imitation
_spec.loader.exec_module(imitation)

FakeTmdb = imitation.FakeTmdb
KEY: str = imitation.KEY
POSTER_PNG: bytes = imitation.POSTER_PNG


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@dataclass
class HostileTmdb(FakeTmdb):  # type: ignore[misc,valid-type]
    """The imitation, plus what an attacker (or a sick TMDB) can make it do."""

    delay: float = 0.0  # seconds every API answer and poster waits first
    image_base: str | None = None  # the image base URL /3/configuration names
    redirect_posters_to: str | None = None  # posters answer 302 to this URL
    redirect_api_to: str | None = None  # API answers 302 to this URL
    poster_bytes: int = 0  # posters are this many bytes of junk instead of a PNG
    poster_chunked: bool = False  # ...streamed without a Content-Length
    released: asyncio.Event = field(default_factory=asyncio.Event)  # set: stop delaying
    arrived: Counter[str] = field(default_factory=Counter)  # requests received, by endpoint

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/3/configuration", self.slow(self.configuration))
        app.router.add_get("/3/search/movie", self.slow(self.search))
        app.router.add_get("/3/movie/{id}", self.slow(self.details))
        app.router.add_get("/t/p/{size}/{name}", self.slow(self.poster))
        return app

    def slow(self, handler):  # type: ignore[no-untyped-def]
        async def delayed(request: web.Request) -> web.StreamResponse:
            self.arrived[handler.__name__] += 1
            if self.redirect_api_to is not None and request.path.startswith("/3/"):
                raise web.HTTPFound(self.redirect_api_to)
            if self.delay and not self.released.is_set():
                with suppress(TimeoutError):
                    await asyncio.wait_for(self.released.wait(), self.delay)
            return await handler(request)
        return delayed

    async def configuration(self, request: web.Request) -> web.Response:
        if self.image_base is None:
            return await super().configuration(request)
        self.hits["configuration"] += 1
        return web.json_response({"images": {"secure_base_url": self.image_base}})

    async def poster(self, request: web.Request) -> web.StreamResponse:
        if self.redirect_posters_to is not None:
            self.hits["poster"] += 1
            raise web.HTTPFound(self.redirect_posters_to)
        if self.poster_bytes:
            self.hits["poster"] += 1
            if not self.poster_chunked:
                return web.Response(body=b"\0" * self.poster_bytes, content_type="image/png")
            response = web.StreamResponse(headers={"Content-Type": "image/png"})
            response.enable_chunked_encoding()
            await response.prepare(request)
            sent = 0
            try:
                while sent < self.poster_bytes:
                    await response.write(b"\0" * 65536)
                    sent += 65536
                await response.write_eof()
            except (ConnectionResetError, RuntimeError):
                pass  # the client stopped reading
            return response
        return await super().poster(request)


@dataclass
class Elsewhere:
    """Another host: serves a poster to anyone and counts every request that reached it."""

    hits: Counter[str] = field(default_factory=Counter)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.any)
        return app

    async def any(self, request: web.Request) -> web.Response:
        self.hits[request.path] += 1
        return web.Response(body=POSTER_PNG, content_type="image/png")


@asynccontextmanager
async def hostile_tmdb() -> AsyncIterator[HostileTmdb]:
    fake = HostileTmdb()
    async with serve(fake.app()) as url:
        fake.url = url
        try:
            yield fake
        finally:
            fake.released.set()


@asynccontextmanager
async def elsewhere_host() -> AsyncIterator[tuple[Elsewhere, str]]:
    other = Elsewhere()
    async with serve(other.app()) as url:
        yield other, url
