"""The console's demo proves the picks (issue 23 item 6): its simulated members have known
tastes (`console.demo.DEMO_MEMBERS`), so each one's top 10 should carry their loved genres
(>= 7 of 10 where enough unrated movies of those genres exist) and none of their disliked
ones; and "you", after rating three family films high and a horror film low, should get at
least 5 family/animation picks of 10 and no horror, with the top picks nearer to "you" on
the taste map than the movies are on average. Runs the bot's own services on the demo's
database (the same seeding as `python -m bot console`)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import timeouts

from bot.catalog.starter import ensure_starter_catalog
from bot.config import Settings
from bot.config_sections import RecommenderSettings, TrainingSettings
from bot.service.app import Services
from bot.storage import Storage
from console.demo import DEMO_MEMBERS, TASTES, seed_demo_ratings

GUILD = 4242
YOU = 999_999
FAMILY = {"Animation", "Children"}


@pytest.fixture
async def demo(tmp_path: Path):
    storage = await Storage.open(tmp_path / "demo.sqlite3")
    await ensure_starter_catalog(storage)
    ids = {name: 1000 + i for i, name in enumerate(DEMO_MEMBERS)}
    await seed_demo_ratings(storage, GUILD, ids)
    services = Services.build(storage, Settings(token="demo"))
    await services.recommendations.start()
    try:
        await services.recommendations.top(GUILD, 1)
        await services.recommendations.wait_idle(GUILD)
        yield services, ids
    finally:
        await services.close(5.0)


async def _genres(storage: Storage, movie_ids) -> dict[int, set[str]]:
    movies = await storage.get_movies(GUILD, list(movie_ids))
    return {m: set(movie.genres) for m, movie in movies.items()}


async def test_each_simulated_members_top_ten_follows_their_taste(demo) -> None:
    services, ids = demo
    storage = services.storage
    pool = set((await storage.guild_ratings(GUILD)).movie_ids.tolist())
    genres = await _genres(storage, pool)
    failures = []
    for name, (loves, dislikes) in DEMO_MEMBERS.items():
        picks = await services.recommendations.recommend(GUILD, ids[name], n=10)
        rated = set((await storage.member_rating_arrays(GUILD, ids[name]))[0].tolist())
        available = sum(1 for m in pool - rated
                        if genres[m] & set(loves) and not genres[m] & set(dislikes))
        shown = [genres[p.movie_id] for p in picks.items]
        loved = sum(bool(g & set(loves)) for g in shown)
        disliked = sum(bool(g & set(dislikes)) for g in shown)
        if loved < min(7, available) or disliked:
            failures.append(f"{name}: {loved} loved, {disliked} disliked of {len(shown)}")
    assert not failures, failures


async def test_each_simulated_members_reasons_name_their_own_varied_ratings(demo) -> None:
    """Issue 23 item 4 on the demo: a member with ~100 ratings reads which of their ratings
    each pick comes from, six or more different ones in ten. Their taste is spread over many
    ratings (each adds a few percent to a pick), and every pick used to say "members with
    your taste rate it highly"; the liked rating contributing most is named now when the
    ratings together carry the pick (`recommender.reasons.SHARE_OF_SUPPORT`)."""
    services, ids = demo
    storage = services.storage
    failures = []
    for name in DEMO_MEMBERS:
        picks = await services.recommendations.recommend(GUILD, ids[name], n=10)
        mine = dict(zip(*(a.tolist() for a in await storage.member_rating_arrays(
            GUILD, ids[name])), strict=True))
        average = np.mean(list(mine.values()))
        named = [p.because for p in picks.items if p.because is not None]
        assert all(mine[m] == score >= average for m, score in named), (name, named)
        reasons = {p.because[0] if p.because else p.carried_by for p in picks.items}
        if len(named) < 7 or len(reasons) < 6:
            failures.append(f"{name}: {len(named)} named, {len(reasons)} different")
    assert not failures, failures


async def test_you_after_rating_family_films_high_and_horror_low(demo) -> None:
    services, _ids = demo
    storage = services.storage
    pool = sorted(set((await storage.guild_ratings(GUILD)).movie_ids.tolist()))
    genres = await _genres(storage, pool)
    family = [m for m in pool if genres[m] & FAMILY and "Horror" not in genres[m]][:3]
    horror = next(m for m in pool if "Horror" in genres[m] and not genres[m] & FAMILY)
    for movie_id, score in zip([*family, horror], (10, 9, 9, 2), strict=True):
        await storage.upsert_rating(GUILD, YOU, movie_id, score)
        await services.recommendations.rating_changed(GUILD, YOU)
    picks = await services.recommendations.recommend(GUILD, YOU, n=10)
    assert picks.personal and len(picks.items) == 10
    shown = await _genres(storage, [p.movie_id for p in picks.items])
    assert sum(bool(g & FAMILY) for g in shown.values()) >= 5, shown
    assert not any("Horror" in g for g in shown.values()), shown
    # the taste map puts the top picks near "you"
    picture = await services.pictures.taste_map(GUILD, YOU, YOU)
    plotted = picture.rendered.plotted
    you = np.asarray(plotted["member"]).reshape(-1, 2)[0]
    to_picks = np.linalg.norm(np.asarray(plotted["picks"]) - you, axis=1).mean()
    to_movies = np.linalg.norm(np.asarray(plotted["movies"]) - you, axis=1).mean()
    assert len(plotted["picks"]) and to_picks < to_movies


# The issue's console script: what a new member sees on the demo server without a taste prior
# (issue 23: "Tried as a new user would"). Seven ratings, a refit, /recommend count:8.
ISSUE_SCRIPT = (("Spirited Away", 10), ("My Neighbor Totoro", 9), ("Toy Story", 9), ("Up", 9),
                ("The Shining", 2), ("The Godfather", 3), ("Reservoir Dogs", 2))
# what the member loved is the demo's family taste: Animation, Children, Fantasy (MovieLens has
# no "Family" genre); what they disliked, crime and horror
KIDS = set(TASTES["family"][0])
DISLIKED = {"Crime", "Horror"}


@pytest.fixture(params=[30.0, 7.0], ids=["no-taste-factors", "taste-factors"])
async def demo_refits(tmp_path: Path, request):
    """The demo guild served like the console (no prior), refitting as soon as ratings
    change (the console's minute of waiting, without the wait)."""
    storage = await Storage.open(tmp_path / "demo.sqlite3")
    await ensure_starter_catalog(storage)
    await seed_demo_ratings(storage, GUILD, {n: 1000 + i for i, n in enumerate(DEMO_MEMBERS)})
    # Both regimes, pinned: at 30 the demo's rating model learns no taste factors at all
    # (the choice made that in 2 of 6 hold-out splits before it walked down with real fits
    # below `cold_fit_max`; the member's taste then has to come from the taste layer); 7
    # learns some (the choice now gives 3 in every split).
    settings = Settings(token="demo", training=TrainingSettings(debounce_seconds=0.0),
                        recommender=RecommenderSettings(regularization=request.param,
                                                        auto_regularization_max_ratings=0))
    services = Services.build(storage, settings)
    await services.recommendations.start()
    try:
        await services.recommendations.top(GUILD, 1)
        await services.recommendations.wait_idle(GUILD)
        yield services
    finally:
        await services.close(5.0)


async def test_the_issue_script_gives_you_your_taste_without_a_prior(demo_refits) -> None:
    services = demo_refits
    storage = services.storage
    # typed within seconds of each other, the seven ratings reach one (debounced) refit
    for title, score in ISSUE_SCRIPT:
        found = await services.catalog.lookup(GUILD, title)
        assert found.movie is not None, title
        await storage.upsert_rating(GUILD, YOU, found.movie.id, score)
    await services.recommendations.rating_changed(GUILD, YOU)
    await services.recommendations.wait_idle(GUILD)  # the refit with all seven ratings
    own_average = np.mean([s for _, s in ISSUE_SCRIPT])
    picks = await services.recommendations.recommend(GUILD, YOU, n=8)
    assert picks.personal and len(picks.items) == 8
    shown = await _genres(storage, [p.movie_id for p in picks.items])
    kids = sum(bool(g & KIDS) for g in shown.values())
    assert kids >= 5, shown
    assert not any(g & DISLIKED for g in shown.values()), shown
    assert all(p.score >= own_average for p in picks.items), [p.score for p in picks.items]
    # an unrated crime film is predicted below the member's own average
    pool = (await storage.guild_ratings(GUILD)).movie_ids.tolist()
    genres = await _genres(storage, set(pool))
    rated = set((await storage.member_rating_arrays(GUILD, YOU))[0].tolist())
    crime = [m for m in sorted(genres) if "Crime" in genres[m] and not genres[m] & KIDS
             and m not in rated]
    assert crime
    predicted = [await services.recommendations.predict(GUILD, YOU, m) for m in crime]
    assert np.mean(predicted) < own_average, predicted


async def test_ratings_of_movies_the_model_does_not_know_yet_count_by_genre(tmp_path) -> None:
    """Before the next fit, a member's ratings of movies nobody in the server rated (the
    catalog knows them, the model does not) count in their taste through the movies' genres
    (the fold-in reads them from the catalog): loved animation, disliked crime and horror."""
    storage = await Storage.open(tmp_path / "demo.sqlite3")
    await ensure_starter_catalog(storage)
    await seed_demo_ratings(storage, GUILD, {n: 1000 + i for i, n in enumerate(DEMO_MEMBERS)})
    settings = Settings(token="demo", training=TrainingSettings(debounce_seconds=3600.0),
                        recommender=RecommenderSettings(regularization=30.0,
                                                        auto_regularization_max_ratings=0))
    services = Services.build(storage, settings)
    await services.recommendations.start()
    try:
        await services.recommendations.top(GUILD, 1)
        await services.recommendations.wait_idle(GUILD)
        pool = set((await storage.guild_ratings(GUILD)).movie_ids.tolist())
        catalog: set[int] = set()
        for genre in await storage.genres(GUILD):
            catalog |= set(await storage.movie_ids_with_genre(GUILD, genre))
        genres = await _genres(storage, catalog)
        outside = sorted(catalog - pool)
        kids = [m for m in outside if genres[m] & {"Animation"} and not genres[m] & DISLIKED]
        bad = [m for m in outside if genres[m] & DISLIKED and not genres[m] & KIDS]
        for movie_id, score in [*((m, 10) for m in kids[:4]), *((m, 2) for m in bad[:3])]:
            await storage.upsert_rating(GUILD, YOU, movie_id, score)
        await services.recommendations.rating_changed(GUILD, YOU)  # no fit for an hour
        model = await services.recommendations.model_snapshot(GUILD, YOU)
        assert model is not None and not any(model.knows_movie(m) for m in kids[:4] + bad[:3])
        unrated_kids = [m for m in sorted(pool) if "Animation" in genres[m]
                        and not genres[m] & DISLIKED]
        unrated_bad = [m for m in sorted(pool) if genres[m] & DISLIKED
                       and not genres[m] & KIDS]
        ids = unrated_kids + unrated_bad
        predicted = model.predict([YOU] * len(ids), ids)
        liked, disliked = predicted[:len(unrated_kids)], predicted[len(unrated_kids):]
        assert liked.mean() - disliked.mean() > 1.0, (liked.mean(), disliked.mean())
    finally:
        await services.close(5.0)


def test_the_issue_script_typed_without_waiting_in_the_console() -> None:
    """The issue's session as typed: seven /rate lines and /recommend at once in `python -m
    bot console` (no minute of waiting). When the debounced refit started just as /recommend
    arrived, the member was ranked on the row of the model fitted on their first rating
    alone (Chinatown and Se7en "highly rated" to a member who rated The Godfather 3 and
    Reservoir Dogs 2); whether a run hits that moment depends on timing, so the race itself
    is tested deterministically in tests/service/test_service.py. This is the end-to-end
    guard: whatever the timing, family picks and nothing of what the member disliked."""
    script = "".join(f"/rate movie:{title} score:{score}\n" for title, score in ISSUE_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    env.pop("MOVIEBOT_CONFIG", None)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "console", "--cooldown", "0"],
        input=script + "/recommend count:10\n", capture_output=True, text=True,
        env=env, timeout=timeouts.scaled(120))
    assert result.returncode == 0, result.stderr[-2000:]
    picks = re.findall(r"^\| \d+\. \*\*(.+?)\*\* — ([^·]+) ·", result.stdout, re.M)
    assert len(picks) == 10, result.stdout[-3000:]
    genres = {title: {g.strip() for g in listed.split(",")} for title, listed in picks}
    assert sum(bool(g & {"Animation", "Children"}) for g in genres.values()) >= 5, genres
    assert not any(g & DISLIKED for g in genres.values()), genres
