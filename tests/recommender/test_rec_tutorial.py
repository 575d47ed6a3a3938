"""Reproduces the classic 10 movies x 5 members tutorial (its data copied here)."""

import numpy as np

from recommender import CFModel, ModelConfig
from recommender.normalise import normalise_dense

RATINGS = np.array([
    [8, 4, 0, 0, 4], [0, 0, 8, 10, 4], [8, 10, 0, 0, 6], [10, 10, 8, 10, 10], [0, 0, 0, 0, 0],
    [2, 0, 4, 0, 6], [8, 6, 4, 0, 0], [0, 0, 6, 4, 0], [0, 6, 0, 4, 10], [0, 4, 6, 8, 8],
], dtype=float)
EXPECTED_MEAN = [5.75, 7.33333333, 8, 9.6, 8, 4, 6, 4.33333333, 6.66666667, 6.5]
EXPECTED_NORM = np.array([
    [1.25, 2.25, -1.75, 0.0, 0.0, -1.75],
    [0.0, 0.0, 0.0, 0.66666667, 2.66666667, -3.33333333],
    [0.0, 0.0, 2.0, 0.0, 0.0, -2.0],
    [0.0, 0.4, 0.4, -1.6, 0.4, 0.4],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, -2.0, 0.0, 0.0, 0.0, 2.0],
    [0.0, 2.0, 0.0, -2.0, 0.0, 0.0],
    [-1.33333333, 0.0, 0.0, 1.66666667, -0.33333333, 0.0],
    [0.0, 0.0, -0.66666667, 0.0, -2.66666667, 3.33333333],
    [0.0, 0.0, -2.5, -0.5, 1.5, 1.5],
])
NEW_MEMBER = {1: 7, 5: 8, 8: 3}  # 1-based movie id -> rating


def tutorial_matrix():
    mine = np.zeros((10, 1))
    for movie, score in NEW_MEMBER.items():
        mine[movie - 1, 0] = score
    ratings = np.hstack([mine, RATINGS])  # the tutorial puts the new member in column 0
    return ratings, (ratings != 0).astype(int)


def test_normalisation_matches_tutorial_printout():
    ratings, did_rate = tutorial_matrix()
    assert did_rate[:, 0].tolist() == [1, 0, 0, 0, 1, 0, 0, 1, 0, 0]
    assert did_rate.sum() == 32
    means, norm = normalise_dense(ratings, did_rate)
    np.testing.assert_allclose(means, EXPECTED_MEAN, atol=5e-9)
    np.testing.assert_allclose(norm, EXPECTED_NORM, atol=5e-9)


def test_tutorial_recommendations_sorted_unrated_on_scale():
    ratings, did_rate = tutorial_matrix()
    movie, member = np.nonzero(did_rate)
    model = CFModel(ModelConfig(features=3, seed=0, scale=(1.0, 10.0)))
    report = model.fit(member, movie + 1, ratings[movie, member])
    assert report.n_ratings == 32 and report.n_users == 6 and report.n_movies == 10
    recs = model.recommend(0, n=10)
    ids = [r.movie_id for r in recs]
    assert len(ids) == 7 and not set(ids) & set(NEW_MEMBER)
    assert set(ids) == set(range(1, 11)) - set(NEW_MEMBER)
    ranks = [r.rank for r in recs]
    assert ranks == sorted(ranks, reverse=True)
    assert all(1.0 <= r.score <= 10.0 and 1.0 <= r.predicted <= 10.0 for r in recs)
    # the universally loved movie 4 (10, 10, 8, 10, 10) should lead the list
    assert ids[0] == 4
    pred = model.predict(np.zeros(10, int), np.arange(1, 11))
    assert np.all((pred >= 1) & (pred <= 10))
