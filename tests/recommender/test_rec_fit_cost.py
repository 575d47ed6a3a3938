"""Behaviour behind the fit path's cost cuts (issue 24 item 4; the CPU figures live in
benchmarks/fit_cost.py, never here): a warm-started fit stops at the looser ``warm_tol`` only
once its gradient is small, and the dense co-rating gram equals the sparse one."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import recommender.implicit as implicit
from recommender import CFModel, ModelConfig
from recommender.train import _minimise

CFG = ModelConfig(features=4, scale=(1.0, 5.0), maxiter=20, reg=2.0)


def synthetic(seed: int, n_users: int = 80, n_movies: int = 50):
    """Low-rank 1-5 ratings, about a third of the pairs rated."""
    rng = np.random.default_rng(seed)
    U, V = rng.normal(0, 0.6, (n_users, 3)), rng.normal(0, 0.6, (n_movies, 3))
    raw = 3.2 + U @ V.T + rng.normal(0, 0.3, (n_users, n_movies))
    u, m = np.nonzero(rng.random((n_users, n_movies)) < 0.35)
    scores = np.clip(np.round(raw[u, m]), 1, 5)
    return 10**17 + u.astype(np.int64), 1000 + m.astype(np.int64), scores


def quadratic(n: int = 60, seed: int = 0):
    """An ill-conditioned quadratic 1/2 xᵀAx - bᵀx: CG lowers its cost slowly at first."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    A = Q @ np.diag(np.logspace(0, 2, n)) @ Q.T
    b = rng.normal(size=n)

    def f(x):
        g = A @ x - b
        return float(0.5 * x @ A @ x - b @ x), g

    return f, A, b


def test_the_loose_stop_waits_for_a_small_gradient():
    f, A, _b = quadratic()
    x0 = np.zeros(A.shape[0])
    start = np.linalg.norm(f(x0)[1])
    kwargs = dict(round_iters=2, max_iterations=500, tol=0.5, gtol=0.0, time_budget=1e9,
                  t0=0.0, callback=None)
    loose, n_loose, _, stop_loose = _minimise(f, x0.copy(), **kwargs)
    guarded, n_guarded, _, stop = _minimise(f, x0.copy(), gnorm_stop=1e-3, **kwargs)
    assert stop_loose == stop == "tol"
    # the loose window alone stops while the gradient is still large ...
    assert np.linalg.norm(f(loose)[1]) > 1e-3 * start
    # ... the guard keeps going until it is small
    assert np.linalg.norm(f(guarded)[1]) <= 1e-3 * start
    assert n_guarded > n_loose


def test_a_warm_refit_stops_sooner_at_warm_tol_and_lands_close():
    users, movies, scores = synthetic(seed=4)
    n = scores.size
    most = np.arange(n) % 50 != 0  # 2% of the ratings arrive later
    before = CFModel(CFG)
    before.fit(users[most], movies[most], scores[most])
    strict = CFModel(replace(CFG, warm_tol=CFG.tol))
    tight = strict.fit(users, movies, scores, warm_start=before)
    loose_model = CFModel(CFG)
    loose = loose_model.fit(users, movies, scores, warm_start=before)
    assert loose.iterations <= tight.iterations
    assert loose.cost <= tight.cost * (1 + 1e-3)  # within the tolerance of the strict fit
    diff = np.abs(loose_model.predict(users, movies) - strict.predict(users, movies))
    assert float(diff.max()) < 0.05  # stars: the same model for every purpose


def test_a_cold_fit_ignores_warm_tol():
    users, movies, scores = synthetic(seed=5)
    a = CFModel(CFG).fit(users, movies, scores)
    b = CFModel(replace(CFG, warm_tol=0.5)).fit(users, movies, scores)
    assert a.iterations == b.iterations and a.cost == b.cost


@pytest.mark.parametrize("block", [1 << 30, 3000])
def test_the_dense_gram_equals_the_sparse_one(monkeypatch, block):
    rng = np.random.default_rng(0)
    n_users, n_movies = 70, 40
    code = np.unique(rng.integers(0, n_users * n_movies, 900))
    users, movies = (code % n_users).astype(np.int32), (code // n_users).astype(np.int32)
    sel = np.array([0, 1, 3, 7, 8, 20, 39])
    drop = np.arange(0, users.size, 9)
    monkeypatch.setattr(implicit, "DENSE_GRAM_RATIO", 0.0)  # sparse
    sparse = [implicit.gram(users, movies, n_users, sel, n_movies, distinct=True),
              implicit.gram(users, movies, n_users, sel, n_movies, distinct=True, drop=drop),
              implicit.gram(users[::-1], movies[::-1], n_users, sel, n_movies)]
    monkeypatch.setattr(implicit, "DENSE_GRAM_RATIO", 1e12)  # dense, in blocks of members
    monkeypatch.setattr(implicit, "DENSE_GRAM_BYTES", block)
    dense = [implicit.gram(users, movies, n_users, sel, n_movies, distinct=True),
             implicit.gram(users, movies, n_users, sel, n_movies, distinct=True, drop=drop),
             implicit.gram(users[::-1], movies[::-1], n_users, sel, n_movies)]
    for a, b in zip(sparse, dense, strict=True):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype == np.float32


def test_the_pick_evidence_solves_over_the_most_rated_lift_items(monkeypatch):
    """The evidence's EASE (a second solve at a first fit) is the smaller one; the guild's
    own item-item model keeps ``ease_items``."""
    import recommender.blend as blend

    seen: dict[str, int] = {}
    real_lift, real_fit = blend.pick_lift, blend.ItemItem.fit

    def lift(*args, **kwargs):
        seen["lift"] = kwargs["max_items"]
        return real_lift(*args, **kwargs)

    def fit(*args, **kwargs):
        seen.setdefault("model", kwargs["max_items"])
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(blend, "pick_lift", lift)
    monkeypatch.setattr(blend.ItemItem, "fit", fit)
    users, movies, scores = synthetic(seed=6)
    model = CFModel(replace(CFG, ease_items=40, pick_lift_items=25))
    model.fit(users, movies, scores)
    assert seen == {"model": 40, "lift": 25}
    assert 0.0 <= model.pick_evidence <= 1.0


def test_a_large_cold_fit_converges_at_large_tol_and_a_small_one_at_tol():
    users, movies, scores = synthetic(seed=7)
    n = scores.size
    small = CFModel(replace(CFG, large_fit=n + 1, large_tol=0.05)).fit(users, movies, scores)
    plain = CFModel(CFG).fit(users, movies, scores)
    assert (small.iterations, small.cost) == (plain.iterations, plain.cost)  # below the size
    large = CFModel(replace(CFG, large_fit=n, large_tol=0.05)).fit(users, movies, scores)
    assert large.stop == "tol" and large.iterations < plain.iterations
