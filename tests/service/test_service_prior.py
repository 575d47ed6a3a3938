"""The taste prior's whole path on generated data: a MovieLens-format folder is read, the prior
built, linked to the starter catalog by title and year, stored, and used by a guild's fit.

The "public" dataset has two clear tastes (sci-fi fans and romance fans, 300 users). The guild
is tiny and its ratings carry no such structure, so only the prior can tell a sci-fi fan's next
picks: with it, the member who loves two sci-fi films gets the other sci-fi films first.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from bot.catalog.starter import ensure_starter_catalog
from bot.config import Settings, TrainingSettings
from bot.prior.build import build_from_path
from bot.service.app import Services
from bot.storage import Storage

SCIFI = [(1, "Star Wars", 1977), (2, "Alien", 1979), (3, "Blade Runner", 1982),
         (4, "Terminator, The", 1984)]
ROMANCE = [(5, "Casablanca", 1942), (6, "Roman Holiday", 1953),
           (7, "When Harry Met Sally...", 1989), (8, "Titanic", 1997)]
GUILD = 77
FAN = 1000


def write_dataset(folder: Path) -> None:
    folder.mkdir()
    movies = io.StringIO()
    movies.write("movieId,title,genres\n")
    for key, title, year in SCIFI + ROMANCE:
        quoted = f'"{title} ({year})"' if "," in title else f"{title} ({year})"
        movies.write(f"{key},{quoted},Drama\n")
    (folder / "movies.csv").write_text(movies.getvalue())
    rng = np.random.default_rng(1)
    lines = ["userId,movieId,rating,timestamp"]
    for user in range(1, 301):
        liked, other = (SCIFI, ROMANCE) if user % 2 else (ROMANCE, SCIFI)
        for key, _, _ in liked:
            if rng.random() < 0.8:
                lines.append(f"{user},{key},{rng.choice([4.0, 4.5, 5.0])},0")
        if rng.random() < 0.3:  # now and then one from the other side, disliked
            lines.append(f"{user},{other[int(rng.integers(4))][0]},2.0,0")
    (folder / "ratings.csv").write_text("\n".join(lines) + "\n")


async def picks_for_fan(storage: Storage, tmp_path: Path) -> list[str]:
    settings = Settings(database=tmp_path / "bot.sqlite3",
                        training=TrainingSettings(debounce_seconds=0.0))
    services = Services.build(storage, settings)
    try:
        await services.settings.update(GUILD, can_manage_guild=True,
                                       min_ratings_for_personal=2)
        await services.recommendations.top(GUILD, 1)
        await services.recommendations.wait_idle(GUILD)
        picks = await services.recommendations.recommend(GUILD, FAN, n=6)
        assert picks.personal
        return [picks.movies[p.movie_id].title for p in picks.items]
    finally:
        await services.recommendations.close()


@pytest.fixture
async def storage(tmp_path):
    store = await Storage.open(tmp_path / "bot.sqlite3")
    await ensure_starter_catalog(store)
    # A small guild: three members rate every one of the eight films once, with no pattern;
    # the fan loves two sci-fi films.
    rng = np.random.default_rng(7)
    ids = {}
    for _key, title, year in SCIFI + ROMANCE:
        movie = await store.resolve_movie(GUILD, f"{title} ({year})")
        assert movie is not None, title
        ids[title] = movie.id
    for member in (1, 2, 3):
        for movie_id in ids.values():
            await store.upsert_rating(GUILD, member, movie_id, int(rng.integers(5, 8)))
    await store.upsert_rating(GUILD, FAN, ids["Star Wars"], 10)
    await store.upsert_rating(GUILD, FAN, ids["Alien"], 9)
    yield store
    await store.close()


async def test_the_prior_is_built_linked_stored_and_personalises_a_tiny_guild(storage,
                                                                            tmp_path):
    folder = tmp_path / "ml-generated"
    write_dataset(folder)
    report = await build_from_path(storage, folder, err=io.StringIO())
    assert report is not None
    links = await storage.prior_links()
    assert len(links[0]) == 8  # every film linked by title and year ("Terminator, The")
    picks = await picks_for_fan(storage, tmp_path)
    assert set(picks[:2]) == {"Blade Runner", "The Terminator"}, picks


async def test_without_a_prior_the_same_guild_still_gets_picks(storage, tmp_path):
    picks = await picks_for_fan(storage, tmp_path)
    assert set(picks) >= {"Blade Runner", "The Terminator"}
    assert "Star Wars" not in picks and "Alien" not in picks
