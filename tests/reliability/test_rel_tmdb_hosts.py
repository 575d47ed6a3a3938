"""Posters come only from TMDB's image host, never through a redirect, never too large
(issue 20, row 14).

Attacks reproduced against the real bot with the TMDB imitation: the API names another image
host (the bot used to download from it and show it as the thumbnail); the image host answers a
redirect to another host (the bot used to follow it); a poster far over the size cap. The
promise: a fixed allow-list of image origins (`bot.tmdb.IMAGE_ORIGINS`, plus the imitation's
only where a test says so), no redirect followed, a size cap.
"""

from __future__ import annotations

import pytest
from tmdb_support import KEY, POSTER_PNG, elsewhere_host, hostile_tmdb

from bot.config import TmdbSettings
from bot.domain.models import Movie
from bot.service.details import DetailsService
from bot.tmdb import MAX_IMAGE_BYTES, TmdbClient, TmdbUnavailable


async def _with_tmdb(env, fake) -> DetailsService:
    app = env.bot.app
    app.details = DetailsService.from_settings(
        env.storage, app.gate, TmdbSettings(api_key=KEY, base_url=fake.url,
                                            test_image_origins=(fake.url,)))
    app.pictures.posters = app.details
    app.picks.details = app.details  # /recommend's top pick
    app.movie_pages.details = app.details  # /movies info
    return app.details


async def _recommend_card(env):
    await env.seed_taste_clusters(env.guild, train=False)
    await env.seed(env.guild, {env.alice.id: {"Star Wars": 10, "Alien": 9, "Jaws": 8,
                                              "Superman": 9}})
    return await env.run(env.alice, "recommend", count=3)


async def test_an_image_host_named_by_the_api_outside_the_allow_list_is_never_used(env):
    async with hostile_tmdb() as fake, elsewhere_host() as (other, other_url):
        fake.image_base = f"{other_url}/t/p/"
        details = await _with_tmdb(env, fake)
        try:
            vertigo = await env.movie("Vertigo")
            reply = await env.run(env.alice, "movies info", movie=f"#{vertigo.id}")
            fields = {f["name"]: f["value"] for f in reply.embed.get("fields", [])}
            assert fields["Runtime"] == "2 h 08 min"  # the details are kept...
            assert "thumbnail" not in reply.embed  # ...the foreign poster URL is not
            assert (await env.storage.movie_details([vertigo.id]))[vertigo.id].poster_url \
                is None
            top = await _recommend_card(env)
            assert "thumbnail" not in top.embed
            assert top.attachment("picks.png").description.startswith("Your picks, as a card")
            assert other.hits == {}  # nothing ever reached the other host
        finally:
            await details.close()


async def test_a_poster_redirect_to_another_host_is_not_followed(env):
    async with hostile_tmdb() as fake, elsewhere_host() as (other, other_url):
        fake.redirect_posters_to = f"{other_url}/stolen.png"
        details = await _with_tmdb(env, fake)
        try:
            top = await _recommend_card(env)
            assert top.embed["thumbnail"]["url"].startswith(f"{fake.url}/t/p/w342/")
            assert fake.hits["poster"] >= 1  # asked the allowed host...
            assert top.attachment("picks.png").description.startswith("Your picks, as a card")
            assert other.hits == {}  # ...and never went where it pointed
            assert details.client is not None
            with pytest.raises(TmdbUnavailable, match="302"):
                await details.client.image(f"{fake.url}/t/p/w342/vertigo.jpg")
            assert other.hits == {}
        finally:
            await details.close()


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_poster_over_the_size_cap_is_refused(chunked: bool) -> None:
    async with hostile_tmdb() as fake:
        fake.poster_bytes, fake.poster_chunked = 4 * MAX_IMAGE_BYTES, chunked
        client = TmdbClient(KEY, fake.url, test_image_origins=(fake.url,))
        try:
            with pytest.raises(TmdbUnavailable, match="too large"):
                await client.image(f"{fake.url}/t/p/w342/vertigo.jpg")
            fake.poster_bytes = 0
            assert await client.image(f"{fake.url}/t/p/w342/vertigo.jpg") == POSTER_PNG
        finally:
            await client.close()


async def test_only_tmdbs_image_host_is_allowed_without_an_explicit_test_setting() -> None:
    async with hostile_tmdb() as fake:
        client = TmdbClient(KEY, fake.url)  # what the config file can give: no test origins
        try:
            assert client.image_allowed("https://image.tmdb.org/t/p/w342/abc.jpg")
            for url in ("http://image.tmdb.org/t/p/w342/abc.jpg",  # no downgrade
                        "https://image.tmdb.org.example.com/t/p/w342/abc.jpg",
                        "https://image.tmdb.org:8443/t/p/w342/abc.jpg",
                        "https://user@evil.example/t/p/w342/abc.jpg",
                        "file:///etc/passwd", "not a url",
                        f"{fake.url}/t/p/w342/vertigo.jpg"):
                assert not client.image_allowed(url), url
            with pytest.raises(TmdbUnavailable, match="allowed image hosts"):
                await client.image(f"{fake.url}/t/p/w342/vertigo.jpg")
            assert client.requests == 0 and fake.hits["poster"] == 0
            # And the lookup does not name a poster on the imitation's host.
            found = await client.lookup(Movie(1, "Vertigo", 1958))
            assert found.runtime == 128 and found.poster_url is None
        finally:
            await client.close()


async def test_an_api_redirect_is_not_followed_so_the_key_stays_home() -> None:
    async with hostile_tmdb() as fake, elsewhere_host() as (other, other_url):
        fake.redirect_api_to = f"{other_url}/3/movie/551"
        client = TmdbClient(KEY, fake.url, test_image_origins=(fake.url,))
        try:
            with pytest.raises(TmdbUnavailable, match="302"):
                await client.lookup(Movie(1, "Vertigo", 1958))
            assert other.hits == {}  # the API key never went to the other host
        finally:
            await client.close()
