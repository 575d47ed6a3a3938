"""Cost and analytic gradient of the CF objective, checked against a dense reference."""

import numpy as np
import pytest

from recommender.index import RatingMatrix
from recommender.objective import Objective


def _problem(seed=0, n_movies=7, n_users=5, k=3, density=0.6):
    rng = np.random.default_rng(seed)
    mask = rng.random((n_movies, n_users)) < density
    mask[0, :] = True  # every member rated something
    mi, ui = np.nonzero(mask)
    y = rng.normal(0, 1, mi.size)
    rm = RatingMatrix(mi, ui, n_movies, n_users, dtype=np.float64)
    obj = Objective(rm, y[rm.order], k, reg=0.7, reg_bias=0.3, dtype=np.float64)
    params = rng.normal(0, 0.5, obj.layout.size)
    return obj, params, mask, mi, ui, y


def test_cost_matches_dense_reference():
    obj, params, mask, mi, ui, y = _problem()
    X, T, bi, bu = obj.layout.unpack(params, np.float64)
    Y = np.zeros(mask.shape)
    Y[mi, ui] = y
    pred = X @ T.T + bi[:, None] + bu[None, :]
    expected = 0.5 * np.sum(((pred - Y) * mask) ** 2)
    expected += 0.5 * 0.7 * (np.sum(X**2) + np.sum(T**2))
    expected += 0.5 * 0.3 * (np.sum(bi**2) + np.sum(bu**2))
    cost, _ = obj(params)
    assert cost == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradient_matches_finite_differences(seed):
    obj, params, *_ = _problem(seed)
    _, grad = obj(params)
    eps = 1e-6
    numeric = np.empty_like(params)
    for j in range(params.size):
        step = np.zeros_like(params)
        step[j] = eps
        numeric[j] = (obj(params + step)[0] - obj(params - step)[0]) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6)


def test_float32_objective_close_to_float64():
    obj64, params, _mask, mi, ui, y = _problem(3, n_movies=30, n_users=20, k=4)
    rm32 = RatingMatrix(mi, ui, 30, 20, dtype=np.float32)
    obj32 = Objective(rm32, y[rm32.order], 4, reg=0.7, reg_bias=0.3, dtype=np.float32)
    c64, g64 = obj64(params)
    c32, g32 = obj32(params)
    assert c32 == pytest.approx(c64, rel=1e-5)
    np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-4)
