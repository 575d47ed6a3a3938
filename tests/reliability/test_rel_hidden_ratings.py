"""Issue 20, rows 2 and 3: hidden ratings have no side channel, in text or pictures.

* Row 2: with ratings hidden, `/movies info` said "No ratings here yet" for a movie nobody
  else rated and "Hidden: fewer than 3 other members" for one 1-2 others rated, and showed
  "Predicted for you" only for movies someone rated: in a two-member server the other's rated
  set came out exactly. Now the whole reply is the same for 0, 1 or 2 other raters (and so is
  `/rate`'s: no "I predicted" that only a rated movie could have).
* Row 3: a big server's score chart came from per-movie counts cached up to 60 s, so right
  after a rating was removed the chart still drew three scores (two of them other members')
  while the text said "Hidden". Now a chart decides on the counts it draws, read when drawn.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.service import pictures as pictures_module

if TYPE_CHECKING:
    from conftest import Env

# Movies outside the seeded taste clusters: their raters are exactly the ones set here.
NOBODY, ONE, TWO = "Oldboy", "The Maltese Falcon", "The Day the Earth Stood Still"


def _without_the_movie(reply, movie) -> str:
    """The reply as the member sees it, minus what names the movie itself (title, year,
    genres)."""
    embed = reply.embed
    fields = [(f["name"], f["value"]) for f in embed.get("fields", [])
              if f["name"] not in ("Year", "Genres")]
    text = "\n".join(f"{name}: {value}" for name, value in fields)
    text += f"\nfooter={embed.get('footer')}\nimage={embed.get('image')}"
    text += f"\ncontent={reply.content!r}\nattachments={[a.filename for a in reply.attachments]}"
    return text.replace(movie.label, "<movie>")


async def _hidden_server(env: Env) -> dict[str, object]:
    await env.storage.update_guild_settings(env.guild.id, ratings_visible=False)
    await env.seed_taste_clusters(env.guild, train=False)
    movies = {title: await env.movie(title) for title in (NOBODY, ONE, TWO)}
    await env.seed(env.guild, {
        env.bob.id: {"Star Wars": 9, "Alien": 8, "Casablanca": 3},  # the one asking
        env.alice.id: {movies[ONE]: 9, movies[TWO]: 2, "Jaws": 7},
        env.carol.id: {movies[TWO]: 10, "Vertigo": 6},
    })
    return movies


async def test_row2_movies_info_is_the_same_for_0_1_or_2_other_raters(env: Env) -> None:
    movies = await _hidden_server(env)
    replies = {}
    for title, movie in movies.items():
        reply = await env.run(env.bob, "movies info", movie=f"#{movie.id}")
        assert reply.ephemeral
        replies[title] = _without_the_movie(reply, movie)
    assert replies[NOBODY] == replies[ONE] == replies[TWO], replies
    assert "Hidden: this server keeps ratings private" in replies[NOBODY]
    assert "Predicted for you" not in replies[NOBODY]


async def test_row2_rate_predicts_nothing_that_only_a_rated_movie_could_have(env: Env) -> None:
    movies = await _hidden_server(env)
    said = {}
    for title, movie in movies.items():
        reply = await env.run(env.bob, "rate", movie=f"#{movie.id}", score=6)
        said[title] = reply.content.replace(movie.label, "<movie>")
        await env.run(env.bob, "unrate", movie=f"#{movie.id}")
    assert said[NOBODY] == said[ONE] == said[TWO], said
    assert "predicted" not in said[ONE]


async def test_row3_a_chart_never_shows_what_the_text_hides(env: Env, monkeypatch) -> None:
    # Before the fix only servers over 200k ratings reused counts for up to 60 s: make this
    # one count as big (no effect once the charts read their counts when drawn).
    monkeypatch.setattr(pictures_module, "BIG_GUILD_RATINGS", 0, raising=False)
    await env.storage.update_guild_settings(env.guild.id, ratings_visible=False)
    movie = await env.movie(TWO)
    others = {env.alice.id: 9, env.carol.id: 2, env.dave.id: 7}
    await env.seed(env.guild, {uid: {movie: score} for uid, score in others.items()},
                   train=False)
    app = env.bot.app

    async def both():
        details = await app.catalog.details(env.guild.id, env.bob.id, movie)
        chart = await app.pictures.movie_distribution(env.guild.id, env.bob.id, movie)
        return details, chart

    details, chart = await both()  # three others: the average and the chart may show
    assert not details.aggregate_hidden and details.count == 3
    assert chart is not None and re.search(r"3 ratings", chart.alt)
    await env.storage.delete_rating(env.guild.id, env.dave.id, movie.id)  # dave unrates
    details, chart = await both()
    assert details.aggregate_hidden  # two others: hidden...
    assert chart is None  # ...and so is the chart (it drew alice's and carol's scores)
    # Visible again with a third rater: the chart shows exactly the current counts.
    await env.storage.upsert_rating(env.guild.id, env.dave.id, movie.id, 4)
    details, chart = await both()
    assert not details.aggregate_hidden and chart is not None
    assert "1: 0" not in chart.alt and "2: 1, 4: 1, 9: 1" in chart.alt
