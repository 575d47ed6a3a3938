"""Popularity debiasing in the ranking (issue 23, coverage@10; ``blend.DebiasPart``,
``ModelConfig.blend_debias``): on a popularity-skewed guild the few movies nearly everyone
watched no longer top every list, so more of the catalog reaches someone's list, while each
member's own hidden favourite is found at least as often."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from recommender import CFModel, ModelConfig
from recommender.blend import Blend

BLOCK = 20
BLOCKBUSTERS = range(100, 105)


def skewed_guild(seed: int = 0):
    """90 members in three taste blocks of 20 movies, each block's movies watched with a
    long-tailed popularity; five blockbusters 85% of members saw (rated middling). Each
    member's last pick of their block is held out: a movie they will love."""
    rng = np.random.default_rng(seed)
    users, movies, scores, held = [], [], [], {}
    p = 1.0 / (1 + np.arange(BLOCK)) ** 1.2
    p /= p.sum()
    for u in range(90):
        picks = rng.choice(np.arange(BLOCK) + BLOCK * (u % 3), 9, replace=False, p=p)
        held[u] = int(picks[-1])
        for m in picks[:-1]:
            users.append(u)
            movies.append(int(m))
            scores.append(float(rng.integers(7, 11)))
        for m in BLOCKBUSTERS:
            if rng.random() < 0.85:
                users.append(u)
                movies.append(m)
                scores.append(float(rng.integers(5, 9)))
    return np.array(users), np.array(movies), np.array(scores), held


def lists(debias: float, n: int = 5):
    """Each member's top n at debias weight ``debias`` (in full: no fade with guild size)."""
    users, movies, scores, held = skewed_guild()
    model = CFModel(ModelConfig(features=3, blend_debias=debias, debias_members=0.0))
    model.fit(users, movies, scores)
    return {u: [r.movie_id for r in model.recommend(u, n)] for u in held}, held


def test_debiasing_reaches_more_of_the_catalog_without_losing_the_favourites():
    plain, held = lists(0.0)
    debiased, _ = lists(ModelConfig().blend_debias)
    shown = {m for ids in plain.values() for m in ids}
    shown_debiased = {m for ids in debiased.values() for m in ids}
    assert len(shown_debiased) > len(shown)
    hits = sum(held[u] in ids for u, ids in plain.items())
    hits_debiased = sum(held[u] in ids for u, ids in debiased.items())
    assert hits_debiased >= hits
    # the blockbusters a member had not seen lead fewer lists
    top_plain = sum(ids[0] in BLOCKBUSTERS for ids in plain.values())
    top_debiased = sum(ids[0] in BLOCKBUSTERS for ids in debiased.values())
    assert top_debiased <= top_plain


def test_the_debias_part_lowers_the_most_watched_movies_most():
    users, movies, scores, _ = skewed_guild()
    model = CFModel(ModelConfig(features=3, blend_debias=0.4, debias_members=0.0))
    model.fit(users, movies, scores)
    u = model.users.lookup(np.array([0, 1]))
    parts = model._blend_parts(u)
    weight, raw = parts["debias"]
    assert weight == pytest.approx(-0.4)
    np.testing.assert_array_equal(raw[0], model.evidence())
    plain = replace(model.config, blend_debias=0.0)
    assert "debias" not in Blend.of(plain).raw_parts(model, u)
    # the blend's difference is -0.4 z(evidence): the most watched movie loses the most
    diff = model.rank_scores(u) - _rank_with(model, plain, u)
    assert int(np.argmin(diff[0])) == int(np.argmax(model.evidence()))


def _rank_with(model: CFModel, config: ModelConfig, u: np.ndarray) -> np.ndarray:
    saved = model.config
    model.config = config
    try:
        return model.rank_scores(u)
    finally:
        model.config = saved


def test_debiasing_is_off_in_small_guilds():
    """A guild of m members gets ``blend_debias * max(0, 1 - debias_members / m)``: nothing up
    to ``debias_members`` (a small guild's lists lean on what is widely watched)."""
    users, movies, scores, _ = skewed_guild()
    cfg = ModelConfig(features=3, blend_debias=0.75, debias_members=60.0)
    small = CFModel(cfg)
    small.fit(users[users < 60], movies[users < 60], scores[users < 60])
    large = CFModel(cfg)
    large.fit(users, movies, scores)
    assert small.blend.debias.weight(small, np.array([0])) == 0.0
    assert "debias" not in small._blend_parts(np.array([0]))
    assert large.blend.debias.weight(large, np.array([0])) == pytest.approx(-0.75 * (1 - 60 / 90))
    # the default: a 90-member guild is small, its lists as without debiasing
    default = CFModel(ModelConfig(features=3))
    default.fit(users, movies, scores)
    u = default.users.lookup(np.arange(90))
    np.testing.assert_array_equal(default.rank_scores(u),
                                  _rank_with(default, replace(default.config, blend_debias=0.0),
                                             u))
