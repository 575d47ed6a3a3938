"""End-to-end: tonight's filters and where to watch (issue 26 items 4-5) through the emulator.

TMDB is configured against a local imitation that answers nothing (no test touches the
internet); the details it would give (runtime, original language, age ratings, watch providers)
are seeded into the details cache as bulk data, as a bot that has shown these movies before
has them. `/recommend runtime_max:100` shows only movies of 100 minutes or less,
`source:streaming` only movies on the server's `/settings services` in its region, every
reply that shows providers credits JustWatch, `/movienight` takes the same filters and names
where to watch the winner, and a filter that needs data the server lacks says so."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

import pytest
from aiohttp import web

from bot.config import TmdbSettings
from bot.domain.models import MovieDetails
from bot.service.details import DetailsService
from emulator import Permissions

if TYPE_CHECKING:
    from conftest import Env

LINE = re.compile(r"^\d+\. \*\*(?P<label>.+?)\*\*")
JUSTWATCH = "data by JustWatch"


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _labels(text: str) -> list[str]:
    return [_unescape(m["label"]) for line in text.splitlines() if (m := LINE.match(line))]


def _runtime(movie_id: int) -> int:
    return 95 if movie_id % 2 == 0 else 130


def _providers(movie_id: int) -> dict[str, dict[str, list[str]]]:
    if movie_id % 3 == 0:
        return {"US": {"flatrate": ["Netflix"], "rent": ["Apple TV"]}}
    return {"US": {"flatrate": ["Hulu"]}, "DE": {"flatrate": ["Netflix"]}}


@pytest.fixture
async def tmdb_env(env: Env):
    """The bot with a TMDB key against an imitation that knows nothing, and every visible
    movie's details in the cache (runtime 95 or 130 by id parity; Netflix in the US for every
    third id, Hulu for the others)."""
    hits: list[str] = []

    async def nothing(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.json_response({"status_code": 34}, status=404)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", nothing)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    services = env.bot.app
    details = DetailsService.from_settings(env.storage, services.gate,
                                           TmdbSettings(api_key="k" * 20, base_url=url))
    for holder in (services, services.picks, services.tonight, services.movie_pages):
        holder.details = details
    services.pictures.posters = details
    facts = await env.storage.movie_facts(env.guild.id)
    for fact in facts:
        await env.storage.save_movie_details(MovieDetails(
            fact.movie_id, 10_000 + fact.movie_id, time.time(), runtime=_runtime(fact.movie_id),
            original_language="fr" if fact.movie_id % 5 == 0 else "en",
            certifications={"US": "R" if fact.movie_id % 2 else "PG-13"},
            providers=_providers(fact.movie_id)))
    try:
        yield env
    finally:
        await details.close()
        await runner.cleanup()


async def _seeded(env: Env) -> None:
    await env.seed_taste_clusters(env.guild, train=False)
    await env.seed(env.guild, {env.alice.id: {"Star Wars": 10, "Alien": 9, "Casablanca": 2},
                               env.bob.id: {"Jaws": 9, "Vertigo": 4, "Superman": 8}})


async def _ids(env: Env) -> dict[str, int]:
    facts = await env.storage.movie_facts(env.guild.id)
    movies = await env.storage.get_movies(env.guild.id, [f.movie_id for f in facts])
    return {movie.label: movie.id for movie in movies.values()}


async def test_runtime_max_keeps_only_short_movies(tmdb_env: Env) -> None:
    env = tmdb_env
    await _seeded(env)
    reply = await env.run(env.alice, "recommend", runtime_max=100, count=10)
    shown = _labels(reply.embed["description"])
    ids = await _ids(env)
    assert shown and all(_runtime(ids[label]) <= 100 for label in shown)
    everything = _labels((await env.run(env.alice, "recommend", count=10)).embed["description"])
    assert any(_runtime(ids[label]) > 100 for label in everything)  # the filter did it
    old = await env.run(env.alice, "recommend", max_year=1950, exclude_genre="Drama")
    movies = await env.storage.get_movies(env.guild.id, [ids[x] for x in
                                                         _labels(old.embed["description"])])
    assert movies and all(m.year <= 1950 and "Drama" not in m.genres for m in movies.values())


async def test_source_streaming_keeps_only_the_servers_services(tmdb_env: Env) -> None:
    env = tmdb_env
    await _seeded(env)
    unset = await env.run(env.alice, "recommend", source="streaming")
    assert "/settings region: services:" in unset.content
    await env.storage.update_guild_settings(env.guild.id, region="US", services="Netflix")
    reply = await env.run(env.alice, "recommend", source="streaming")
    ids = await _ids(env)
    shown = _labels(reply.embed["description"])
    assert shown and all(ids[label] % 3 == 0 for label in shown)  # Netflix in the US
    where = next(f["value"] for f in reply.embed["fields"] if f["name"] == "Where to watch")
    assert "stream: Netflix" in where and "rent: Apple TV" in where
    assert where.rstrip().endswith(f"*Where to watch: {JUSTWATCH}.*")


async def test_providers_show_with_the_credit_wherever_they_show(tmdb_env: Env) -> None:
    env = tmdb_env
    await _seeded(env)
    await env.storage.update_guild_settings(env.guild.id, region="US", services="Hulu")
    reply = await env.run(env.alice, "recommend")
    text = reply.rendered_text()
    assert "stream: " in text and JUSTWATCH in text  # alice's picks stream in the US
    group = await env.run(env.alice, "recommend", group=env.bob.mention, runtime_max=100)
    where = next(f["value"] for f in group.embed["fields"] if f["name"] == "Where to watch")
    assert "stream: " in where and where.rstrip().endswith(f"*Where to watch: {JUSTWATCH}.*")
    ids = await _ids(env)
    assert all(_runtime(ids[x]) <= 100 for x in _labels(group.embed["description"]))
    # A movie night: the list names where to watch each, the winner where to watch it.
    env.guild.everyone.permissions &= ~Permissions.SEND_POLLS
    env.guild.bot_role.permissions &= ~Permissions.SEND_POLLS
    night = await env.run(env.alice, "movienight", members=env.bob.mention, candidates=2,
                          source="streaming")
    ids = await _ids(env)
    assert night.embed is not None, night.content
    listed = _labels(night.embed["description"])
    assert listed and all(ids[x] % 3 for x in listed)  # Hulu in the US
    assert "stream: Hulu" in night.embed["description"]
    assert JUSTWATCH in night.embed["description"]
    vote = next(b for b in night.buttons if b["label"].startswith("1."))
    await (await env.emu.click(env.bob, night, vote["custom_id"])).response()
    end = next(b for b in night.buttons if b["label"] == "End vote")
    await (await env.emu.click(env.alice, night, end["custom_id"])).response()  # deferred
    done = await env.emu.wait_until(
        lambda: (m := env.emu.message(night.id)) is not None and "Movie night pick" in m.content
        and m, 10.0, "the result")
    assert f"Movie night pick: **{listed[0]}**" in _unescape(done.content)
    assert "Where to watch it: stream: Hulu" in done.content and JUSTWATCH in done.content


async def test_filters_say_what_they_need(tmdb_env: Env) -> None:
    env = tmdb_env
    await _seeded(env)
    rating = await env.run(env.alice, "recommend", certification="PG-13")
    assert rating.ephemeral and "/settings region:" in rating.content
    await env.storage.update_guild_settings(env.guild.id, region="US")
    rated = await env.run(env.alice, "recommend", certification="pg-13", language="en")
    ids = await _ids(env)
    shown = _labels(rated.embed["description"])
    assert shown and all(ids[x] % 2 == 0 and ids[x] % 5 for x in shown)
    bad = await env.run(env.alice, "recommend", min_year=2000, max_year=1990)
    assert bad.ephemeral and "no movie fits" in bad.content


async def test_without_tmdb_the_tmdb_filters_are_explained(env: Env) -> None:
    await _seeded(env)
    reply = await env.run(env.alice, "recommend", runtime_max=100)
    assert reply.ephemeral and "no TMDB key" in reply.content
    night = await env.run(env.alice, "movienight", members=env.bob.mention, language="en")
    assert night.ephemeral and "no TMDB key" in night.content


@pytest.fixture
async def lookup_env(env: Env):
    """The bot with a TMDB key against an imitation that knows every visible movie (TMDB id
    10000 + its id, runtime 95 or 130 by id parity, on Hulu in the US), nothing cached;
    `env.tmdb_hits` lists the details asked for."""
    facts = await env.storage.movie_facts(env.guild.id)
    movies = await env.storage.get_movies(env.guild.id, [f.movie_id for f in facts])
    by_title = {(m.title, str(m.year)): m.id for m in movies.values()}
    hits: list[int] = []

    async def configuration(request: web.Request) -> web.Response:
        return web.json_response({"images": {"secure_base_url": "https://image.tmdb.org/t/p/"}})

    async def search(request: web.Request) -> web.Response:
        key = (request.query.get("query", ""), request.query.get("year", "None"))
        found = by_title.get(key)
        results = [] if found is None else [{"id": 10_000 + found, "title": key[0]}]
        return web.json_response({"page": 1, "results": results, "total_results": len(results)})

    async def details(request: web.Request) -> web.Response:
        tmdb_id = int(request.match_info["id"])
        hits.append(tmdb_id - 10_000)
        return web.json_response({"id": tmdb_id, "title": "x", "original_language": "en",
                                  "runtime": _runtime(tmdb_id - 10_000),
                                  "watch/providers": {"results": {"US": {"flatrate": [
                                      {"provider_name": "Hulu", "display_priority": 1}]}}}})

    app = web.Application()
    app.router.add_get("/3/configuration", configuration)
    app.router.add_get("/3/search/movie", search)
    app.router.add_get("/3/movie/{id}", details)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    services = env.bot.app
    looked = DetailsService.from_settings(env.storage, services.gate,
                                          TmdbSettings(api_key="k" * 20, base_url=url))
    looked.lookup_budget = 30.0  # a loaded machine: the test is about what, not how fast
    for holder in (services, services.picks, services.tonight, services.movie_pages):
        holder.details = looked
    services.pictures.posters = looked
    env.tmdb_hits = hits  # type: ignore[attr-defined]
    env.tmdb = looked  # type: ignore[attr-defined]
    try:
        yield env
    finally:
        await looked.close()
        await runner.cleanup()


async def test_filters_look_up_the_details_of_a_shortlist_and_say_what_is_unchecked(
        lookup_env: Env) -> None:
    env = lookup_env
    await _seeded(env)
    tonight = env.bot.app.tonight
    tonight.check_at_once = 8
    total = len(await env.storage.movie_facts(env.guild.id))
    assert total > 8 + 16  # more than the shortlist and the background lookups
    reply = await env.run(env.alice, "recommend", runtime_max=100, count=10)
    ids = await _ids(env)
    shown = _labels(reply.embed["description"])
    # Nothing was cached: what shows was looked up while the reply waited, and fits.
    assert shown and all(_runtime(ids[label]) <= 100 for label in shown)
    note = next(f["value"] for f in reply.embed["fields"] if f["name"] == "Tonight's filters")
    assert note.startswith(f"{total - 8} movies are left out because TMDB has not told me")
    await env.tmdb.settled()
    asked = list(env.tmdb_hits)
    assert len(asked) == len(set(asked)) <= 8 + 16  # bounded, each movie asked once
    cached = await env.storage.movie_details(asked)
    assert set(cached) == set(asked)
    # The shortlist came first: the movies the server rated most.
    rated = await env.storage.score_totals(env.guild.id)
    most = sorted(ids.values(), key=lambda m: (-rated.get(m, (0, 0))[1], m))[:8]
    assert set(most) <= set(asked)
    # Next time the cache answers for those and another shortlist is looked up.
    again = await env.run(env.alice, "recommend", runtime_max=100, count=10)
    later = next(f["value"] for f in again.embed["fields"] if f["name"] == "Tonight's filters")
    left = int(later.split(" ", 1)[0])
    assert left < total - 8
    # Group picks and a movie night say it too.
    group = await env.run(env.alice, "recommend", group=env.bob.mention, runtime_max=100)
    assert any(f["name"] == "Tonight's filters" and "left out because TMDB" in f["value"]
               for f in group.embed["fields"])
    assert all(_runtime(ids[x]) <= 100 for x in _labels(group.embed["description"]))
    env.guild.everyone.permissions &= ~Permissions.SEND_POLLS
    env.guild.bot_role.permissions &= ~Permissions.SEND_POLLS
    night = await env.run(env.alice, "movienight", members=env.bob.mention, candidates=2,
                          runtime_max=100)
    assert night.embed is not None, night.content
    assert "left out because TMDB has not told me" in night.content
    assert all(_runtime(ids[x]) <= 100 for x in _labels(night.embed["description"]))


async def test_each_pick_shows_where_to_watch_though_nothing_was_cached(
        lookup_env: Env) -> None:
    """Where to watch is looked up for the shown picks (not only read from the cache): group
    picks (no poster card looks anything up for them), the first page and "Show more"'s, each
    with the JustWatch credit."""
    env = lookup_env
    await _seeded(env)
    await env.storage.update_guild_settings(env.guild.id, region="US")
    group = await env.run(env.alice, "recommend", group=env.bob.mention, count=3)
    where = next(f["value"] for f in group.embed["fields"] if f["name"] == "Where to watch")
    assert where.count("stream: Hulu") == 3 and JUSTWATCH in where
    reply = await env.run(env.alice, "recommend", count=3)
    where = next(f["value"] for f in reply.embed["fields"] if f["name"] == "Where to watch")
    shown = _labels(reply.embed["description"])
    assert len(shown) == 3 and where.count("stream: Hulu") == 3
    assert where.rstrip().endswith(f"*Where to watch: {JUSTWATCH}.*")
    more = next(c for c in reply.walk_components() if c.get("type") == 2)
    click = await env.emu.click(env.alice, reply.id, more["custom_id"])
    await env.answer(click)  # the message edited to the next page
    assert (await click.response()).type in (6, 7)
    second = env.emu.message(reply.id).embed
    assert not set(_labels(second["description"])) & set(shown)
    where = next(f["value"] for f in second["fields"] if f["name"] == "Where to watch")
    assert where.count("stream: Hulu") == 3 and JUSTWATCH in where
    full = await env.run(env.alice, "recommend", count=10)  # every pick of a full page
    where = next(f["value"] for f in full.embed["fields"] if f["name"] == "Where to watch")
    assert where.count("stream: Hulu") == 10 and JUSTWATCH in where


STREAM_NOTE = "left out because TMDB has not told me where they stream yet"


async def test_source_streaming_looks_up_the_providers_of_a_shortlist(lookup_env: Env) -> None:
    """Nothing cached: `source:streaming` asks TMDB about the shortlist (every movie streams on
    Hulu in the US here) instead of finding no movie on the server's services, and says how
    many movies it left out unchecked (the rest: more than the shortlist here), as tonight's
    filters do, in /recommend, group picks and /movienight."""
    env = lookup_env
    await _seeded(env)
    tonight = env.bot.app.tonight
    tonight.check_at_once = 8
    total = len(await env.storage.movie_facts(env.guild.id))
    assert total > 3 * (8 + 16)  # unchecked ones are left after three replies' lookups
    await env.storage.update_guild_settings(env.guild.id, region="US", services="Hulu")
    reply = await env.run(env.alice, "recommend", source="streaming", count=5)
    assert reply.embeds, reply.content
    asked = set(env.tmdb_hits)
    ids = await _ids(env)
    shown = _labels(reply.embed["description"])
    assert shown and {ids[label] for label in shown} <= asked
    note = next(f["value"] for f in reply.embed["fields"] if f["name"] == "Tonight's filters")
    assert note.startswith(f"{total - 8} movies are {STREAM_NOTE}; I am looking some up")
    await env.tmdb.settled()  # the background lookups the note promised
    assert len(set(env.tmdb_hits)) > 8
    again = await env.run(env.alice, "recommend", source="streaming", count=5)
    later = next(f["value"] for f in again.embed["fields"] if f["name"] == "Tonight's filters")
    assert STREAM_NOTE in later and int(later.split(" ", 1)[0]) < total - 8
    group = await env.run(env.alice, "recommend", group=env.bob.mention, source="streaming")
    assert group.embeds, group.content
    assert {ids[x] for x in _labels(group.embed["description"])} <= set(env.tmdb_hits)
    assert any(f["name"] == "Tonight's filters" and STREAM_NOTE in f["value"]
               for f in group.embed["fields"])
    env.guild.everyone.permissions &= ~Permissions.SEND_POLLS
    env.guild.bot_role.permissions &= ~Permissions.SEND_POLLS
    night = await env.run(env.alice, "movienight", members=env.bob.mention, candidates=2,
                          source="streaming")
    assert night.embed is not None, night.content
    assert "stream: Hulu" in night.embed["description"]
    assert STREAM_NOTE in night.content
