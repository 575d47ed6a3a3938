"""Enjoyment in the ranking (issue 23 item 3): the blend is read as how likely a member picks a
movie and multiplied by the chance they enjoy it (``blend.ExpectedEnjoyment``), so a movie
everyone watches but the rating model expects this member to dislike does not make their top
list, while the ranking of movies they are expected to like is left to "will pick"."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from recommender import CFModel, ModelConfig
from recommender.blend import EnjoymentConfig, ExpectedEnjoyment
from recommender.implicit import zscore_rows
from recommender.prior import build_prior

POPULAR = 0  # everyone watched it: the drama fans love it, the comedy fans hate it
DRAMAS = np.arange(1, 13)
COMEDIES = np.arange(13, 25)
ME = 999  # a comedy fan who has not seen the popular drama


def guild(members: int = 40, seed: int = 3, me: bool = True):
    """``members`` members, half drama fans, half comedy fans; everyone rated the popular
    movie (the drama fans 9-10, the comedy fans 2-3), each fan rated 8 of their own kind's 12
    movies high and 3 of the other kind low. ME rated 8 comedies 9-10 and 3 dramas 2."""
    rng = np.random.default_rng(seed)
    users, movies, scores = [], [], []

    def rate(u, m, s):
        users.append(u)
        movies.append(int(m))
        scores.append(float(s))

    for u in range(members):
        drama = u % 2 == 0
        own, other = (DRAMAS, COMEDIES) if drama else (COMEDIES, DRAMAS)
        rate(u, POPULAR, rng.integers(9, 11) if drama else rng.integers(2, 4))
        for m in rng.choice(own, 8, replace=False):
            rate(u, m, rng.integers(8, 11))
        for m in rng.choice(other, 3, replace=False):
            rate(u, m, rng.integers(2, 4))
    if me:
        for m in COMEDIES[:8]:
            rate(ME, m, 9 + m % 2)
        for m in DRAMAS[:3]:
            rate(ME, m, 2)
    return np.array(users), np.array(movies), np.array(scores)


def fitted(prior=None, **overrides) -> CFModel:
    """The guild's model; without a prior, expected enjoyment switched on explicitly (it is
    off by default there: ``ModelConfig.enjoy_without_prior``)."""
    config = ModelConfig(features=3, reg=2.0, min_support=1,
                         enjoy_without_prior=prior is None)
    model = CFModel(replace(config, **overrides))
    model.fit(*guild(), prior=prior)
    return model


def test_with_a_taste_prior_the_disliked_popular_movie_stays_out_of_the_top_list():
    """The bot's default: a guild with a taste prior (learned from 300 other people with the
    same two tastes, on the 1-5 scale)."""
    users, movies, scores = guild(members=300, seed=11, me=False)
    prior = build_prior(users + 10_000, movies, scores / 2, features=3, reg=2.0,
                        max_iterations=60)
    keys = prior.keys
    gp = prior.for_movies(keys, keys)
    without = fitted(gp, enjoy_temperature=0.0)
    assert POPULAR in {r.movie_id for r in without.recommend(ME, n=4)}
    model = fitted(gp)
    assert model.prior is not None
    assert POPULAR not in {r.movie_id for r in model.recommend(ME, n=4)}


def test_without_a_prior_enjoyment_is_off_by_default():
    model = CFModel(ModelConfig(features=3, reg=2.0, min_support=1))
    model.fit(*guild())
    u = np.array([model.users.get(ME)])
    blend = model.blend
    assert not blend.enjoyment.config.without_prior
    plain = sum(w * zscore_rows(S) for w, S in blend.raw_parts(model, u).values())
    np.testing.assert_allclose(model.rank_scores(u), plain)


def test_without_a_prior_enjoyment_ranks_the_lists_of_a_large_enough_guild():
    """``ModelConfig.enjoy_members``: a guild of that many members has the ratings to say
    "they will not enjoy it" without a prior (41 members here: off at the default 100, on when
    the threshold is 41, exactly as ``enjoy_without_prior`` would have it)."""
    small = CFModel(ModelConfig(features=3, reg=2.0, min_support=1))
    small.fit(*guild())
    assert len(small.users) == 41 < ModelConfig().enjoy_members
    assert not small.blend.enjoyment.applies(small)
    assert small.recommend(ME, n=1)[0].movie_id == POPULAR

    large = CFModel(ModelConfig(features=3, reg=2.0, min_support=1, enjoy_members=41))
    large.fit(*guild())
    assert large.blend.enjoyment.applies(large)
    assert POPULAR not in {r.movie_id for r in large.recommend(ME, n=4)}
    u = np.array([large.users.get(ME)])
    np.testing.assert_allclose(large.rank_scores(u), fitted().rank_scores(u))


def test_a_popular_movie_the_member_is_expected_to_dislike_is_not_in_their_top_list():
    without = fitted(enjoy_temperature=0.0)
    # "will pick" alone puts the movie everyone watched first
    assert without.recommend(ME, n=1)[0].movie_id == POPULAR
    model = fitted()
    assert float(model.predict([ME], [POPULAR])[0]) < model.member_mean(
        model.users.get(ME)) * model.config.unit  # the rating model expects a dislike
    top = model.recommend(ME, n=4)
    assert POPULAR not in {r.movie_id for r in top}
    assert all(not r.stretch for r in top)  # what is left are movies they should enjoy
    assert set(r.movie_id for r in top) <= set(COMEDIES.tolist())
    # it is still a candidate further down, marked as the stretch it is
    deep = {r.movie_id: r for r in model.recommend(ME, n=20)}
    assert POPULAR in deep and deep[POPULAR].stretch


def test_the_term_is_the_log_chance_of_liking_at_the_blends_own_scale():
    model = fitted()
    u = np.array([model.users.get(ME)])
    enjoyment = ExpectedEnjoyment(EnjoymentConfig(like=0.75, sd=0.93, temperature=1.6, top=5,
                                                  without_prior=True))
    blend = np.array([[10.0, 8.0, 6.0, 4.0, 2.0] + [0.0] * (len(model.movies) - 5)])
    scale = enjoyment.scale(blend)
    assert scale.shape == (1, 1)
    np.testing.assert_allclose(scale, 1.6 * np.std([10.0, 8, 6, 4, 2]))
    log_like = enjoyment.log_like(model, u)
    assert np.all(log_like <= 0)
    pred = model.predict(np.full(len(model.movies), ME), model.movies.ids)
    # more likely liked, the higher the predicted rating (clamping aside)
    order = np.argsort(pred)
    inside = (pred[order] > 1.0) & (pred[order] < 10.0)
    assert np.all(np.diff(log_like[0][order][inside]) >= -1e-12)
    term = enjoyment.term(model, u, blend)
    np.testing.assert_allclose(term, scale * log_like)
    # off (temperature 0): the blend is the parts alone
    off = ExpectedEnjoyment(EnjoymentConfig(temperature=0.0))
    np.testing.assert_array_equal(off.term(model, u, blend), np.zeros_like(blend))


def test_a_scaled_blend_keeps_its_order_with_enjoyment():
    """The term is measured in the blend's own units: doubling every part's weight doubles the
    whole rank, so the list does not depend on how the parts happen to be scaled."""
    model = fitted()
    u = np.array([model.users.get(ME)])
    base = model.rank_scores(u)[0]
    doubled = fitted(blend_pick=2.0, blend_enjoy=0.6, blend_prior_pick=5.0, pop_cold=200.0,
                     blend_popularity=0.0, blend_debias=2 * ModelConfig().blend_debias)
    np.testing.assert_allclose(doubled.rank_scores(u)[0], 2 * base, rtol=1e-6, atol=1e-6)
