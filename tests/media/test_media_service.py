"""MediaService against the imitations and a real database (starter catalog): linking only
listed accounts, the sync (matching, seen, ratings and their source), Trakt's token refresh
and revoke, unlink and forget."""

from __future__ import annotations

import contextlib
from dataclasses import replace

import media_imitations as im  # tests/media/conftest.py registers it
import numpy as np
import pytest

from bot.catalog.starter import ensure_starter_catalog
from bot.config import (
    JellyfinSettings,
    MediaSettings,
    PlexSettings,
    SecuritySettings,
    Settings,
    TrainingSettings,
    TraktSettings,
)
from bot.media.secrets import TokenBox
from bot.service.app import Services
from bot.service.media import MediaProblem, NotConfigured
from bot.storage import Storage

G, ALICE, BOB = 10, 1, 2


class Fakes:
    def __init__(self) -> None:
        self.jellyfin = im.FakeJellyfin()
        self.plex = im.FakePlex()
        self.trakt = im.FakeTrakt()
        self.letterboxd = im.FakeLetterboxd()
        self.urls: dict[str, str] = {}


@pytest.fixture
async def fakes():
    fakes = Fakes()
    async with contextlib.AsyncExitStack() as stack:
        for name in ("jellyfin", "plex", "trakt", "letterboxd"):
            fakes.urls[name] = await stack.enter_async_context(
                im.serve(getattr(fakes, name).app()))
        yield fakes


async def _services(tmp_path, fakes: Fakes, **overrides) -> Services:
    storage = await Storage.open(tmp_path / "media.sqlite3")
    await ensure_starter_catalog(storage)
    settings = Settings(
        database=tmp_path / "media.sqlite3",
        training=TrainingSettings(debounce_seconds=0.0),
        jellyfin=JellyfinSettings(fakes.urls["jellyfin"], fakes.jellyfin.api_key),
        plex=PlexSettings(fakes.urls["plex"], fakes.plex.token),
        trakt=TraktSettings(fakes.trakt.client_id, fakes.trakt.client_secret,
                            base_url=fakes.urls["trakt"]),
        media=MediaSettings(letterboxd_url=fakes.urls["letterboxd"]))
    settings = replace(settings, **overrides)
    services = Services.build(storage, settings)

    async def instant(_seconds: float) -> None:
        return None

    services.media.clients.trakt_options = {"sleep": instant, "clock": lambda: fakes.trakt.now}
    return services


@pytest.fixture
async def app(tmp_path, fakes):
    services = await _services(tmp_path, fakes)
    yield services
    await services.media.close()
    await services.recommendations.close()
    await services.storage.close()


async def _catalog(app: Services, n: int, start: int = 1):
    """Starter catalog movies `start..start+n-1`, each given TMDB id 1000 + its id."""
    movies = []
    for movie_id in range(start, start + n):
        await app.storage.link_movie_ids(movie_id, 1000 + movie_id, None)
        movies.append(await app.storage.get_movie(G, movie_id))
    return movies


async def test_jellyfin_links_only_a_listed_user_then_syncs_its_history(app, fakes):
    movies = await _catalog(app, 40)
    fakes.jellyfin.played["u-alice"] = [
        im.movie_item(i, tmdb=m.tmdb_id) for i, m in enumerate(movies[:30])] + [
        im.movie_item(100 + i, title=m.title, year=m.year) for i, m in enumerate(movies[30:])
    ] + [im.movie_item(999, title="Not In Any Catalog", year=2031)]
    with pytest.raises(MediaProblem, match="no user named"):
        await app.media.link_listed(G, ALICE, "jellyfin", "Mallory")
    assert [a.name for a in await app.media.suggest("jellyfin", "ali")] == ["Alice"]
    link, summary, problem = await app.media.link_listed(G, ALICE, "jellyfin", "alice")
    assert problem == "" and summary is not None
    assert (link.account_id, link.account_name) == ("u-alice", "Alice")
    assert summary.text() == "imported 40 watched, 0 ratings, 1 unmatched"
    assert summary.unmatched == ("Not In Any Catalog (2031)",)
    assert set(await app.storage.seen_movie_ids(G, ALICE)) == {m.id for m in movies}
    status = {s.service: s for s in await app.media.status(G, ALICE)}
    assert status["jellyfin"].account_name == "Alice" and status["jellyfin"].next_sync_at
    assert "Not In Any Catalog (2031)" in status["jellyfin"].summary
    # Another member cannot claim the same Jellyfin user.
    with pytest.raises(MediaProblem, match="already linked by another member"):
        await app.media.link_listed(G, BOB, "jellyfin", "Alice")


async def test_seen_movies_never_come_back_in_recommend(app, fakes):
    movies = await _catalog(app, 60)
    rng = np.random.default_rng(1)
    for member in range(100, 112):  # others who rated the first 60 movies
        for movie in movies:
            await app.storage.upsert_rating(G, member, movie.id, int(rng.integers(1, 11)))
    for movie in movies[:5]:
        await app.storage.upsert_rating(G, ALICE, movie.id, 8)
    picks = await app.recommendations.recommend(G, ALICE, n=40)
    before = [p.movie_id for p in picks.items]
    assert before
    fakes.jellyfin.played["u-alice"] = [
        im.movie_item(i, tmdb=1000 + m) for i, m in enumerate(before)]
    await app.media.link_listed(G, ALICE, "jellyfin", "Alice")
    after = await app.recommendations.recommend(G, ALICE, n=40)
    assert not set(before) & {p.movie_id for p in after.items}
    assert after.items  # other movies fill in


async def test_watched_without_rating_shapes_the_members_picks(app, fakes):
    """A member who rated nothing but linked a history gets personal picks from it: 20
    watched movies of one taste block bring the rest of that block, never the 20."""
    movies = await _catalog(app, 80)
    block_a, block_b = movies[:40], movies[40:]
    rng = np.random.default_rng(2)
    for member in range(100, 130):  # half like each block
        own, other = (block_a, block_b) if member % 2 else (block_b, block_a)
        for i in rng.choice(len(own), 20, replace=False):
            await app.storage.upsert_rating(G, member, own[i].id, int(rng.integers(7, 11)))
        for i in rng.choice(len(other), 2, replace=False):
            await app.storage.upsert_rating(G, member, other[i].id, int(rng.integers(3, 7)))
    await app.recommendations.rating_changed(G, 100)
    await app.recommendations.wait_idle(G)
    cold = await app.recommendations.recommend(G, ALICE, n=10)
    assert not cold.personal  # no ratings, nothing linked: the server's favourites
    watched = block_a[:20]
    fakes.jellyfin.played["u-alice"] = [im.movie_item(i, tmdb=m.tmdb_id)
                                        for i, m in enumerate(watched)]
    await app.media.link_listed(G, ALICE, "jellyfin", "Alice")
    assert await app.storage.count_member_ratings(G, ALICE) == 0
    picks = await app.recommendations.recommend(G, ALICE, n=10)
    got = {p.movie_id for p in picks.items}
    assert picks.personal and len(got) == 10
    assert not got & {m.id for m in watched}  # never recommended back
    assert len(got & {m.id for m in block_a}) >= 8  # the watched block's neighbours


async def test_trakt_ratings_become_ratings_but_the_members_own_win(app, fakes):
    movies = await _catalog(app, 3)
    await app.ratings.rate(G, ALICE, movies[0], 2)  # /rate
    fakes.trakt.history = [{"title": m.title, "year": m.year, "tmdb": m.tmdb_id}
                           for m in movies]
    fakes.trakt.ratings = [{"title": m.title, "year": m.year, "tmdb": m.tmdb_id, "rating": 9}
                           for m in movies[:2]]
    reports: list[tuple] = []

    async def report(*args) -> None:
        reports.append(args)

    code = await app.media.begin_trakt(G, ALICE, report)
    assert code.verification_url == "https://trakt.tv/activate"
    assert app.media.trakt_pending(G, ALICE)
    fakes.trakt.approve(code.user_code)
    await app.media._pending[(G, ALICE)].task
    [(account, summary, problem)] = reports
    assert (account, problem) == ("alice_t", "")
    assert summary.text() == ("imported 3 watched, 1 rating, 0 unmatched "
                              "(1 of your own ratings kept)")
    assert await app.storage.get_rating(G, ALICE, movies[0].id) == 2  # theirs, kept
    assert await app.storage.get_rating(G, ALICE, movies[1].id) == 9
    link = await app.storage.media_link(G, ALICE, "trakt")
    assert link.access_token.startswith("plain:")  # no secret key: stored as is (0600 file)


async def _link_trakt(app, fakes) -> None:
    async def report(*_args) -> None:
        return None

    code = await app.media.begin_trakt(G, ALICE, report)
    fakes.trakt.approve(code.user_code)
    await app.media._pending[(G, ALICE)].task


async def test_a_sync_refreshes_the_trakt_token_before_it_expires(app, fakes):
    await _link_trakt(app, fakes)
    first = await app.storage.media_link(G, ALICE, "trakt")
    fakes.trakt.now += 20 * 3600  # 4 h left of the 24 h token
    await app.media.sync_now(G, ALICE, "trakt")
    fresh = await app.storage.media_link(G, ALICE, "trakt")
    assert fakes.trakt.seen["refresh"] == 1 and fakes.trakt.seen["expired_token"] == 0
    assert fresh.access_token != first.access_token
    assert fresh.token_expires_at == fakes.trakt.now + 86_400
    fakes.trakt.rate_limit(1)  # one 429: waited out, the sync still succeeds
    await app.media.sync_now(G, ALICE, "trakt")
    assert fakes.trakt.seen["429"] == 1 and app.media.clients.trakt().backoffs == [1.0]


async def test_unlink_revokes_the_trakt_token_and_removes_its_ratings(app, fakes):
    movies = await _catalog(app, 2)
    fakes.trakt.history = [{"title": m.title, "year": m.year, "tmdb": m.tmdb_id}
                           for m in movies]
    fakes.trakt.ratings = [{"title": movies[0].title, "tmdb": movies[0].tmdb_id, "rating": 7}]
    await _link_trakt(app, fakes)
    token = app.media.box.open((await app.storage.media_link(G, ALICE, "trakt")).access_token)
    assert await app.storage.get_rating(G, ALICE, movies[0].id) == 7
    gone = await app.media.unlink(G, ALICE, "trakt")
    assert gone is not None and gone.revoked and gone.ratings_removed == 1
    assert fakes.trakt.revoked == [token]
    assert await app.storage.get_rating(G, ALICE, movies[0].id) is None
    assert await app.storage.seen_movie_ids(G, ALICE) == []
    assert await app.media.unlink(G, ALICE, "trakt") is None


async def test_forget_removes_links_history_and_revokes_tokens(app, fakes):
    movies = await _catalog(app, 2)
    fakes.trakt.history = [{"title": m.title, "year": m.year, "tmdb": m.tmdb_id}
                           for m in movies]
    fakes.letterboxd.feeds["alice_lb"] = [{"title": movies[0].title, "year": movies[0].year,
                                           "tmdb": movies[0].tmdb_id, "rating": 4}]
    await _link_trakt(app, fakes)
    await app.media.link_letterboxd(G, ALICE, "alice_lb")
    assert await app.storage.get_rating(G, ALICE, movies[0].id) == 8  # 4 stars
    await app.ratings.forget_all(G, ALICE)
    assert await app.storage.media_links(G, ALICE) == []
    assert await app.storage.seen_movie_ids(G, ALICE) == []
    assert await app.storage.count_member_ratings(G, ALICE) == 0
    await app.media.close()  # waits for the background revoke
    assert len(fakes.trakt.revoked) == 1


async def test_letterboxd_needs_a_valid_existing_username(app, fakes):
    with pytest.raises(MediaProblem, match="not a Letterboxd username"):
        await app.media.link_letterboxd(G, ALICE, "no spaces allowed")
    with pytest.raises(MediaProblem, match="no member named nobody"):
        await app.media.link_letterboxd(G, ALICE, "nobody")
    assert await app.storage.media_links(G, ALICE) == []


async def test_a_service_the_admin_did_not_configure_says_what_to_set(tmp_path, fakes):
    services = await _services(tmp_path, fakes, jellyfin=JellyfinSettings(),
                               plex=PlexSettings(), trakt=TraktSettings())
    try:
        for service in ("jellyfin", "plex", "trakt"):
            with pytest.raises(NotConfigured) as refused:
                services.media.require(service)
            assert f"[{service}]" in str(refused.value)
            assert f"MOVIEBOT_{service.upper()}_" in str(refused.value)
        with pytest.raises(NotConfigured):
            await services.media.link_listed(G, ALICE, "jellyfin", "Alice")
        assert await services.media.suggest("plex", "") == []
        services.media.require("letterboxd")  # public: always available
    finally:
        await services.media.close()
        await services.recommendations.close()
        await services.storage.close()


async def test_a_failed_sync_is_recorded_and_retried_later(app, fakes):
    await app.media.link_listed(G, ALICE, "plex", "alice")
    fakes.plex.token = "rotated"  # the admin's token no longer works
    with pytest.raises(MediaProblem, match="refused the bot's credentials"):
        await app.media.sync_now(G, ALICE, "plex")
    link = await app.storage.media_link(G, ALICE, "plex")
    assert link.sync_summary.startswith("last sync failed") and link.next_sync_at is not None
    assert "rotated" not in link.sync_summary


def test_token_box_without_a_key_or_without_cryptography():
    box = TokenBox("")
    assert box.open(box.seal("tok")) == "tok" and not box.note
    keyed = TokenBox("a-secret-key-0123456789")
    sealed = keyed.seal("tok")
    assert keyed.open(sealed) == "tok"
    if keyed.encrypts:
        assert "tok" not in sealed and TokenBox("another-key-0123").open(sealed) is None
    else:
        assert "cryptography" in keyed.note


async def test_settings_with_a_secret_key_seal_tokens(tmp_path, fakes):
    services = await _services(tmp_path, fakes,
                               security=SecuritySettings("a-secret-key-0123456789"))
    try:
        assert services.media.box.encrypts or services.media.box.note
    finally:
        await services.media.close()
        await services.recommendations.close()
        await services.storage.close()


async def test_periodic_syncs_cover_due_links_of_own_guilds_only(app, fakes):
    fakes.letterboxd.feeds["a_lb"] = [{"title": "Casablanca", "year": 1942}]
    fakes.letterboxd.feeds["b_lb"] = [{"title": "Casablanca", "year": 1942}]
    await app.media.link_letterboxd(G, ALICE, "a_lb")
    await app.media.link_letterboxd(G + 1, ALICE, "b_lb")
    seen_before = dict(fakes.letterboxd.seen)
    assert await app.media.sync_due() == 0  # nothing due yet
    app.media.owns = lambda guild_id: guild_id == G  # a cluster owning only G
    later = (await app.storage.media_link(G, ALICE, "letterboxd")).next_sync_at + 3600 * 2
    assert await app.media.sync_due(now=later) == 1
    assert fakes.letterboxd.seen["a_lb"] == seen_before["a_lb"] + 1
    assert fakes.letterboxd.seen["b_lb"] == seen_before["b_lb"]
    link = await app.storage.media_link(G, ALICE, "letterboxd")
    assert link.next_sync_at > link.synced_at + 6 * 3600 * 0.85  # jittered 6 h


async def test_purging_a_departed_server_revokes_its_trakt_tokens(app, fakes):
    await _link_trakt(app, fakes)
    token = app.media.box.open((await app.storage.media_link(G, ALICE, "trakt")).access_token)
    await app.storage.mark_guild_left(G, 0.0)
    assert await app.guilds.purge_departed(keep=[]) == [G]
    assert await app.storage.media_links(G, ALICE) == []
    await app.media.close()  # waits for the background revoke
    assert fakes.trakt.revoked == [token]


async def test_a_long_sync_interval_refreshes_earlier(tmp_path, fakes):
    """With syncs 24 h apart a token with 20 h left would expire before the next one: it is
    refreshed now."""
    services = await _services(tmp_path, fakes, media=MediaSettings(
        sync_hours=24, letterboxd_url=fakes.urls["letterboxd"]))
    try:
        fakes.trakt.device_token_age = 4 * 3600
        await _link_trakt(services, fakes)
        assert fakes.trakt.seen["refresh"] == 1
        link = await services.storage.media_link(G, ALICE, "trakt")
        assert link.token_expires_at == fakes.trakt.now + 86_400
    finally:
        await services.media.close()
        await services.recommendations.close()
        await services.storage.close()


async def test_autocomplete_never_waits_long_for_a_slow_server(app, fakes, monkeypatch):
    import asyncio

    import bot.service.media as media

    monkeypatch.setattr(media, "SUGGEST_WAIT", 0.05)
    fakes.jellyfin.hold_users = asyncio.Event()
    assert await app.media.suggest("jellyfin", "a") == []  # gave up waiting: no suggestions
    fakes.jellyfin.hold_users.set()
    await app.media._listing["jellyfin"]  # the list kept loading in the background
    assert [a.name for a in await app.media.suggest("jellyfin", "a")] == ["Alice"]
    assert fakes.jellyfin.seen["users"] == 1


async def test_trakt_tokens_not_kept_are_revoked(app, fakes):
    """Linking Trakt again revokes the old token; a token granted for an account another
    member linked is revoked at once, and nothing is linked."""
    await _link_trakt(app, fakes)
    first = app.media.box.open((await app.storage.media_link(G, ALICE, "trakt")).access_token)
    await _link_trakt(app, fakes)
    second = app.media.box.open((await app.storage.media_link(G, ALICE, "trakt")).access_token)
    reports: list[tuple] = []

    async def report(*args) -> None:
        reports.append(args)

    code = await app.media.begin_trakt(G, BOB, report)  # the same Trakt user, for bob
    fakes.trakt.approve(code.user_code)
    await app.media._pending[(G, BOB)].task
    assert reports[0][0] is None and "already linked by another member" in reports[0][2]
    assert await app.storage.media_link(G, BOB, "trakt") is None
    await app.media.close()  # waits for the background revokes
    assert first in fakes.trakt.revoked and second not in fakes.trakt.revoked
    assert len(fakes.trakt.revoked) == 2  # the old one, and bob's
