"""End-to-end: every empty state names the next step that works (issue 21, item 7).

A new server's first member used to read "Nobody has rated a movie yet, so I have nothing to
go on" with thousands of movies installed. Now each empty answer points at what to do next —
find movies with `/movies search`, rate them with `/rate`, `/import` a history — and, when no
taste prior is installed, tells the bot's admins how to install one. The tests also follow the
advice: the named commands work on the same empty server.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.storage.models import PriorMovie

if TYPE_CHECKING:
    from conftest import Env

PRIOR_HINT = "python -m bot prior download small"


async def _install_prior(env: Env) -> None:
    """A prior row (what `prior status` and the empty answers look for); no guild model is
    fitted in these tests, so its blob is never read."""
    await env.storage.save_prior(b"blob", source="test", id_kind="movielens",
                                 movies=[PriorMovie(1, "Prior Film", 1990, n_ratings=3)],
                                 stored_keys=[1], links=[], dataset_users=1, dataset_ratings=3)


async def test_first_member_of_a_new_server_is_told_how_to_start(env: Env) -> None:
    reply = await env.run(env.alice, "recommend")
    text = reply.rendered_text()
    assert reply.ephemeral and "nothing to go on" not in text
    assert "`/rate`" in text and "`/movies search`" in text and "`/import`" in text
    # How many ratings unlock personal picks (one, now that a first rating gives picks).
    assert re.search(r"\d+ ratings? unlocks? personal picks", text), text
    assert PRIOR_HINT in text  # no prior installed: the admins are told how
    # The advice works: the catalog is searchable and a rating is taken.
    found = await env.run(env.alice, "movies search", query="star")
    assert "Star Wars (1977)" in found.rendered_text()
    rated = await env.run(env.alice, "rate", movie="Star Wars", score=9)
    assert "Star Wars (1977)" in rated.rendered_text()


async def test_with_a_prior_installed_the_admin_hint_is_left_out(env: Env) -> None:
    await _install_prior(env)
    text = (await env.run(env.alice, "recommend")).rendered_text()
    assert "`/rate`" in text and "`/movies search`" in text
    assert PRIOR_HINT not in text


async def test_empty_ratings_and_watchlist_say_what_fills_them(env: Env) -> None:
    ratings = await env.run(env.alice, "ratings")
    assert ratings.ephemeral
    assert "`/rate`" in ratings.content and "`/movies search`" in ratings.content
    watchlist = await env.run(env.alice, "watchlist show")
    assert watchlist.ephemeral and "`/watchlist add`" in watchlist.content


async def test_movie_night_on_a_new_server_says_how_to_start(env: Env) -> None:
    reply = await env.run(env.alice, "movienight", members=env.bob.mention)
    text = reply.rendered_text()
    assert "Nobody in this server has rated a movie yet" in text
    assert "`/rate`" in text and "`/movies search`" in text
    assert "then I can plan a movie night" in text and PRIOR_HINT in text
    group = await env.run(env.alice, "recommend", group=env.bob.mention)
    assert "`/movies search`" in group.rendered_text()


async def test_similar_for_a_movie_nobody_rated_says_to_rate_it(env: Env) -> None:
    await env.seed(env.guild, {env.bob.id: {"Star Wars": 9, "Alien": 8},
                               env.carol.id: {"Star Wars": 8, "Alien": 9}})
    reply = await env.run(env.alice, "similar", movie="Metropolis")
    text = reply.rendered_text()
    assert "can't place **Metropolis" in text
    assert "rate it with `/rate`" in text
