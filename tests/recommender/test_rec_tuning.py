"""Hold-out choice of the regularisation weight (recommender.tuning)."""

from __future__ import annotations

import numpy as np

from recommender import CFModel, ModelConfig
from recommender.tuning import DEFAULT_GRID, choose_reg


def taste_groups(seed=0, groups=3, members_per_group=4, movies_per_genre=20, rated=30):
    """A small guild with clear tastes: each group loves one genre (8-10), not the others."""
    rng = np.random.default_rng(seed)
    users, movies, scores = [], [], []
    n_movies = groups * movies_per_genre
    for g in range(groups):
        for k in range(members_per_group):
            member = 1000 + g * members_per_group + k
            for movie in rng.choice(n_movies, rated, replace=False):
                loved = movie // movies_per_genre == g
                scores.append(rng.integers(8, 11) if loved else rng.integers(2, 6))
                users.append(member)
                movies.append(int(movie))
    return np.array(users), np.array(movies), np.array(scores, dtype=float)


def test_clear_tastes_get_a_small_reg_and_personal_predictions():
    users, movies, scores = taste_groups()
    config = ModelConfig(scale=(1.0, 10.0))
    choice = choose_reg(users, movies, scores, config)
    assert set(choice.validation_rmse) == set(DEFAULT_GRID)
    assert choice.reg < config.reg  # the fixed default would flatten these tastes
    model = CFModel(ModelConfig(reg=choice.reg))
    model.fit(users, movies, scores)
    fan_of_genre0, fan_of_genre1 = 1000, 1004
    genre0, genre1 = np.arange(0, 20), np.arange(20, 40)
    assert (model.predict(np.full(20, fan_of_genre0), genre0).mean()
            > model.predict(np.full(20, fan_of_genre0), genre1).mean() + 2)
    assert (model.predict(np.full(20, fan_of_genre1), genre1).mean()
            > model.predict(np.full(20, fan_of_genre1), genre0).mean() + 2)
    flat = CFModel(config)
    flat.fit(users, movies, scores)
    spread_tuned = np.ptp(model.predict(np.full(60, fan_of_genre0), np.arange(60)))
    spread_flat = np.ptp(flat.predict(np.full(60, fan_of_genre0), np.arange(60)))
    assert spread_tuned > spread_flat


def test_pure_noise_keeps_a_large_reg():
    rng = np.random.default_rng(3)
    users = rng.integers(0, 40, 1500)
    movies = rng.integers(0, 80, 1500)
    scores = rng.integers(1, 11, 1500).astype(float)
    choice = choose_reg(users, movies, scores, ModelConfig())
    assert choice.reg >= 15.0


def test_too_few_ratings_keep_the_configured_value():
    choice = choose_reg([1, 2, 3], [1, 1, 2], [5.0, 6.0, 7.0], ModelConfig(reg=12.0))
    assert choice.reg == 12.0 and choice.validation_rmse == {}
