"""A linked history's movies the server's catalog lacks (issue 25 item 2): with a TMDB key they
are found on TMDB (by TMDB id, IMDb id through /3/find, then title + year) and added to the
server's catalog, within its movie cap; without one they stay listed as unmatched and the
summary says a key would add them. Against the TMDB imitation of tests/e2e/test_e2e_tmdb.py."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from pathlib import Path

import media_imitations as im  # tests/media/conftest.py registers it
import pytest

from bot.config import LimitSettings, TmdbSettings
from tests.media.test_media_service import ALICE, G, _catalog, _services, fakes  # noqa: F401


def _tmdb_support():
    name = "media_tmdb_support"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "reliability" / "tmdb_support.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


support = _tmdb_support()


@pytest.fixture
async def tmdb():
    fake = support.FakeTmdb()
    async with support.serve(fake.app()) as url:
        fake.url = url
        yield fake


async def _app(tmp_path, fakes, tmdb=None, **overrides):  # noqa: F811
    if tmdb is not None:
        overrides["tmdb"] = TmdbSettings(api_key=support.KEY, base_url=tmdb.url)
    return await _services(tmp_path, fakes, **overrides)


async def _close(app) -> None:
    await app.media.close()
    await app.recommendations.close()
    await app.details.close()
    await app.storage.close()


def _history(tmdb, known) -> list[dict]:
    """One catalog movie, one known to TMDB by its id (under another title), one by its IMDb
    id only, one by title + year only, and one TMDB does not know."""
    tmdb.generic[4242] = "A Brand New Film"
    tmdb.years[4242] = 2021
    tmdb.generic[4343] = "Found By Imdb"
    tmdb.years[4343] = 2019
    tmdb.imdb["tt0434343"] = 4343
    return [im.movie_item(0, tmdb=known.tmdb_id),
            im.movie_item(1, tmdb=4242, title="Ein ganz neuer Film", year=2021),
            im.movie_item(2, imdb="tt0434343", title="Trouvé par IMDb", year=2019),
            im.movie_item(3, title="Searched Title", year=2018),
            im.movie_item(4, title="Jaws", year=2033)]  # the imitation has no Jaws


async def test_unknown_movies_are_added_to_the_servers_catalog_from_tmdb(tmp_path, fakes,  # noqa: F811
                                                                          tmdb):
    app = await _app(tmp_path, fakes, tmdb)
    try:
        [known] = await _catalog(app, 1)
        fakes.jellyfin.played["u-alice"] = _history(tmdb, known)
        _link, summary, problem = await app.media.link_listed(G, ALICE, "jellyfin", "Alice")
        assert problem == "" and summary is not None
        assert summary.text() == ("imported 4 watched, 0 ratings, 1 unmatched, 3 added to "
                                  "this server's catalog from TMDB")
        assert summary.unmatched == ("Jaws (2033)",) and summary.tmdb
        assert tmdb.hits["find"] == 1  # the IMDb id went through /3/find
        added = {m.title: m for m in await app.storage.search_movies(G, "Found By Imdb")}
        movie = added["Found By Imdb"]
        assert (movie.year, movie.tmdb_id, movie.imdb_id, movie.guild_id) == (
            2019, 4343, "tt0434343", G)
        assert set(movie.genres) == {"Animation", "Sci-Fi"}  # TMDB's name, MovieLens's
        new = await app.storage.movies_by_tmdb(G, {4242, 4343})
        seen = set(await app.storage.seen_movie_ids(G, ALICE))
        assert {known.id, new[4242].id, new[4343].id} <= seen and len(seen) == 4
        assert new[4242].title == "A Brand New Film"  # TMDB's title, not the server's
        # only this server's catalog grew
        assert await app.storage.movies_by_tmdb(G + 1, {4242}) == {}
        # The next sync matches them by id; the movie TMDB does not know is not asked again.
        asked = sum(tmdb.hits.values())
        again = await app.media.sync_now(G, ALICE, "jellyfin")
        assert (again.watched, again.added, again.unmatched) == (4, 0, ("Jaws (2033)",))
        assert sum(tmdb.hits.values()) == asked
    finally:
        await _close(app)


async def test_without_a_tmdb_key_they_stay_unmatched_and_the_summary_says_so(tmp_path,
                                                                              fakes):  # noqa: F811
    app = await _app(tmp_path, fakes)
    try:
        [known] = await _catalog(app, 1)
        fakes.jellyfin.played["u-alice"] = [
            im.movie_item(0, tmdb=known.tmdb_id),
            im.movie_item(1, tmdb=4242, title="A Brand New Film", year=2021)]
        _link, summary, _problem = await app.media.link_listed(G, ALICE, "jellyfin", "Alice")
        assert summary is not None and not summary.tmdb and summary.added == 0
        assert summary.unmatched == ("A Brand New Film (2021)",)
        link = await app.storage.media_link(G, ALICE, "jellyfin")
        assert "with a TMDB key the bot would add them" in link.sync_summary
        assert await app.storage.movies_by_tmdb(G, {4242}) == {}
    finally:
        await _close(app)


async def test_the_servers_movie_cap_bounds_what_is_added(tmp_path, fakes, tmdb):  # noqa: F811
    app = await _app(tmp_path, fakes, tmdb)
    app.media.settings = replace(app.media.settings, limits=LimitSettings(guild_movie_cap=1))
    try:
        [known] = await _catalog(app, 1)
        fakes.jellyfin.played["u-alice"] = _history(tmdb, known)
        _link, summary, _problem = await app.media.link_listed(G, ALICE, "jellyfin", "Alice")
        assert summary is not None and summary.added == 1
        assert summary.watched == 2 and len(summary.unmatched) == 3
        assert await app.storage.count_guild_movies(G) == 1
    finally:
        await _close(app)


async def test_a_failing_tmdb_leaves_them_unmatched_and_asks_again_next_time(tmp_path, fakes,  # noqa: F811
                                                                            tmdb):
    app = await _app(tmp_path, fakes, tmdb)
    try:
        [known] = await _catalog(app, 1)
        fakes.jellyfin.played["u-alice"] = _history(tmdb, known)
        tmdb.broken = True
        _link, summary, problem = await app.media.link_listed(G, ALICE, "jellyfin", "Alice")
        assert problem == "" and summary is not None
        assert summary.watched == 1 and len(summary.unmatched) == 4 and summary.added == 0
        tmdb.broken = False
        again = await app.media.sync_now(G, ALICE, "jellyfin")
        assert again.added == 3 and again.unmatched == ("Jaws (2033)",)
    finally:
        await _close(app)


async def test_a_slow_tmdb_cannot_hold_a_sync_past_its_budget(tmp_path, fakes, monkeypatch):  # noqa: F811
    """TMDB answering slowly: the sync stops asking after TMDB_SYNC_SECONDS, lists the rest as
    unmatched and finishes; they are looked up at a later sync."""
    import bot.service.media as media

    monkeypatch.setattr(media, "TMDB_SYNC_SECONDS", 0.3)
    async with support.hostile_tmdb() as slow:
        slow.delay = 30.0  # every answer waits (until released)
        app = await _app(tmp_path, fakes, slow)
        try:
            [known] = await _catalog(app, 1)
            fakes.jellyfin.played["u-alice"] = _history(slow, known)
            _link, summary, problem = await app.media.link_listed(G, ALICE, "jellyfin",
                                                                  "Alice")
            assert problem == "" and summary is not None
            assert summary.watched == 1 and summary.added == 0 and len(summary.unmatched) == 4
            slow.released.set()  # TMDB answers again
            again = await app.media.sync_now(G, ALICE, "jellyfin")
            assert again.added == 3
        finally:
            await _close(app)
