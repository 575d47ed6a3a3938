"""End-to-end: the media server's library, Seerr requests and "now available" DMs through the
emulator (issue 25 items 3-5, 7), with the bot configured against local imitations of
Jellyfin 12 and Seerr (tests/media/imitations.py) and its Seerr webhook listener on a local
port: `/recommend source:library` shows only library movies; one Request press makes one
Seerr request as the member's Seerr user (two presses at once too); one MEDIA_AVAILABLE
event DMs each opted-in watchlister once, nobody opted out, nothing on a repeat, and a member
with closed DMs is skipped quietly."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import re
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

import aiohttp
import pytest

from bot.config import JellyfinSettings, SeerrSettings

if TYPE_CHECKING:
    from conftest import Env


def _imitations():
    if "media_imitations" not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "media" / "imitations.py"
        spec = importlib.util.spec_from_file_location("media_imitations", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return sys.modules["media_imitations"]


im = _imitations()
SECRET = "webhook-secret-0123456789"
TMDB_BASE = 70_000


@pytest.fixture
def fakes():
    return SimpleNamespace(jellyfin=im.FakeJellyfin(version="12"), seerr=im.FakeSeerr(),
                           ports={name: im.free_port() for name in ("jellyfin", "seerr",
                                                                    "webhook")})


@pytest.fixture
def e2e_settings(fakes):
    url = {name: f"http://127.0.0.1:{port}" for name, port in fakes.ports.items()}
    return {"jellyfin": JellyfinSettings(url["jellyfin"], fakes.jellyfin.api_key),
            "seerr": SeerrSettings(url["seerr"], fakes.seerr.api_key, webhook_secret=SECRET,
                                   webhook_host="127.0.0.1",
                                   webhook_port=fakes.ports["webhook"])}


@pytest.fixture
async def served(fakes):
    async with contextlib.AsyncExitStack() as stack:
        for name in ("jellyfin", "seerr"):
            await stack.enter_async_context(im.serve(getattr(fakes, name).app(),
                                                     fakes.ports[name]))
        yield fakes


def _select(reply, placeholder: str) -> dict:
    return next(c for c in reply.walk_components()
                if c.get("type") == 3 and c.get("placeholder", "").startswith(placeholder))


def _button(reply, label: str) -> str:
    return next(b["custom_id"] for b in reply.buttons if b.get("label") == label)


async def _catalog(env: Env, served, in_library: int = 15) -> tuple[list, list]:
    """80 rated catalog movies, each with a TMDB id; the first `in_library` of alice's
    candidates are in the Jellyfin library (two thirds by TMDB id, the rest by title+year)."""
    catalog = [await env.storage.get_movie(env.guild.id, i) for i in range(1, 81)]
    ratings = {env.FAN_BASE + u: {m: 1 + (u * 7 + i * 3) % 10 for i, m in enumerate(catalog)}
               for u in range(10)}
    ratings[env.alice.id] = {m: 9 - i for i, m in enumerate(catalog[:5])}
    await env.seed(env.guild, ratings)
    for movie in catalog:
        await env.storage.link_movie_ids(movie.id, TMDB_BASE + movie.id, None)
    rest = catalog[5:]
    library = rest[::4][:in_library]
    by_id = library[:10]
    served.jellyfin.libraries = {"lib-movies": ("Movies", "movies", [
        *(im.library_item(i, tmdb=TMDB_BASE + m.id, title=m.title, year=m.year or 2000)
          for i, m in enumerate(by_id)),
        *(im.library_item(100 + i, title=m.title, year=m.year or 2000)
          for i, m in enumerate(library[10:]))])}
    return catalog, library


async def test_source_library_picks_only_library_movies_and_marks_them(served, env: Env):
    _catalog_movies, library = await _catalog(env, served)
    read = await env.run(env.owner, "library refresh")
    assert read.ephemeral and "Jellyfin: 15 movies" in read.content
    assert served.jellyfin.auth_forms["legacy"] == 0
    ids = {m.id for m in library}

    reply = await env.run(env.alice, "recommend", count=25, source="library")
    options = _select(reply, "Rate one")["options"]
    assert options and {int(o["value"]) for o in options} <= ids
    text = reply.rendered_text()
    assert "in the library" in text and "not in the library" not in text
    assert f"http://127.0.0.1:{served.ports['jellyfin']}/web/#/details?id=lib" in text
    assert not [c for c in reply.walk_components()
                if c.get("placeholder", "").startswith("Request")]  # nothing to request

    anywhere = await env.run(env.alice, "recommend", count=25)
    shown = {int(o["value"]) for o in _select(anywhere, "Rate one")["options"]}
    assert shown - ids and "not in the library" in anywhere.rendered_text()
    request = {int(o["value"]) for o in _select(anywhere, "Request on Seerr")["options"]}
    assert request == shown - ids

    streaming = await env.run(env.alice, "recommend", source="streaming")
    assert streaming.ephemeral and "TMDB key" in streaming.content


async def test_movienight_source_library_picks_only_library_movies(served, env: Env):
    """`/movienight source:library` (issue 25 item 3): every candidate is in the library."""
    _catalog_movies, library = await _catalog(env, served)
    await env.run(env.owner, "library refresh")
    reply = await env.run(env.alice, "movienight", members=env.bob.mention, candidates=5,
                          source="library")
    shown = [m.group(1) for line in reply.embed["description"].splitlines()
             if (m := re.match(r"^\d+\. \*\*(.+?)\*\*", line))]
    assert len(shown) == 5
    assert set(shown) <= {m.label for m in library}


async def test_one_request_press_is_one_seerr_request_as_the_members_seerr_user(served,
                                                                               env: Env):
    served.seerr.version = "3.2"  # settings.discordId (3.3's discordIds: tests/media)
    served.seerr.users = {1: ("admin", None), 7: ("alice-seerr", env.alice.id),
                          8: ("bob-seerr", env.bob.id)}
    served.seerr.request_delay = 0.3  # long enough for two presses to overlap
    await _catalog(env, served)
    await env.run(env.owner, "library refresh")
    reply = await env.run(env.alice, "recommend", count=10)
    select = _select(reply, "Request on Seerr")
    first, second = select["options"][0], select["options"][1]

    ask = await (await env.emu.select(env.alice, reply.id, select["custom_id"],
                                      [first["value"]])).response()
    assert ask.ephemeral and "Request it on Seerr?" in ask.content
    done = await env.answer(await env.emu.click(env.alice, ask, _button(ask, "Request")))
    assert done.ephemeral and "Requested **" in done.content and "alice-seerr" in done.content
    assert "waiting for approval" in done.content
    movie_id = int(first["value"])
    assert served.seerr.requests == [{"mediaType": "movie", "mediaId": TMDB_BASE + movie_id,
                                      "userId": 7}]

    ask2 = await (await env.emu.select(env.alice, reply.id, select["custom_id"],
                                       [second["value"]])).response()
    presses = await asyncio.gather(*(env.emu.click(env.alice, ask2, _button(ask2, "Request"))
                                     for _ in range(2)))
    answers = [await env.answer(p) for p in presses]
    assert len(served.seerr.requests) == 2  # one more, not two
    assert served.seerr.requests[1]["mediaId"] == TMDB_BASE + int(second["value"])
    assert sorted("requested already" in a.content for a in answers) == [False, True]

    # bob asks for alice's movie: Seerr has it pending, nothing is sent again
    bob_reply = await env.run(env.bob, "recommend", count=25)
    bob_select = _select(bob_reply, "Request on Seerr")
    if str(movie_id) in [o["value"] for o in bob_select["options"]]:
        ask3 = await (await env.emu.select(env.bob, bob_reply.id, bob_select["custom_id"],
                                           [str(movie_id)])).response()
        again = await env.answer(await env.emu.click(env.bob, ask3, _button(ask3, "Request")))
        assert "requested already" in again.content
    assert len(served.seerr.requests) == 2

    carol = await env.run(env.carol, "recommend", count=10)
    carol_select = _select(carol, "Request on Seerr")
    ask4 = await (await env.emu.select(env.carol, carol.id, carol_select["custom_id"],
                                       [carol_select["options"][0]["value"]])).response()
    refused = await env.answer(await env.emu.click(env.carol, ask4, _button(ask4, "Request")))
    assert refused.ephemeral and "not linked to a Seerr user" in refused.content
    assert len(served.seerr.requests) == 2


async def _post(port: int, body: dict, secret: str = SECRET) -> int:
    async with aiohttp.ClientSession() as http, http.post(
            f"http://127.0.0.1:{port}/seerr", json=body,
            headers={"Authorization": secret}) as resp:
        return resp.status


async def test_an_availability_event_dms_each_opted_in_watchlister_once(served, env: Env):
    movie = await env.movie("Heat")
    await env.storage.link_movie_ids(movie.id, 949, None)
    for member in (env.alice, env.bob, env.carol, env.dave):
        await env.storage.watchlist_add(env.guild.id, member.id, movie.id)
    for member in (env.alice, env.bob, env.dave):
        on = await env.run(member, "notify on")
        assert on.ephemeral and "I'll DM you" in on.content
    await env.run(env.carol, "notify on")
    off = await env.run(env.carol, "notify off")
    assert "no more" in off.content
    env.emu.world.closed_dms.add(env.dave.id)  # dave closed his DMs: dropped quietly
    notify = env.bot.app.notify
    port = served.ports["webhook"]
    event = {"notification_type": "MEDIA_AVAILABLE", "subject": "Heat (1995)",
             "media": {"media_type": "movie", "tmdbId": "949", "status": "AVAILABLE"}}

    assert await _post(port, event, "wrong-secret") == 401
    assert await _post(port, event) == 202
    await env.emu.wait_until(lambda: notify.handled >= 1 or None, 10, "the DMs")

    def dms(member) -> list:
        channel = env.emu.world.dm_channels.get(member.id)
        return [r for r in env.emu.sent_messages if channel is not None and r.message
                and int(r.message["channel_id"]) == channel.id]

    for member in (env.alice, env.bob):
        [dm] = dms(member)
        assert "Now available" in dm.content and "Heat" in dm.content
        assert "Film Club" in dm.content and dm.allowed_mentions["parse"] == []
    assert dms(env.carol) == [] and dms(env.dave) == []
    assert env.dave.id in env.emu.world.dm_channels  # tried: the 50007 was dropped
    assert notify.delivered == 2

    assert await _post(port, event) == 202  # the same event again
    await env.emu.wait_until(lambda: notify.handled >= 2 or None, 10, "the repeat")
    assert len(dms(env.alice)) == 1 and len(dms(env.bob)) == 1 and notify.delivered == 2


async def test_runtime_max_with_source_library_keeps_short_library_movies(served, env: Env):
    """Issue 26: `runtime_max:100 source:library` shows only library movies of 100 minutes or
    less (runtimes from the TMDB details cache, seeded as a bot that showed them has them; TMDB
    itself is a local address that answers nothing)."""
    import time

    from aiohttp import web

    from bot.config import TmdbSettings
    from bot.domain.models import MovieDetails
    from bot.service.details import DetailsService

    catalog, library = await _catalog(env, served)
    await env.run(env.owner, "library refresh")
    runtime = {m.id: 95 if m.id % 2 == 0 else 130 for m in catalog}
    for movie in catalog:
        await env.storage.save_movie_details(MovieDetails(
            movie.id, TMDB_BASE + movie.id, time.time(), runtime=runtime[movie.id]))
    async def unknown(request: web.Request) -> web.Response:
        return web.json_response({"status_code": 34}, status=404)

    nothing = web.Application()
    nothing.router.add_route("*", "/{tail:.*}", unknown)
    port = im.free_port()
    async with im.serve(nothing, port):
        services = env.bot.app
        details = DetailsService.from_settings(
            env.storage, services.gate,
            TmdbSettings(api_key="k" * 20, base_url=f"http://127.0.0.1:{port}"))
        for holder in (services, services.picks, services.tonight, services.movie_pages):
            holder.details = details
        try:
            reply = await env.run(env.alice, "recommend", count=25, source="library",
                                  runtime_max=100)
        finally:
            await details.close()
    shown = {int(o["value"]) for o in _select(reply, "Rate one")["options"]}
    in_library = {m.id for m in library}
    assert shown and shown <= in_library
    assert all(runtime[m] <= 100 for m in shown)
