"""A slow TMDB never holds up an answer (issue 20, row 13).

The attack: TMDB (or whatever `[tmdb] base_url` points at) answers slowly, and every /movies
info, /recommend and /movies add waited 11-15 s for it. The promise: a reply waits for TMDB at
most a short budget (`bot.service.details.LOOKUP_BUDGET`, 1.5 s; posters of a picture
`POSTER_BUDGET`) and then answers without details; the lookup goes on in the background into
the cache, where a later call finds it; one lookup per movie, and a bounded number at once.
Reproduced with the TMDB imitation holding every answer until the test releases it. The only
timing assertion is a generous one (well under the 10 s the old code took).
"""

from __future__ import annotations

import asyncio
import time

from tmdb_support import KEY, hostile_tmdb

from bot.config import TmdbSettings
from bot.domain.models import Movie
from bot.service.details import LOOKUP_BUDGET, MAX_BACKGROUND, DetailsService

GENEROUS = 6.0  # seconds: the budget is 1.5 s; the old code took over 10 s


def _with_tmdb(env, fake) -> DetailsService:
    app = env.bot.app
    app.details = DetailsService.from_settings(
        env.storage, app.gate, TmdbSettings(api_key=KEY, base_url=fake.url,
                                            test_image_origins=(fake.url,)))
    app.pictures.posters = app.details
    app.picks.details = app.details  # /recommend's top pick
    app.movie_pages.details = app.details  # /movies info
    return app.details


def _fields(reply) -> dict[str, str]:
    return {f["name"]: f["value"] for f in reply.embed.get("fields", [])}


async def _timed(env, member, command, **options):
    started = time.monotonic()
    reply = await env.answer(await env.slash(member, command, **options), wait=30)
    return reply, time.monotonic() - started


async def test_movies_info_answers_without_details_then_finds_them_cached(env):
    async with hostile_tmdb() as fake:
        fake.delay = 60.0
        details = _with_tmdb(env, fake)
        try:
            vertigo = await env.movie("Vertigo")
            first, second = await asyncio.gather(
                _timed(env, env.alice, "movies info", movie=f"#{vertigo.id}"),
                _timed(env, env.bob, "movies info", movie=f"#{vertigo.id}"))
            for reply, took in (first, second):
                assert reply.embed["title"] == "Vertigo (1958)"
                assert "Overview" not in _fields(reply) and "thumbnail" not in reply.embed
                assert took < GENEROUS, took
            assert fake.arrived["search"] == 1  # one lookup, shared by both members
            fake.released.set()  # TMDB answers at last: the lookup finishes in the background
            await details.settled()
            assert (await env.storage.movie_details([vertigo.id]))[vertigo.id].tmdb_id == 551
            later, _took = await _timed(env, env.alice, "movies info", movie=f"#{vertigo.id}")
            assert _fields(later)["Overview"] == "A detective with a fear of heights."
            assert later.embed["thumbnail"]["url"] == f"{fake.url}/t/p/w342/vertigo.jpg"
            assert fake.arrived["search"] == 1  # from the cache
        finally:
            await details.close()


async def test_recommend_and_movies_add_answer_without_waiting_for_tmdb(env):
    await env.seed_taste_clusters(env.guild, train=False)
    await env.seed(env.guild, {env.alice.id: {"Star Wars": 10, "Alien": 9, "Jaws": 8,
                                              "Superman": 9}})
    async with hostile_tmdb() as fake:
        fake.delay = 60.0
        details = _with_tmdb(env, fake)
        # Posters get a shorter wait here than by default (1 s), so that the card is drawn
        # within its own 1.5 s even on a busy test machine.
        details.poster_budget = 0.25
        try:
            top, took = await _timed(env, env.alice, "recommend", count=3)
            assert took < GENEROUS, took
            assert top.embed["title"] == "Your picks" and "thumbnail" not in top.embed
            assert top.attachment("picks.png").description.startswith("Your picks, as a card")
            added, took = await _timed(env, env.admin, "movies add", title="Slow Premiere",
                                       year=2021)
            assert took < GENEROUS, took
            assert added.content.startswith("Added **Slow Premiere (2021)**")
            assert not added.embeds  # no TMDB card this time
            fake.released.set()
            await details.settled()
            again, _took = await _timed(env, env.alice, "recommend", count=3)
            assert again.embed["thumbnail"]["url"].startswith(f"{fake.url}/t/p/w342/")
            assert again.attachment("picks.png").description.startswith("Posters of your picks")
            premiere = await env.movie("Slow Premiere")
            assert premiere.tmdb_id is not None  # linked once TMDB answered
        finally:
            await details.close()


async def test_a_slow_tmdb_cannot_pile_up_lookups(env):
    """40 movies asked at once: each caller is answered within the budget, and no more than
    MAX_BACKGROUND lookups run (or reach TMDB) however many are asked."""
    async with hostile_tmdb() as fake:
        fake.delay = 60.0
        details = _with_tmdb(env, fake)
        try:
            movies = [Movie(10_000 + i, f"Film {i}", 2000) for i in range(40)]
            found = await asyncio.gather(*(details.get(m) for m in movies))
            assert found == [None] * 40
            assert details.running <= MAX_BACKGROUND["details"]
            assert fake.arrived["search"] <= MAX_BACKGROUND["details"]
            posters = await details.posters(movies)  # a page of slow posters: none, quickly
            assert posters == {}
            assert details.running <= MAX_BACKGROUND["details"] + MAX_BACKGROUND["poster"]
            assert details.lookup_budget == LOOKUP_BUDGET
        finally:
            await details.close()
        assert details.running == 0  # closing ends what was still waiting
