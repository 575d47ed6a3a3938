"""End-to-end: TMDB posters and details against a local aiohttp server that imitates the three
TMDB endpoints the bot uses (configuration, search, movie details): /movies info and
/recommend show the poster and details, details are cached in the database (TTL), a 429 is
waited out, a 5xx or an unknown movie leaves the answer as it is without a key, and without a
key nothing is asked at all. No test touches the internet."""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web

from bot.config import ConfigError, TmdbSettings, default_settings, load_settings
from bot.service.details import DetailsService
from bot.tmdb import TmdbClient

if TYPE_CHECKING:
    from conftest import Env

KEY = "test-key-0123456789"
MOVIES_TITLES = ("Casablanca", "Vertigo")


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (34, 51), (180, 40, 40)).save(buffer, "PNG")
    return buffer.getvalue()


POSTER_PNG = _png()
MOVIES = {
    550: {"id": 550, "title": "Casablanca", "original_title": "Casablanca", "runtime": 102,
          "overview": "A cynical expatriate @everyone **meets** an old flame.",
          "poster_path": "/casablanca.jpg"},
    551: {"id": 551, "title": "Vertigo", "original_title": "Sueurs froides", "runtime": 128,
          "overview": "A detective with a fear of heights.", "poster_path": "/vertigo.jpg",
          "belongs_to_collection": {"id": 9551, "name": "Hitchcock"}},
}


@dataclass
class FakeTmdb:
    """The imitation: answers like TMDB, counts requests, can be told to fail."""

    url: str = ""
    hits: Counter[str] = field(default_factory=Counter)
    rate_limit_next: int = 0  # answer 429 to this many requests first
    broken: bool = False  # answer 503 to everything
    keys: list[str] = field(default_factory=list)
    generic: dict[int, str] = field(default_factory=dict)  # ids given to other titles
    years: dict[int, int] = field(default_factory=dict)  # their years, as searched
    imdb: dict[str, int] = field(default_factory=dict)  # IMDb id -> TMDB id (/3/find)
    genres: tuple[str, ...] = ("Animation", "Science Fiction")  # of every generic movie

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/3/configuration", self.configuration)
        app.router.add_get("/3/search/movie", self.search)
        app.router.add_get("/3/movie/{id}", self.details)
        app.router.add_get("/3/find/{id}", self.find)
        app.router.add_get("/t/p/{size}/{name}", self.poster)
        return app

    def _gate(self, request: web.Request, name: str) -> web.Response | None:
        self.hits[name] += 1
        self.keys.append(request.query.get("api_key", ""))
        if self.broken:
            return web.json_response({"status_message": "down"}, status=503)
        if self.rate_limit_next > 0:
            self.rate_limit_next -= 1
            return web.json_response({"status_code": 25}, status=429,
                                     headers={"Retry-After": "0"})
        return None

    async def configuration(self, request: web.Request) -> web.Response:
        return self._gate(request, "configuration") or web.json_response(
            {"images": {"secure_base_url": f"{self.url}/t/p/"}})

    async def poster(self, request: web.Request) -> web.Response:
        self.hits["poster"] += 1
        if self.broken:
            return web.Response(status=503)
        return web.Response(body=POSTER_PNG, content_type="image/png")

    async def search(self, request: web.Request) -> web.Response:
        refused = self._gate(request, "search")
        if refused is not None:
            return refused
        query = request.query.get("query", "")
        results: list[dict[str, Any]] = [
            {"id": m["id"], "title": m["title"]} for m in MOVIES.values()
            if m["title"].lower() == query.lower()]
        if not results and query != "Jaws":  # TMDB knows every other title, not Jaws
            tmdb_id = 1000 + len(self.generic)
            self.generic[tmdb_id] = query
            if request.query.get("year", "").isdigit():
                self.years[tmdb_id] = int(request.query["year"])
            results = [{"id": tmdb_id, "title": query}]
        return web.json_response({"page": 1, "results": results,
                                  "total_results": len(results)})

    async def details(self, request: web.Request) -> web.Response:
        refused = self._gate(request, "details")
        if refused is not None:
            return refused
        tmdb_id = int(request.match_info["id"])
        movie = MOVIES.get(tmdb_id)
        if movie is None and tmdb_id in self.generic:
            title = self.generic[tmdb_id]
            movie = {"id": tmdb_id, "title": title, "original_title": title, "runtime": 90,
                     "overview": f"About {title}.", "poster_path": f"/poster-{tmdb_id}.jpg",
                     "imdb_id": next((i for i, t in self.imdb.items() if t == tmdb_id),
                                     f"tt{7_000_000 + tmdb_id}"),
                     "genres": [{"id": n, "name": g} for n, g in enumerate(self.genres)]}
            if tmdb_id in self.years:
                movie["release_date"] = f"{self.years[tmdb_id]}-06-01"
        if movie is None:
            return web.json_response({"status_code": 34}, status=404)
        return web.json_response(movie)

    async def find(self, request: web.Request) -> web.Response:
        """`/3/find/{imdb id}?external_source=imdb_id`: the ids registered in `imdb`."""
        refused = self._gate(request, "find")
        if refused is not None:
            return refused
        tmdb_id = self.imdb.get(request.match_info["id"])
        if request.query.get("external_source") != "imdb_id" or tmdb_id is None:
            return web.json_response({"movie_results": [], "tv_results": []})
        return web.json_response({"movie_results": [
            {"id": tmdb_id, "title": self.generic.get(tmdb_id, "")}], "tv_results": []})


@pytest.fixture
async def tmdb():
    fake = FakeTmdb()
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()


@pytest.fixture
async def with_tmdb(env: Env, tmdb: FakeTmdb):
    """The running bot with `[tmdb] api_key` set and base_url on the imitation (whose origin
    is allowed for posters, as only tests can say)."""
    app = env.bot.app
    app.details = DetailsService.from_settings(
        env.storage, app.gate, TmdbSettings(api_key=KEY, base_url=tmdb.url,
                                            test_image_origins=(tmdb.url,)))
    app.pictures.posters = app.details  # as Services.build wires it when a key is set
    app.picks.details = app.details
    app.movie_pages.details = app.details
    yield env
    await app.details.close()


def _fields(reply) -> dict[str, str]:
    return {f["name"]: f["value"] for f in reply.embed.get("fields", [])}


async def test_without_a_key_nothing_is_asked(env: Env, tmdb: FakeTmdb) -> None:
    assert not env.bot.app.details.enabled
    casablanca = await env.movie("Casablanca")
    reply = await env.run(env.alice, "movies info", movie=f"#{casablanca.id}")
    assert "thumbnail" not in reply.embed and "Overview" not in _fields(reply)
    assert sum(tmdb.hits.values()) == 0


def test_the_key_comes_from_config_or_environment(monkeypatch, tmp_path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[tmdb]\napi_key = "abc"\ncache_days = 7\n')
    settings = load_settings(config)
    assert settings.tmdb.enabled and settings.tmdb.cache_days == 7
    monkeypatch.setenv("MOVIEBOT_TMDB_API_KEY", "from-env")
    assert load_settings(config).tmdb.api_key == "from-env"
    assert default_settings().tmdb.api_key == "from-env"
    monkeypatch.delenv("MOVIEBOT_TMDB_API_KEY")
    assert not default_settings().tmdb.enabled
    config.write_text('[tmdb]\ncache_days = 0\n')
    with pytest.raises(ConfigError, match=r"tmdb\.cache_days"):
        load_settings(config)


async def test_a_read_access_token_goes_in_a_bearer_header() -> None:
    assert TmdbClient("eyJhbGciOi.x.y")._auth() == ({"Authorization": "Bearer eyJhbGciOi.x.y"},
                                                     {})
    assert TmdbClient("v3key")._auth() == ({}, {"api_key": "v3key"})


async def test_movies_info_shows_poster_and_details_then_uses_the_cache(
        with_tmdb: Env, tmdb: FakeTmdb) -> None:
    env = with_tmdb
    vertigo = await env.movie("Vertigo")
    reply = await env.run(env.alice, "movies info", movie=f"#{vertigo.id}")
    assert reply.embed["thumbnail"]["url"] == f"{tmdb.url}/t/p/w342/vertigo.jpg"
    fields = _fields(reply)
    assert fields["Overview"] == "A detective with a fear of heights."
    assert fields["Runtime"] == "2 h 08 min" and fields["Original title"] == "Sueurs froides"
    assert tmdb.hits == Counter(search=1, details=1, configuration=1)
    assert set(tmdb.keys) == {KEY}
    cached = (await env.storage.movie_details([vertigo.id]))[vertigo.id]
    assert cached.tmdb_id == 551
    assert cached.collection_id == 9551  # its TMDB collection: a franchise for page rules
    again = await env.run(env.bob, "movies info", movie=f"#{vertigo.id}")
    assert _fields(again)["Runtime"] == "2 h 08 min"
    assert sum(tmdb.hits.values()) == 3  # served from the database
    # Past the TTL it is asked again.
    env.bot.app.details.cache_seconds = 0.0
    await env.run(env.bob, "movies info", movie=f"#{vertigo.id}")
    assert tmdb.hits["details"] == 2


async def test_tmdb_text_is_escaped_and_a_rate_limit_is_waited_out(
        with_tmdb: Env, tmdb: FakeTmdb) -> None:
    env = with_tmdb
    tmdb.rate_limit_next = 1
    casablanca = await env.movie("Casablanca")
    reply = await env.run(env.alice, "movies info", movie=f"#{casablanca.id}")
    overview = _fields(reply)["Overview"]
    assert "@\u200beveryone" in overview or "\\@everyone" in overview or \
           "@everyone" not in overview
    assert "\\*\\*meets\\*\\*" in overview
    assert reply.allowed_mentions["parse"] == []
    assert "Original title" not in _fields(reply)  # same as the title


async def test_a_failing_or_unknown_tmdb_leaves_the_answer_as_without_a_key(
        with_tmdb: Env, tmdb: FakeTmdb) -> None:
    env = with_tmdb
    tmdb.broken = True
    jaws = await env.movie("Jaws")
    reply = await env.run(env.alice, "movies info", movie=f"#{jaws.id}")
    assert reply.embed["title"] == "Jaws (1975)" and "thumbnail" not in reply.embed
    assert tmdb.hits["search"] == 2  # one retry, then without
    assert await env.storage.movie_details([jaws.id]) == {}  # a failure is not cached
    tmdb.broken = False
    reply = await env.run(env.alice, "movies info", movie=f"#{jaws.id}")  # TMDB has no Jaws
    assert "thumbnail" not in reply.embed
    assert (await env.storage.movie_details([jaws.id]))[jaws.id].tmdb_id is None


async def test_recommend_shows_the_top_picks_poster(with_tmdb: Env, tmdb: FakeTmdb) -> None:
    env = with_tmdb
    await env.seed_taste_clusters(env.guild, train=False)
    await env.seed(env.guild, {env.alice.id: {"Star Wars": 10, "Alien": 9, "Jaws": 8,
                                              "Superman": 9}})
    top = await env.run(env.alice, "recommend", count=3)
    first = top.embed["description"].split("**")[1].rsplit(" (", 1)[0]
    assert top.embed["thumbnail"]["url"].startswith(f"{tmdb.url}/t/p/w342/")
    fields = _fields(top)
    assert fields["#1: Runtime"] == "1 h 30 min" or first in MOVIES_TITLES
    # Every pick has a poster on TMDB: the page's card is a poster grid (the pictures
    # service's PosterSource), each pick looked up and its poster downloaded once.
    card = top.attachment("picks.png")
    assert card.description.startswith("Posters of your picks")
    # Each poster is downloaded once. The top pick's details (for the embed) and its poster
    # (for the card) are looked up side by side and may each search once before either has
    # cached the result, so 3 or 4 searches (seen as 4 on a loaded machine).
    searched = tmdb.hits["search"]
    assert searched in (3, 4) and tmdb.hits["poster"] == 3
    again = await env.run(env.alice, "recommend", count=3)
    assert again.embed["thumbnail"] == top.embed["thumbnail"]
    assert tmdb.hits["search"] == searched and tmdb.hits["poster"] == 3  # all cached now


async def test_about_carries_the_tmdb_attribution_only_with_a_key(env: Env, tmdb: FakeTmdb
                                                                  ) -> None:
    plain = await env.run(env.alice, "about")
    assert "Posters and details" not in _fields(plain)
    app = env.bot.app
    app.details = DetailsService.from_settings(
        env.storage, app.gate, TmdbSettings(api_key=KEY, base_url=tmdb.url))
    try:
        about = await env.run(env.alice, "about")
        assert "not endorsed or certified by TMDB" in _fields(about)["Posters and details"]
        assert "data by JustWatch" in _fields(about)["Where to watch"]
    finally:
        await app.details.close()


async def test_movies_add_links_the_new_movie_to_tmdb_so_imports_match_it(
        with_tmdb: Env, tmdb: FakeTmdb) -> None:
    env = with_tmdb
    reply = await env.run(env.admin, "movies add", title="Our Club Premiere", year=2020)
    assert reply.content.startswith("Added **Our Club Premiere (2020)**")
    assert reply.embed["thumbnail"]["url"].startswith(f"{tmdb.url}/t/p/w342/")
    assert reply.embed["footer"]["text"] == "Details from TMDB"
    movie = await env.movie("Our Club Premiere")
    assert movie.tmdb_id == 1000 and movie.imdb_id == "tt7001000"
    # An IMDb export naming it under another title matches by the id.
    data = (b"Const,Your Rating,Date Rated,Title,Year\n"
            b"tt7001000,9,2024-01-01,Premiere (working title),2020\n")
    preview = await env.run(env.bob, "import", file=("imdb.csv", data))
    assert "1 matched" in preview.content
