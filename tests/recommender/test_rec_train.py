"""How training stops: converged windows, the iteration cap, the time budget, progress ticks."""

from dataclasses import replace

import numpy as np

import recommender.objective as objective
from recommender import CFModel, ModelConfig
from recommender.train import train_factors

CFG = ModelConfig(features=4, scale=(1.0, 5.0), maxiter=20, reg=2.0)


def synthetic(seed: int, n_users: int = 60, n_movies: int = 40):
    """Low-rank 1-5 ratings, about a third of the pairs rated."""
    rng = np.random.default_rng(seed)
    U, V = rng.normal(0, 0.6, (n_users, 3)), rng.normal(0, 0.6, (n_movies, 3))
    raw = 3.2 + U @ V.T + rng.normal(0, 0.3, (n_users, n_movies))
    u, m = np.nonzero(rng.random((n_users, n_movies)) < 0.35)
    scores = np.clip(np.round(raw[u, m]), 1, 5)
    return 10**17 + u.astype(np.int64), 1000 + m.astype(np.int64), scores


def test_a_warm_start_on_unchanged_data_stops_after_one_window():
    # The refit path of a guild past `cold_fit_max` (below it the bot never warm-starts),
    # which trains in float32: `exact_fit_max` 0 gives this small set the same objective.
    cfg = replace(CFG, exact_fit_max=0)
    users, movies, scores = synthetic(seed=2)
    cold = CFModel(cfg)
    first = cold.fit(users, movies, scores)
    assert first.stop in ("tol", "gtol") and first.iterations > CFG.maxiter
    warm = CFModel(cfg)
    again = warm.fit(users, movies, scores, warm_start=cold)
    assert again.stop in ("tol", "gtol")
    assert again.iterations <= CFG.maxiter  # measured from the starting point: one window
    assert again.cost <= first.cost * (1 + 1e-4)


def test_iteration_cap_and_time_budget_stop_the_run_and_say_so():
    users, movies, scores = synthetic(seed=3)
    capped = CFModel(replace(CFG, max_iterations=5)).fit(users, movies, scores)
    assert (capped.iterations, capped.stop) == (5, "maxiter")
    hurried = CFModel(replace(CFG, time_budget=0.0)).fit(users, movies, scores)
    assert (hurried.iterations, hurried.stop) == (1, "budget")


def test_progress_callback_ticks_once_per_iteration():
    rng = np.random.default_rng(0)
    ui = rng.integers(0, 30, 400)
    mi = rng.integers(0, 20, 400)
    y = rng.normal(0, 1, 400)
    ticks: list[int] = []
    sol = train_factors(ui, mi, y, 30, 20, k=3, reg=1.0, reg_bias=1.0, max_iterations=12,
                        callback=ticks.append)
    assert ticks == list(range(1, sol.iterations + 1))
    assert sol.stop == "maxiter" and sol.iterations == 12


def test_duplicate_free_unsorted_input_trains_like_sorted_input():
    rng = np.random.default_rng(1)
    pairs = rng.permutation(30 * 20)[:300]
    ui, mi = pairs // 20, pairs % 20
    y = rng.normal(0, 1, ui.size)
    a = train_factors(ui, mi, y, 30, 20, k=3, reg=1.0, reg_bias=1.0, max_iterations=30)
    order = np.lexsort((ui, mi))
    b = train_factors(ui[order], mi[order], y[order], 30, 20, k=3, reg=1.0, reg_bias=1.0,
                      max_iterations=30)
    np.testing.assert_allclose(a.X, b.X, rtol=1e-5, atol=1e-6)
    assert abs(a.cost - b.cost) <= 1e-6 * abs(a.cost)


def test_small_fits_that_collapse_converge_without_line_search_thrash(monkeypatch):
    """A small guild whose ratings carry no taste structure (the factors collapse to a flat
    optimum) is fitted in float64 (``ModelConfig.exact_fit_max``): about one or two cost
    evaluations per CG iteration to the gradient stop. In float32 the cost's rounding at the
    optimum made the line searches thrash (75-114 evaluations for 9-19 iterations on these
    sets) before scipy stopped on "precision loss"; the optimum is the same."""
    calls = [0]
    original = objective.Objective.__call__

    def counted(self, params):
        calls[0] += 1
        return original(self, params)

    monkeypatch.setattr(objective.Objective, "__call__", counted)
    thrashed = 0
    for seed in range(4):
        for n_users, n_movies, share in ((30, 40, 0.4), (80, 60, 0.3)):
            rng = np.random.default_rng(seed)
            u, m = np.nonzero(rng.random((n_users, n_movies)) < share)
            scores = rng.integers(1, 11, u.size).astype(float)
            reports = []
            for exact in (ModelConfig.exact_fit_max, 0):
                calls[0] = 0
                cfg = ModelConfig(scale=(1.0, 10.0), exact_fit_max=exact)
                report = CFModel(cfg).fit(10**17 + u, 1000 + m, scores)
                reports.append((report, calls[0]))
            (exact, evaluations), (float32, evaluations32) = reports
            assert exact.stop == "gtol"
            assert evaluations <= 2 * exact.iterations + 2, (seed, evaluations, exact)
            assert exact.cost <= float32.cost * (1 + 1e-6)
            thrashed += evaluations32 > 2 * float32.iterations + 2
    assert thrashed  # what float32 did on some of the same sets (the case this guards)
