"""The taste prior counts as far as its own ratings carry it (issue 23, RMSE with the prior):
a movie the guild rated is shrunk toward the prior's baseline in proportion to the prior's
ratings of it (``pc / (pc + mean_damping)``), toward the side features' baseline for the
rest; its factors are pulled toward the prior's place scaled by ``pc / (pc + reg)``. A prior
that knows a movie from a handful of ratings (or learned them from the very ratings the guild
model trains on, as ``recommender.evaluate --prior`` on the evaluated dataset does) no longer
counts them twice. Movies nobody in the guild rated keep the prior's baseline and place as is.
"""

from __future__ import annotations

import numpy as np
import pytest

from recommender import CFModel, ModelConfig
from recommender.implicit import ItemItem
from recommender.prior import GuildPrior

K = 2


def guild_prior(counts) -> GuildPrior:
    """Movies 1-4 with baseline +1.5 units over the mean and the same place; ``counts`` the
    prior dataset's ratings of each."""
    n = 4
    return GuildPrior(np.arange(1, n + 1, dtype=np.int64), np.full((n, K), 0.5, np.float32),
                      np.full(n, 1.5, np.float32), np.asarray(counts, np.float32),
                      ItemItem.empty(n))


def ratings():
    """Six members rate movies 1-3 (movie 4: nobody); all 6/10."""
    users = np.repeat(np.arange(6), 3)
    movies = np.tile([1, 2, 3], 6)
    return users, movies, np.full(users.size, 6.0)


def features():
    """One side feature shared by every movie: its baseline is the guild's own mean."""
    return np.arange(1, 5), np.ones((4, 1))


def fitted(counts) -> CFModel:
    model = CFModel(ModelConfig(features=K))
    model.fit(*ratings(), prior=guild_prior(counts), movie_features=features())
    return model


def test_the_prior_baseline_counts_as_far_as_its_own_ratings():
    model = fitted([1000.0, 1.0, 0.0, 1.0])
    d = model.config.mean_damping
    m1, m2, m3, m4 = (float(model.means[model.movies.get(i)]) for i in (1, 2, 3, 4))
    gm = model.global_mean
    # shrink target: the prior's +1.5 by pc / (pc + d), the features' (~0 here) the rest
    assert m1 == pytest.approx((6 * gm + d * (gm + 1.5 * 1000 / (1000 + d))) / (6 + d), abs=0.02)
    assert m2 == pytest.approx((6 * gm + d * (gm + 1.5 * 1 / (1 + d))) / (6 + d), abs=0.02)
    assert m3 == pytest.approx(gm, abs=0.02)  # the prior knows it from no rating at all
    assert m1 > m2 > m3
    # nobody here rated movie 4: the prior's baseline and place as they are
    assert m4 == pytest.approx(gm + 1.5, abs=1e-5)
    np.testing.assert_allclose(model.X[model.movies.get(4)], 0.5, atol=1e-6)


def test_without_side_features_the_prior_baseline_is_the_target():
    model = CFModel(ModelConfig(features=K))
    model.fit(*ratings(), prior=guild_prior([1000.0, 1.0, 0.0, 1.0]))
    d = model.config.mean_damping
    gm = model.global_mean
    for i in (1, 2, 3):
        assert float(model.means[model.movies.get(i)]) == pytest.approx(
            (6 * gm + d * (gm + 1.5)) / (6 + d), abs=1e-4)
