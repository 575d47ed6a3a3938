"""How far the taste prior counts for movies the guild rated is chosen from the guild's own
held-out ratings (issue 23, RMSE with the prior; ``recommender/prior_strength.py``).

A prior learned from people whose tastes match the guild's is kept (strength 1); a prior whose
movie places and baselines are wrong for the guild (here: learned in another "world", as a
prior learned from the very ratings a model trains on misleads it on ml-latest-small) is
dropped for the movies the guild rated (strength 0): their baselines and places are then the
guild's own, exactly as without a prior, while movies nobody in the guild rated keep the
prior's. The choice is scored on held-out pairs the prior did not see (``holdout_prior``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from recommender import CFModel, ModelConfig
from recommender.evaluate import holdout_prior, split_prior
from recommender.features import place_cold_movies
from recommender.holdout import holdout_split
from recommender.prior import build_prior
from recommender.prior_strength import choose_prior_strength, within_one_se
from recommender.tuning import TUNING_TOL, fit_guild

N_MOVIES = 120
CFG = ModelConfig(features=3)


def people(n: int, seed: int, world: int = 99, per: int = 40):
    """``n`` members rating ``per`` of 120 movies on 1-10: rating = 5.5 + the movie's bias +
    its 3 taste factors . the member's tastes + noise, the movies' biases and factors drawn
    from ``world`` (people of one world share them)."""
    rng = np.random.default_rng(seed)
    X = np.random.default_rng(world).normal(0, 1, (N_MOVIES, 3))
    b = np.random.default_rng(world + 1).normal(0, 0.8, N_MOVIES)
    users, movies, scores = [], [], []
    for u in range(n):
        t = rng.normal(0, 1, 3)
        ms = rng.choice(N_MOVIES, per, replace=False)
        r = 5.5 + b[ms] + X[ms] @ t + rng.normal(0, 1.0, per)
        users += [u] * per
        movies += ms.tolist()
        scores += np.clip(np.round(r), 1, 10).tolist()
    return np.array(users), np.array(movies), np.array(scores, dtype=float)


def prior_of(ratings):
    p = build_prior(*ratings, features=3, scale=(1.0, 10.0))
    return p.for_movies(np.arange(N_MOVIES), np.arange(N_MOVIES))


@pytest.fixture(scope="module")
def guild():
    return people(150, 1)


@pytest.fixture(scope="module")
def same_tastes():
    return prior_of(people(1500, 2))


@pytest.fixture(scope="module")
def other_world():
    return prior_of(people(1500, 3, world=50))


def test_a_prior_from_people_with_the_guilds_tastes_is_kept(guild, same_tastes):
    choice = choose_prior_strength(*guild, CFG, same_tastes, tol=TUNING_TOL)
    assert choice.strength == 1.0
    assert choice.validation_rmse[1.0] < choice.validation_rmse[0.0]
    model, _ = fit_guild(*guild, CFG, tune_reg=True, prior=same_tastes)
    assert model.config.prior_strength == 1.0


def test_a_prior_that_misleads_the_guild_is_dropped_for_the_movies_it_rated(
        guild, other_world):
    choice = choose_prior_strength(*guild, CFG, other_world, tol=TUNING_TOL)
    assert choice.strength == 0.0
    assert choice.validation_rmse[0.0] < choice.validation_rmse[1.0]
    model, _ = fit_guild(*guild, CFG, tune_reg=True, prior=other_world)
    assert model.config.prior_strength == 0.0
    # a well-supported movie's baseline is then the guild's own: the prior's weight is 0
    plain, _ = fit_guild(*guild, CFG, tune_reg=True)
    rated = np.unique(guild[1])
    np.testing.assert_allclose(model.means[model.movies.lookup(rated)],
                               plain.means[plain.movies.lookup(rated)], rtol=1e-6)


def test_strength_zero_is_the_guilds_own_baseline_with_and_without_side_features(
        guild, other_world):
    feats = (np.arange(N_MOVIES), np.eye(4)[np.arange(N_MOVIES) % 4])
    for movie_features in (None, feats):
        cfg = replace(CFG, prior_strength=0.0)
        with_prior, without = CFModel(cfg), CFModel(cfg)
        with_prior.fit(*guild, prior=other_world, movie_features=movie_features)
        without.fit(*guild, movie_features=movie_features)
        np.testing.assert_allclose(with_prior.means, without.means, rtol=1e-6)
    # full strength: the baseline moves toward the prior's
    full = CFModel(CFG)
    full.fit(*guild, prior=other_world)
    assert not np.allclose(full.means, without.means, rtol=1e-3)


def test_a_movie_nobody_rated_keeps_the_priors_place_at_any_strength(guild, other_world):
    keep = guild[1] != 7  # nobody in the guild rated movie 7
    ratings = tuple(a[keep] for a in guild)
    model = CFModel(replace(CFG, prior_strength=0.0))
    model.fit(*ratings, prior=other_world)
    i, p = model.movies.get(7), other_world.lookup([7])[0]
    np.testing.assert_allclose(model.X[i], other_world.factors[p], rtol=1e-6)


def test_the_choice_is_scored_on_a_prior_without_the_held_out_pairs(guild, same_tastes,
                                                                    other_world):
    """``holdout_prior`` gets exactly the held-out pairs of the choice's split, and the choice
    is made with the prior it returns (here one that misleads: strength 0)."""
    calls = []

    def without(users, movies):
        calls.append((users, movies))
        return other_world

    model, _ = fit_guild(*guild, CFG, tune_reg=True, prior=same_tastes, holdout_prior=without)
    _, held = holdout_split(guild[0], guild[1], CFG.seed)
    assert len(calls) == 1
    np.testing.assert_array_equal(calls[0][0], guild[0][held])
    np.testing.assert_array_equal(calls[0][1], guild[1][held])
    assert model.config.prior_strength == 0.0
    assert model.prior is same_tastes  # the final fit keeps the real prior


def test_evaluate_builds_the_choices_prior_without_test_or_held_out_pairs():
    from recommender.data import Ratings

    u = np.repeat(np.arange(30), 6)
    m = np.tile(np.arange(6), 30)
    s = np.where(m < 3, 4.5, 1.5).astype(float)
    test = Ratings(np.array([0, 1]), np.array([5, 5]), np.array([1.5, 1.5]))
    build = holdout_prior((u, m, s), test)
    assert build is not None
    gp = build(np.array([2, 3, 4]), np.array([5, 5, 4]))
    # movie 5 lost its two test ratings and two held-out ones, movie 4 one held-out rating
    assert gp.counts[gp.lookup([5])[0]] == 26 and gp.counts[gp.lookup([4])[0]] == 29
    assert split_prior((u, m, s), test).counts[gp.lookup([5])[0]] == 28
    # a prior from elsewhere never saw the evaluated ratings: nothing to rebuild
    assert holdout_prior(None, test) is None
    assert holdout_prior((u, m, s), test, (None, None, False)) is None


def test_within_one_se_keeps_the_largest_value_that_is_not_clearly_worse():
    rng = np.random.default_rng(0)
    base = rng.random(400)
    # 1 is worse by far more than its noise: 0 wins
    assert within_one_se({0.0: base, 1.0: base + 0.5}) == 0.0
    # 1 is worse by less than one standard error of the paired difference: kept
    noise = rng.normal(0, 1.0, 400)
    assert within_one_se({0.0: base, 1.0: base + noise - noise.mean() + 0.01}) == 1.0


def test_side_features_place_the_part_of_a_movie_the_prior_does_not():
    F = np.eye(2)[np.array([0, 1] * 10)]
    X = np.repeat(F, 2, axis=1) * 1.0  # 20 movies whose factors follow their feature
    counts = np.full(20, 10.0)
    counts[:2] = 0.0
    base = place_cold_movies(X, F, counts, np.zeros(20), 15.0, 1.0)
    np.testing.assert_array_equal(base, X)  # share 0: as is (the prior's place)
    full = place_cold_movies(X, F, counts, np.ones(20), 15.0, 1.0)
    half = place_cold_movies(X, F, counts, np.full(20, 0.5), 15.0, 1.0)
    np.testing.assert_allclose(half - X, (full - X) / 2)
    assert np.abs(full[:2] - X[:2]).max() > 0.5  # a cold movie moves toward its feature
    # a boolean array still means "linked to the prior": no feature place
    np.testing.assert_array_equal(place_cold_movies(X, F, counts, np.ones(20, bool), 15.0,
                                                    1.0), X)
