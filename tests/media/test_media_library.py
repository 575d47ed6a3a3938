"""The library, Seerr requests and "now available" notices against the imitations and a real
database (issue 25 items 3-5, 7): Jellyfin 12 and Plex libraries matched to the catalog,
`source:library` candidates, one Seerr request per movie as the mapped user (Seerr 3.2 and
3.3 user formats), one DM per opted-in member and movie, and the webhook's secret."""

from __future__ import annotations

import asyncio
import contextlib
import time

import aiohttp
import media_imitations as im  # tests/media/conftest.py registers it
import pytest

from bot.config import JellyfinSettings, PlexSettings, SeerrSettings, Settings
from bot.domain.library import NotifyTarget
from bot.media.seerr import SeerrClient
from bot.media.webhook import SeerrWebhook, available_movie
from bot.service.app import Services
from bot.service.library import NoLibrary
from bot.service.media import MediaProblem
from bot.service.requests import NoSeerrUser
from bot.service.sources import SourceUnavailable
from bot.storage import Storage

G, ALICE, BOB, CAROL = 10, 111, 222, 333


@pytest.fixture
async def servers():
    jellyfin, plex, seerr = im.FakeJellyfin(), im.FakePlex(), im.FakeSeerr()
    async with contextlib.AsyncExitStack() as stack:
        urls = {name: await stack.enter_async_context(im.serve(fake.app()))
                for name, fake in (("jellyfin", jellyfin), ("plex", plex), ("seerr", seerr))}
        yield jellyfin, plex, seerr, urls


async def _app(tmp_path, urls, fakes, *, jellyfin=True, plex=False) -> Services:
    jf, px, seerr = fakes
    storage = await Storage.open(tmp_path / "lib.sqlite3")
    settings = Settings(
        database=tmp_path / "lib.sqlite3",
        jellyfin=JellyfinSettings(urls["jellyfin"], jf.api_key) if jellyfin
        else JellyfinSettings(),
        plex=PlexSettings(urls["plex"], px.token) if plex else PlexSettings(),
        seerr=SeerrSettings(urls["seerr"], seerr.api_key))
    return Services.build(storage, settings)


@contextlib.asynccontextmanager
async def running(tmp_path, servers, **kwargs):
    jf, px, seerr, urls = servers
    app = await _app(tmp_path, urls, (jf, px, seerr), **kwargs)
    try:
        yield app
    finally:
        await app.media.close()
        await app.recommendations.close()
        await app.storage.close()


async def test_jellyfin_12_library_is_read_and_matched_to_the_catalog(tmp_path, servers):
    jf, _px, _seerr, _urls = servers
    jf.libraries = {
        "lib-movies": ("Movies", "movies", [
            im.library_item(1, tmdb=949, title="Heat", year=1995),
            im.library_item(2, imdb="tt1049413", title="Up", year=2009),
            im.library_item(3, title="Alien", year=1979)]),
        "lib-shows": ("Shows", "tvshows", [im.library_item(9, tmdb=1399, title="GoT")]),
    }
    async with running(tmp_path, servers) as app:
        heat = await app.storage.add_movie("Heat", 1995, tmdb_id=949)
        up = await app.storage.add_movie("Up", 2009, imdb_id="tt1049413")
        alien = await app.storage.add_movie("Alien", 1979)
        brazil = await app.storage.add_movie("Brazil", 1985, tmdb_id=68)
        read = await app.library.refresh()
        assert read.counts == {"jellyfin": 3} and read.added == 0
        assert jf.auth_forms["legacy"] == 0 and jf.seen["library_items"] == 1  # no TV folder
        found = await app.library.movies(G)
        assert set(found) == {heat.id, up.id, alien.id}
        assert found[heat.id].url == f"{jf_url(servers)}/web/#/details?id=lib1"
        assert await app.sources.candidates(G, "library") == {heat.id, up.id, alien.id}
        assert await app.sources.candidates(G, "library", {heat.id, brazil.id}) == {heat.id}
        assert await app.sources.candidates(G, "any", {brazil.id}) == {brazil.id}
        with pytest.raises(SourceUnavailable, match="TMDB key"):
            await app.sources.candidates(G, "streaming")
        marks = await app.sources.marks(G, {heat.id, brazil.id})
        assert marks is not None and set(marks) == {heat.id}


def jf_url(servers) -> str:
    return servers[3]["jellyfin"]


async def test_plex_library_sections(tmp_path, servers):
    _jf, px, _seerr, urls = servers
    px.metadata = {101: {"title": "Heat", "year": 1995, "tmdb": 949},
                   102: {"title": "Up", "year": 2009, "imdb": "tt1049413"},
                   201: {"title": "Some Show", "year": 2011, "tmdb": 1399}}
    px.sections = {1: ("Movies", "movie", [101, 102]), 2: ("TV", "show", [201])}
    async with running(tmp_path, servers, jellyfin=False, plex=True) as app:
        heat = await app.storage.add_movie("Heat", 1995, tmdb_id=949)
        up = await app.storage.add_movie("Up", 2009, imdb_id="tt1049413")
        assert (await app.library.refresh()).counts == {"plex": 2}
        found = await app.library.movies(G)
        assert set(found) == {heat.id, up.id}
        assert found[heat.id].url == (f"{urls['plex']}/web/index.html#!/server/abc123machine/"
                                      "details?key=%2Flibrary%2Fmetadata%2F101")


async def test_without_a_media_server_library_picks_say_so(tmp_path, servers):
    async with running(tmp_path, servers, jellyfin=False) as app:
        with pytest.raises(SourceUnavailable, match="No media server"):
            await app.sources.candidates(G, "library")
        with pytest.raises(NoLibrary):
            await app.library.refresh()
        assert await app.sources.marks(G, {1}) is None


async def test_a_new_library_item_notifies_opted_in_watchlisters_once(tmp_path, servers):
    jf, _px, _seerr, _urls = servers
    jf.libraries = {"m": ("Movies", "movies", [im.library_item(1, tmdb=949, title="Heat",
                                                               year=1995)])}
    async with running(tmp_path, servers) as app:
        heat = await app.storage.add_movie("Heat", 1995, tmdb_id=949)
        up = await app.storage.add_movie("Up", 2009, tmdb_id=14160)
        for user in (ALICE, BOB, CAROL):
            await app.watchlist.add(G, user, up)
        await app.watchlist.add(G, ALICE, heat)
        await app.notify.set(G, ALICE, True)
        await app.notify.set(G, BOB, True)
        sent: list[tuple[int, list[NotifyTarget]]] = []

        async def sender(user_id: int, targets: list[NotifyTarget]) -> bool:
            sent.append((user_id, targets))
            return True

        app.notify.sender = sender
        await app.library.refresh()  # the first read: Heat was there already, no DM
        assert sent == []
        alien = await app.storage.add_movie("Alien", 1979)  # no ids: by title and year
        await app.watchlist.add(G, BOB, alien)
        jf.libraries["m"][2].append(im.library_item(2, tmdb=14160, title="Up", year=2009))
        jf.libraries["m"][2].append(im.library_item(3, title="Alien", year=1979))
        read = await app.library.refresh(manual=True)
        assert read.added == 2
        assert sorted((u, sorted(t.label for t in ts)) for u, ts in sent) == [
            (ALICE, ["Up (2009)"]), (BOB, ["Alien (1979)", "Up (2009)"])]
        assert await app.notify.available([14160]) == 0  # the same movie again: nothing
        assert len(sent) == 2
        with pytest.raises(MediaProblem, match="moments ago"):
            await app.library.refresh(manual=True)


async def test_notices_skip_opted_out_and_a_closed_dm_does_not_stop_the_others(tmp_path,
                                                                              servers):
    async with running(tmp_path, servers) as app:
        heat = await app.storage.add_movie("Heat", 1995, tmdb_id=949)
        for user in (ALICE, BOB, CAROL):
            await app.watchlist.add(G, user, heat)
            await app.notify.set(G, user, True)
        await app.notify.set(G, CAROL, False)
        tried: list[int] = []

        async def sender(user_id: int, targets: list[NotifyTarget]) -> bool:
            tried.append(user_id)
            return user_id != ALICE  # Alice closed her DMs: the cog drops it, reports False

        app.notify.sender = sender
        assert await app.notify.available([949]) == 1
        assert sorted(tried) == [ALICE, BOB]
        assert await app.notify.available([949]) == 0 and len(tried) == 2


@pytest.mark.parametrize("version", ["3.2", "3.3"])
async def test_seerr_users_in_both_formats(servers, version):
    _jf, _px, seerr, urls = servers
    seerr.version = version
    seerr.users = {5: ("alice", ALICE), 6: ("nobody", None)}
    client = SeerrClient(urls["seerr"], seerr.api_key)
    try:
        users = {u.id: u.discord_ids for u in await client.users()}
    finally:
        await client.close()
    assert users == {5: (ALICE,), 6: ()}


@pytest.mark.parametrize("version", ["3.2", "3.3"])
async def test_one_press_makes_one_request_as_the_mapped_user(tmp_path, servers, version):
    _jf, _px, seerr, _urls = servers
    seerr.version = version
    seerr.users = {4: ("admin", None), 5: ("alice", ALICE), 6: ("bob", BOB)}
    async with running(tmp_path, servers) as app:
        heat = await app.storage.add_movie("Heat", 1995, tmdb_id=949)
        outcome = await app.requests.request(ALICE, heat)
        assert outcome.made and outcome.status == "pending" and outcome.seerr_user == "alice"
        assert seerr.requests == [{"mediaType": "movie", "mediaId": 949, "userId": 5}]
        again = await app.requests.request(BOB, heat)  # another member, the same movie
        assert not again.made and again.status == "pending"
        assert len(seerr.requests) == 1


async def test_concurrent_presses_make_exactly_one_request(tmp_path, servers):
    _jf, _px, seerr, _urls = servers
    seerr.users = {5: ("alice", ALICE), 6: ("bob", BOB)}
    seerr.request_delay = 0.2
    seerr.auto_approve = True
    async with running(tmp_path, servers) as app:
        heat = await app.storage.add_movie("Heat", 1995, tmdb_id=949)
        outcomes = await asyncio.gather(*(app.requests.request(user, heat)
                                          for user in (ALICE, ALICE, BOB, ALICE)))
        assert sum(o.made for o in outcomes) == 1 and len(seerr.requests) == 1
        assert [o.status for o in outcomes if o.made] == ["approved"]


async def test_available_or_pending_movies_are_not_requested_again(tmp_path, servers):
    _jf, _px, seerr, _urls = servers
    seerr.users = {5: ("alice", ALICE)}
    seerr.status = {949: 5, 550: 2}
    async with running(tmp_path, servers) as app:
        heat = await app.storage.add_movie("Heat", 1995, tmdb_id=949)
        club = await app.storage.add_movie("Fight Club", 1999, tmdb_id=550)
        assert (await app.requests.request(ALICE, heat)).status == "available"
        assert (await app.requests.request(ALICE, club)).status == "pending"
        assert seerr.requests == []


async def test_members_without_a_seerr_user_are_told_how(tmp_path, servers):
    _jf, _px, seerr, _urls = servers
    seerr.users = {5: ("alice", ALICE)}
    async with running(tmp_path, servers) as app:
        heat = await app.storage.add_movie("Heat", 1995, tmdb_id=949)
        no_id = await app.storage.add_movie("Brazil", 1985)
        with pytest.raises(NoSeerrUser, match="Discord user ID"):
            await app.requests.request(BOB, heat)
        with pytest.raises(MediaProblem, match="TMDB id"):
            await app.requests.request(ALICE, no_id)
        assert seerr.requests == [] and await app.storage.seerr_request(949) is None


async def test_a_failed_request_can_be_tried_again(tmp_path, servers):
    _jf, _px, seerr, _urls = servers
    seerr.users = {5: ("alice", ALICE)}
    async with running(tmp_path, servers) as app:
        heat = await app.storage.add_movie("Heat", 1995, tmdb_id=949)
        await app.requests.seerr_user(ALICE)  # the user list is read (and kept a minute)
        key, seerr.api_key = seerr.api_key, "rotated"  # then Seerr refuses the request
        with pytest.raises(MediaProblem):
            await app.requests.request(ALICE, heat)
        seerr.api_key = key
        assert (await app.requests.request(ALICE, heat)).made
        assert len(seerr.requests) == 1


def test_only_movie_available_notices_count():
    assert available_movie({"notification_type": "MEDIA_AVAILABLE",
                            "media": {"media_type": "movie", "tmdbId": "949"}}) == 949
    assert available_movie({"notification_type": "MEDIA_AVAILABLE",
                            "media": {"media_type": "tv", "tmdbId": "1399"}}) is None
    assert available_movie({"notification_type": "TEST_NOTIFICATION"}) is None
    assert available_movie(["not", "an", "object"]) is None


async def test_the_webhook_wants_the_secret():
    got: list[int] = []
    done = asyncio.Event()

    async def on_available(tmdb: int) -> None:
        got.append(tmdb)
        done.set()

    hook = SeerrWebhook("s3cret-webhook", on_available, host="127.0.0.1", port=0)
    port = await hook.start()
    url = f"http://127.0.0.1:{port}/seerr"
    body = {"notification_type": "MEDIA_AVAILABLE",
            "media": {"media_type": "movie", "tmdbId": "949"}}
    try:
        async with aiohttp.ClientSession() as http:
            for header in ({}, {"Authorization": "wrong"}):
                async with http.post(url, json=body, headers=header) as resp:
                    assert resp.status == 401
            async with http.post(url, data=b"{", headers={"Authorization": "s3cret-webhook"}
                                 ) as resp:
                assert resp.status == 400
            async with http.post(url, json={"notification_type": "TEST_NOTIFICATION"},
                                 headers={"Authorization": "s3cret-webhook"}) as resp:
                assert resp.status == 204
            async with http.post(url, json=body,
                                 headers={"Authorization": "Bearer s3cret-webhook"}) as resp:
                assert resp.status == 202
            await asyncio.wait_for(done.wait(), 5)
    finally:
        await hook.close()
    assert got == [949]


async def test_the_library_is_read_when_due_and_then_every_library_hours_jittered(tmp_path,
                                                                                  servers):
    jf, _px, _seerr, _urls = servers
    jf.libraries = {"m": ("Movies", "movies", [im.library_item(1, tmdb=949)])}
    async with running(tmp_path, servers) as app:
        assert (await app.library.refresh_due(now=1000.0)) is not None  # at start: at once
        hours = app.library.settings.media.library_hours * 3600
        due = app.library.next_read_at
        assert 0.9 * hours - 60 <= due - time.time() <= 1.1 * hours  # ±10 % jitter
        assert await app.library.refresh_due(now=due - 1) is None
        reads = jf.seen["folders"]
        assert await app.library.refresh_due(now=due + 1) is not None
        assert jf.seen["folders"] == reads + 1


async def test_a_slow_request_does_not_hold_up_another_movies(tmp_path, servers):
    _jf, _px, seerr, _urls = servers
    seerr.users = {5: ("alice", ALICE)}
    seerr.hold[949] = asyncio.Event()  # Seerr takes its time over Heat
    async with running(tmp_path, servers) as app:
        heat = await app.storage.add_movie("Heat", 1995, tmdb_id=949)
        up = await app.storage.add_movie("Up", 2009, tmdb_id=14160)
        slow = asyncio.create_task(app.requests.request(ALICE, heat))
        await asyncio.wait_for(seerr.held.wait(), 10)  # Heat's POST reached Seerr
        quick = await asyncio.wait_for(app.requests.request(ALICE, up), 10)  # not stuck
        assert quick.made and not slow.done()
        seerr.hold[949].set()
        assert (await slow).made
        assert [r["mediaId"] for r in seerr.requests] == [14160, 949]
