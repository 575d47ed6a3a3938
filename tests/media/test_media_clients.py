"""The media clients against their local imitations (tests/media/imitations.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
import media_imitations as im  # tests/media/conftest.py registers it
import pytest

from bot.media.jellyfin import JellyfinClient, parse_time
from bot.media.letterboxd import LetterboxdClient, parse_feed, valid_username
from bot.media.models import AccountNotFound, MediaUnavailable, to_scale
from bot.media.plex import PlexClient
from bot.media.trakt import DeviceFlowEnded, GetBudget, TraktClient, TraktToken


class Sleeps:
    """An injected sleep: records each wait and moves a clock instead of waiting."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


# ------------------------------------------------------------------------- Jellyfin
@pytest.mark.parametrize("version", ["10.11", "12"])
async def test_jellyfin_users_and_played_movies_with_the_authorization_header_only(version):
    fake = im.FakeJellyfin(version=version)
    fake.disabled.add("u-bob")
    fake.played["u-alice"] = [im.movie_item(n, tmdb=100 + n, imdb=f"tt{1000000 + n}")
                              for n in range(40)]
    async with im.serve(fake.app()) as url:
        client = JellyfinClient(url, fake.api_key)
        try:
            users = await client.users()
            watched = await client.watched("u-alice")
        finally:
            await client.close()
    assert [(u.id, u.name) for u in users] == [("u-alice", "Alice")]  # disabled left out
    assert len(watched) == 40
    assert watched[0].tmdb_id == 100 and watched[0].imdb_id == "tt1000000"
    assert watched[0].rating_1_10 is None and watched[0].watched_at is not None
    assert fake.auth_forms == {"header": 2}  # never X-Emby-Token or api_key


async def test_jellyfin_12_refuses_the_legacy_forms_10_11_accepts():
    for version, legacy_status in (("12", 401), ("10.11", 200)):
        fake = im.FakeJellyfin(version=version)
        async with im.serve(fake.app()) as url, aiohttp.ClientSession() as session:
            async with session.get(f"{url}/Users",
                                   headers={"X-Emby-Token": fake.api_key}) as resp:
                assert resp.status == legacy_status
            async with session.get(f"{url}/Users", params={"api_key": fake.api_key}) as resp:
                assert resp.status == legacy_status
            async with session.get(f"{url}/Users", headers={
                    "Authorization": f'MediaBrowser Token="{fake.api_key}"'}) as resp:
                assert resp.status == 200


async def test_jellyfin_pages_a_long_history_and_a_wrong_key_is_a_clear_error(monkeypatch):
    import bot.media.jellyfin as jellyfin

    monkeypatch.setattr(jellyfin, "PAGE", 7)
    fake = im.FakeJellyfin()
    fake.played["u-alice"] = [im.movie_item(n) for n in range(30)]
    async with im.serve(fake.app()) as url:
        client = JellyfinClient(url, fake.api_key)
        wrong = JellyfinClient(url, "wrong-key-123456")
        try:
            assert len(await client.watched("u-alice")) == 30
            assert fake.seen["items"] == 5
            with pytest.raises(MediaUnavailable) as failed:
                await wrong.users()
        finally:
            await client.close()
            await wrong.close()
    assert "401" in str(failed.value) and "wrong-key" not in str(failed.value)


def test_jellyfin_times_with_seven_fractional_digits():
    assert parse_time("2025-01-02T20:00:00.1234567Z") == datetime(2025, 1, 2, 20, 0, 0, 123456,
                                                                  tzinfo=UTC)
    assert parse_time("garbage") is None


# ------------------------------------------------------------------------- Plex
async def test_plex_accounts_and_history_with_the_owners_ratings_only():
    fake = im.FakePlex()
    fake.metadata = {11: {"title": "The Matrix", "year": 1999, "tmdb": 603,
                          "imdb": "tt0133093", "userRating": 9.0},
                     12: {"title": "Alien", "year": 1979, "tmdb": 348, "userRating": 4.0}}
    fake.history = {1: [(11, 1_700_000_000), (12, 1_700_000_100), (11, 1_600_000_000)],
                    2: [(12, 1_700_000_200)]}
    async with im.serve(fake.app()) as url:
        client = PlexClient(url, fake.token)
        try:
            accounts = await client.accounts()
            owner = await client.watched("1")
            other = await client.watched("2")
        finally:
            await client.close()
    assert [(a.id, a.name) for a in accounts] == [("1", "admin"), ("2", "alice")]
    assert [(m.title, m.tmdb_id, m.rating_1_10) for m in owner] == [
        ("Alien", 348, 4), ("The Matrix", 603, 9)]  # once each, newest first
    assert owner[1].imdb_id == "tt0133093"
    assert [(m.title, m.rating_1_10) for m in other] == [("Alien", None)]


# ------------------------------------------------------------------------- Trakt
async def test_trakt_device_flow_then_history_and_ratings():
    fake = im.FakeTrakt()
    fake.history = [{"title": "The Matrix", "year": 1999, "tmdb": 603, "imdb": "tt0133093"},
                    {"title": "Alien", "year": 1979, "tmdb": 348}]
    fake.ratings = [{"title": "The Matrix", "year": 1999, "tmdb": 603, "rating": 9},
                    {"title": "Jaws", "year": 1975, "tmdb": 578, "rating": 6}]
    sleeps = Sleeps()
    async with im.serve(fake.app()) as url:
        client = TraktClient(fake.client_id, fake.client_secret, url, sleep=sleeps,
                             clock=lambda: fake.now)
        try:
            code = await client.device_code()
            assert code.verification_url == "https://trakt.tv/activate"
            assert await client.poll_token(code.device_code) is None  # not approved yet
            fake.approve(code.user_code)
            token = await client.poll_token(code.device_code)
            assert isinstance(token, TraktToken)
            assert token.expires_at == fake.now + 86_400
            assert token.access_token not in repr(token)
            with pytest.raises(DeviceFlowEnded):  # a code is used once
                await client.poll_token(code.device_code)
            account = await client.account(token.access_token)
            watched = await client.watched(token.access_token)
        finally:
            await client.close()
    assert account.name == "alice_t"
    by_title = {m.title: m for m in watched}
    assert set(by_title) == {"The Matrix", "Alien", "Jaws"}
    assert by_title["The Matrix"].rating_1_10 == 9 and by_title["Alien"].rating_1_10 is None
    assert by_title["Jaws"].tmdb_id == 578


async def test_trakt_refreshes_a_token_before_it_expires():
    fake = im.FakeTrakt()
    async with im.serve(fake.app()) as url:
        client = TraktClient(fake.client_id, fake.client_secret, url, sleep=Sleeps(),
                             clock=lambda: fake.now)
        try:
            code = await client.device_code()
            fake.approve(code.user_code)
            token = await client.poll_token(code.device_code)
            assert token is not None
            same, refreshed = await client.fresh(token)
            assert same is token and not refreshed and fake.seen["refresh"] == 0
            fake.now += 13 * 3600  # 11 h left of 24: refreshed before the next 6 h sync
            new, refreshed = await client.fresh(token)
            assert refreshed and new.access_token != token.access_token
            assert new.expires_at == fake.now + 86_400
            assert fake.tokens[token.access_token] > fake.now  # the old one had not expired
            await client.account(new.access_token)
            assert fake.seen["expired_token"] == 0
        finally:
            await client.close()


async def test_trakt_backs_off_on_429_for_retry_after_then_succeeds():
    fake = im.FakeTrakt()
    fake.history = [{"title": "Alien", "year": 1979, "tmdb": 348}]
    sleeps = Sleeps()
    async with im.serve(fake.app()) as url:
        client = TraktClient(fake.client_id, fake.client_secret, url, sleep=sleeps,
                             clock=lambda: fake.now)
        try:
            code = await client.device_code()
            fake.approve(code.user_code)
            token = await client.poll_token(code.device_code)
            assert token is not None
            fake.rate_limit(2, retry_after="300")  # Cloudflare's
            watched = await client.watched(token.access_token)
            assert [m.title for m in watched] == ["Alien"]
            assert client.backoffs == [300.0, 300.0]
            assert 300.0 in sleeps.waits
            fake.rate_limit(10)  # past the retries: a clear error, no endless loop
            with pytest.raises(MediaUnavailable, match="rate limiting"):
                await client.watched(token.access_token)
        finally:
            await client.close()


async def test_trakt_get_budget_waits_for_the_window():
    sleeps = Sleeps()
    budget = GetBudget(3, 300.0, clock=sleeps.clock, sleep=sleeps)
    for _ in range(3):
        await budget.acquire()
    assert sleeps.waits == []
    await budget.acquire()  # the 4th within 5 minutes waits for the first to age out
    assert sleeps.waits == [300.0]


async def test_trakt_revoke_tells_trakt():
    fake = im.FakeTrakt()
    async with im.serve(fake.app()) as url:
        client = TraktClient(fake.client_id, fake.client_secret, url, sleep=Sleeps(),
                             clock=lambda: fake.now)
        try:
            code = await client.device_code()
            fake.approve(code.user_code)
            token = await client.poll_token(code.device_code)
            assert token is not None
            assert await client.revoke(token.access_token)
        finally:
            await client.close()
    assert fake.revoked == [token.access_token]


# ------------------------------------------------------------------------- Letterboxd
def test_letterboxd_feed_ratings_and_list_items(fixtures):
    movies = parse_feed((fixtures / "letterboxd_rss.xml").read_bytes())
    assert [(m.title, m.year, m.tmdb_id, m.rating_1_10) for m in movies] == [
        ("The Matrix", 1999, 603, 9), ("Alien", 1979, 348, None), ("Jaws", 1975, 578, 1)]
    assert movies[1].watched_at == datetime(2025, 2, 14, tzinfo=UTC)


async def test_letterboxd_client_reads_a_feed_and_names_a_missing_member():
    fake = im.FakeLetterboxd({"film_fan": [
        {"title": "Alien", "year": 1979, "tmdb": 348, "rating": 5},
        {"title": "My list", "kind": "list"}]})
    async with im.serve(fake.app()) as url:
        client = LetterboxdClient(url)
        try:
            movies = await client.watched("film_fan")
            with pytest.raises(AccountNotFound, match="no member"):
                await client.watched("nobody_here")
            with pytest.raises(AccountNotFound):
                await client.watched("../../etc")  # never requested
        finally:
            await client.close()
    assert [(m.title, m.rating_1_10) for m in movies] == [("Alien", 10)]
    assert set(fake.seen) == {"film_fan", "nobody_here"}


def test_scales_and_usernames():
    assert [to_scale(v, 5) for v in (0.5, 1, 2.5, 4.5, 5)] == [1, 2, 5, 9, 10]
    assert [to_scale(v, 10) for v in (1, 7.5, 10, 0, 11, "x", None)] == [
        1, 8, 10, None, None, None, None]
    assert valid_username("@Film_Fan") == "Film_Fan"
    assert valid_username("a") is None and valid_username("bad name") is None


def test_seerr_users_discord_ids_in_both_formats():
    from bot.media.seerr import discord_ids

    assert discord_ids({"discordIds": ["123", "456"]}) == (123, 456)  # Seerr 3.3+
    assert discord_ids({"discordId": "789"}) == (789,)  # before
    assert discord_ids({"discordId": ""}) == () and discord_ids(None) == ()
