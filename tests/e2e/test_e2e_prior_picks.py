"""End-to-end: picks beyond the server's ratings once a taste prior is installed (issue 23,
item 1). The prior is built from a generated MovieLens-format dataset whose films are starter
catalog films (sci-fi fans and romance fans), linked by title and year, installed as
`python -m bot prior build PATH` does; then, through the emulator:

* the first member of a brand-new server gets personal picks from one rating, the films
  nobody in the server rated marked "new to this server";
* three new members get a movie night from three ratings;
* without a prior the empty states say how to install one.
"""

from __future__ import annotations

import csv
import io
import re
from typing import TYPE_CHECKING

import numpy as np

from bot.prior.build import build_from_path

if TYPE_CHECKING:
    from conftest import Env

LINE_RE = re.compile(r"^\d+\. \*\*(?P<label>.+?)\*\*")
NEW_HERE = "new to this server"
INSTALL = "python -m bot prior download small"


def _lines(reply) -> list[str]:
    return [line for line in reply.embed["description"].splitlines() if LINE_RE.match(line)]


def _label(line: str) -> str:
    m = LINE_RE.match(line)
    assert m is not None
    return m.group("label")


async def install_prior(env: Env) -> None:
    """300 public-dataset users: odd ones love the sci-fi films, even ones the romances."""
    folder = env.tmp_path / "ml-generated"
    folder.mkdir()
    films = [await env.movie(title) for title in (*env.SCIFI, *env.ROMANCE)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["movieId", "title", "genres"])
    for key, film in enumerate(films, start=1):
        writer.writerow([key, f"{film.title} ({film.year})", "Drama"])
    (folder / "movies.csv").write_text(out.getvalue())
    rng = np.random.default_rng(5)
    n = len(env.SCIFI)
    rows = ["userId,movieId,rating,timestamp"]
    for user in range(1, 301):
        liked = range(1, n + 1) if user % 2 else range(n + 1, 2 * n + 1)
        for key in liked:
            if rng.random() < 0.7:
                rows.append(f"{user},{key},{rng.choice([4.0, 4.5, 5.0])},0")
    (folder / "ratings.csv").write_text("\n".join(rows) + "\n")
    await build_from_path(env.storage, folder, err=io.StringIO(), features=3,
                          max_iterations=60)


async def test_first_member_of_a_new_server_gets_picks_from_one_rating(env: Env) -> None:
    await install_prior(env)
    rated = await env.run(env.alice2, "rate", movie="Star Wars", score=10)
    assert "10/10" in rated.rendered_text()
    await env.train(env.guild2)
    reply = await env.run(env.alice2, "recommend", count=5)
    assert reply.embed is not None, reply.rendered_text()
    assert reply.embed["title"] == "Your picks"
    lines = _lines(reply)
    assert len(lines) == 5
    labels = [_label(line) for line in lines]
    assert not any(label.startswith("Star Wars") for label in labels)
    scifi = {f"{m.title} ({m.year})" for m in [await env.movie(t) for t in env.SCIFI]}
    assert sum(label in scifi for label in labels[:4]) >= 3, labels  # the rating's taste
    assert all(NEW_HERE in line for line in lines)  # nobody in Other Guild rated them


async def test_movie_night_for_three_new_members_finds_candidates(env: Env) -> None:
    await install_prior(env)
    for member, title, score in ((env.alice, "Star Wars", 10), (env.bob, "Alien", 9),
                                 (env.carol, "Jaws", 8)):
        await env.run(member, "rate", movie=title, score=score)
    await env.train(env.guild)
    reply = await env.run(env.alice, "movienight",
                          members=f"{env.bob.mention} {env.carol.mention}", candidates=3)
    assert reply.embed is not None, reply.rendered_text()
    lines = _lines(reply)
    assert len(lines) == 3
    labels = {_label(line) for line in lines}
    assert not labels & {"Star Wars (1977)", "Alien (1979)", "Jaws (1975)"}
    assert all(NEW_HERE in line for line in lines)


async def test_picks_the_server_rated_are_not_marked(env: Env) -> None:
    await install_prior(env)
    await env.seed(env.guild, {env.FAN_BASE + 1: {"Alien": 9, "Superman": 8},
                               env.FAN_BASE + 2: {"Alien": 8, "Jaws": 9}})
    await env.run(env.dave, "rate", movie="Star Wars", score=10)
    await env.train(env.guild)
    reply = await env.run(env.dave, "recommend", count=8)
    lines = _lines(reply)
    rated_here = {"Alien (1979)", "Superman (1978)", "Jaws (1975)"}
    marked = {_label(line): NEW_HERE in line for line in lines}
    assert rated_here <= set(marked), marked
    assert not any(marked[label] for label in rated_here)
    assert any(marked.values())
    # a member without ratings sees "Popular in this server": only movies rated here
    cold = await env.run(env.carol, "recommend")
    assert cold.embed["title"] == "Popular in this server"
    assert _lines(cold) and not any(NEW_HERE in line for line in _lines(cold))


async def test_without_a_prior_empty_states_say_how_to_install_one(env: Env) -> None:
    await env.run(env.alice2, "rate", movie="Star Wars", score=10)
    await env.train(env.guild2)
    reply = await env.run(env.alice2, "recommend")
    assert INSTALL in reply.rendered_text()
    night = await env.run(env.alice2, "movienight", members=env.bob2.mention, candidates=3)
    assert "fewer than two movies" in night.rendered_text()
    assert INSTALL in night.rendered_text()
    similar = await env.run(env.alice2, "similar", movie="Alien")
    assert "can't place" in similar.rendered_text() and INSTALL in similar.rendered_text()


async def test_similar_reaches_movies_nobody_in_the_server_rated(env: Env) -> None:
    await install_prior(env)
    await env.run(env.alice2, "rate", movie="Casablanca", score=9)
    await env.train(env.guild2)
    reply = await env.run(env.alice2, "similar", movie="Alien")  # nobody here rated it
    assert reply.embed is not None, reply.rendered_text()
    labels = [_label(line) for line in _lines(reply)]
    scifi = {f"{m.title} ({m.year})" for m in [await env.movie(t) for t in env.SCIFI]}
    assert labels and sum(label in scifi for label in labels[:3]) >= 2, labels
