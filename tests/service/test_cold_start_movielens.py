"""One rating a member believes, with the real MovieLens prior (issue 23): the catalog is
MovieLens' (`python -m bot catalog import movies.csv`), the prior is built from it (`python -m
bot prior build`), and the server's members are 60 MovieLens users (their ratings doubled onto
1-10). A new member who rates only Spirited Away 10 gets Spirited Away's close neighbours in
the prior (Totoro, Princess Mononoke, WALL-E, ...), each "because you rated Spirited Away
(2001) 10/10", not the server's most-rated blockbusters (Forrest Gump, Pulp Fiction, The
Shawshank Redemption: what the plain popularity part served). Runs the bot's own services;
skipped when ml-latest-small is not on this machine (it is never copied into the repo)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from bot.catalog.formats import parse_file
from bot.catalog.importer import import_movies
from bot.config import Settings
from bot.prior.build import build_from_path
from bot.service.app import Services
from recommender.data import load_ratings

DATA = Path("/work/shared/data/ml-latest-small")
SPIRITED_AWAY = 5618  # its MovieLens movieId
GUILD = 515
NEWCOMER = 9_999

pytestmark = pytest.mark.skipif(not (DATA / "ratings.csv").exists(),
                                reason="ml-latest-small is not on this machine")


async def test_one_rating_of_spirited_away_gives_its_neighbours(storage, tmp_path) -> None:
    await import_movies(storage, parse_file(DATA / "movies.csv"))
    await build_from_path(storage, DATA, err=io.StringIO(), max_iterations=40)
    ids, keys = await storage.prior_links()
    to_catalog = dict(zip(keys.tolist(), ids.tolist(), strict=True))
    ratings = load_ratings(DATA / "ratings.csv", "movielens-csv")
    members = np.unique(ratings.users)[::10][:60]  # 60 MovieLens users, every tenth
    for member in members.tolist():
        mine = ratings.users == member
        rated = [(to_catalog[int(m)], max(1, round(2 * float(s))))
                 for m, s in zip(ratings.movies[mine], ratings.scores[mine], strict=True)
                 if int(m) in to_catalog]
        if rated:
            await storage.import_history(GUILD, int(member), rated)

    services = Services.build(storage, Settings(token="test"))
    await services.recommendations.start()
    try:
        spirited = to_catalog[SPIRITED_AWAY]
        movie = (await storage.get_movies(GUILD, [spirited]))[spirited]
        await services.ratings.rate(GUILD, NEWCOMER, movie, 10)
        await services.recommendations.wait_idle(GUILD)
        picks = await services.recommendations.recommend(GUILD, NEWCOMER, n=10)
        prior = await services.recommendations.models.guild_prior()
        shown = [p.movie_id for p in picks.items]
        titles = {m: f"{v.title} ({v.year})"
                  for m, v in (await storage.get_movies(GUILD, shown)).items()}
    finally:
        await services.close(5.0)

    assert prior is not None
    row = prior.lookup([spirited])[0]
    weights = prior.implicit.W[row].toarray().ravel()
    close = {int(prior.movie_ids[j]) for j in np.argsort(-weights)[:20] if weights[j] > 0}
    assert len(shown) == 10 and picks.personal
    neighbours = [p for p in picks.items if p.movie_id in close]
    assert len(neighbours) >= 6, [titles[m] for m in shown]  # mostly its close neighbours
    assert all(p.because == (spirited, 10) for p in neighbours), [
        (titles[p.movie_id], p.because, p.carried_by) for p in picks.items]
