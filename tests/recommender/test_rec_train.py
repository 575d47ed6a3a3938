"""How training stops: converged windows, the iteration cap, the time budget, progress ticks."""

import time
from dataclasses import replace

import numpy as np

import recommender.objective as objective
from recommender import CFModel, ModelConfig
from recommender.train import _minimise, train_factors

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
    # The refit path of a guild past `cold_fit_max` (below it no fit starts from the previous
    # model), which trains in float32: `exact_fit_max` 0 gives this small set that objective.
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


def _flat_guilds():
    """Small guilds whose ratings carry no taste structure: the factors collapse to a flat
    optimum (user ids, movie ids, 1-10 scores)."""
    for seed in range(4):
        for n_users, n_movies, share in ((30, 40, 0.4), (80, 60, 0.3)):
            rng = np.random.default_rng(seed)
            u, m = np.nonzero(rng.random((n_users, n_movies)) < share)
            yield 10**17 + u, 1000 + m, rng.integers(1, 11, u.size).astype(float)


def _counted_fits(monkeypatch, exact_fit_max):
    """(report, cost evaluations) of each flat guild's fit."""
    calls = [0]
    original = objective.Objective.__call__

    def counted(self, params):
        calls[0] += 1
        return original(self, params)

    monkeypatch.setattr(objective.Objective, "__call__", counted)
    out = []
    for users, movies, scores in _flat_guilds():
        calls[0] = 0
        cfg = ModelConfig(scale=(1.0, 10.0), exact_fit_max=exact_fit_max)
        out.append((CFModel(cfg).fit(users, movies, scores), calls[0]))
    return out


def test_small_fits_that_collapse_converge_on_the_gradient_in_float64(monkeypatch):
    """Below ``ModelConfig.exact_fit_max`` ratings the fit runs in float64: a flat optimum is
    reached on the gradient stop, about one or two cost evaluations per CG iteration."""
    for report, evaluations in _counted_fits(monkeypatch, ModelConfig.exact_fit_max):
        assert report.stop == "gtol"
        assert evaluations <= 2 * report.iterations + 2, (evaluations, report)


def test_a_line_search_lost_in_rounding_stops_the_fit_at_once(monkeypatch):
    """In float32 the cost's rounding at a flat optimum is larger than a CG step still gains:
    a line search there failed after 30-100 evaluations (75-114 for 9-19 iterations on these
    sets) before scipy stopped on "precision loss" at its last accepted point. Past
    ``LINE_SEARCH_EVALUATIONS`` in one iteration the fit now stops there ("tol"): the same
    optimum as float64's, without the search's rest."""
    exact = _counted_fits(monkeypatch, ModelConfig.exact_fit_max)
    rounded = _counted_fits(monkeypatch, 0)
    for (report, evaluations), (reference, _) in zip(rounded, exact, strict=True):
        assert report.stop in ("tol", "gtol")
        # one or two an iteration, and the one search cut short (LINE_SEARCH_EVALUATIONS)
        assert evaluations <= 2 * report.iterations + 13, (evaluations, report)
        assert report.cost <= reference.cost * (1 + 1e-6)


def test_long_line_searches_far_from_the_optimum_are_not_cut():
    """The stop above is for a fit at its noise floor: where iterations still gain (here a
    quadratic whose optimum is 10^9 away from the start, each search extrapolating dozens of
    times), the searches take the evaluations they need and the fit reaches the optimum."""
    def scaled(z):
        d = z - 1e9
        return float(1e-12 * d @ d), 2e-12 * d

    x, iterations, cost, _stop = _minimise(
        scaled, np.zeros(2), round_iters=20, max_iterations=100, tol=1e-9, gtol=1e-12,
        time_budget=60.0, t0=time.perf_counter(), callback=None)
    assert iterations > 1 and cost < 1e-2
    np.testing.assert_allclose(x, 1e9, rtol=1e-4)
