"""The one training routine shared by guild fits (``CFModel.fit``) and taste priors (``prior.py``).

It minimises the cost of ``objective.py`` with one run of
``scipy.optimize.minimize(method="CG")``, watched from its callback in windows of
``round_iters`` iterations, until one of these holds:

- the gradient norm is below ``gtol`` (scipy's own test), or
- the last ``round_iters`` iterations lowered the cost by less than ``tol`` relative to the
  cost (converged; a sliding window checked after every iteration, the first one measured
  from the starting point, so a warm start on unchanged data stops after one window; a fit
  whose warm start was used watches a window of ``round_iters / WARM_WINDOW_DIVISOR``
  iterations against the same decrease per iteration, so a refit after a few new ratings
  stops after ~10 iterations instead of at least 20), or the line search can no longer lower
  the cost at working precision, or
- ``max_iterations`` iterations in total, or ``time_budget`` seconds, were spent.

(Until issue 11 each window was a separate ``minimize`` call, i.e. a restart from steepest
descent every 20 iterations, and convergence was only checked at the end of each: one
uninterrupted run with a sliding window reaches the same tolerance in fewer iterations, with
the same accuracy on ml-latest-small.)

The first two make the result a property of the data rather than of an iteration count: two
seeds or a warm refit on identical data land on (almost) the same minimum. The budget only
bounds pathological cases (it is the one non-deterministic stop; FitReport says which stop hit).
Movie and member rows are preconditioned by ``sqrt(precondition * count + reg)`` (factors) and
``sqrt(count + reg_bias)`` (biases): a change of variables with the same minimiser.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from .index import RatingMatrix
from .objective import Objective

WARM_WINDOW_DIVISOR = 4  # a warm-started fit's convergence window: round_iters / this
LINE_SEARCH_EVALUATIONS = 12
"""Cost evaluations one CG iteration may take (its line search, and the first iteration's
starting point) once the fit is at its noise floor (``STALL_GAIN``). A search that needs more
there has run into the cost's rounding: at a flat optimum (a guild whose factors collapse) in
float32, a failing search took 30-100 evaluations before scipy stopped on "precision loss" at
the last accepted point; the fit now stops there at once ("tol"). Line searches that succeed
took 1-5 (ml-latest-small, a synthetic 10^6 guild) and up to 10 on the flat guilds of
``benchmarks/many_guilds.py`` (``benchmarks/README.md``, "Small fits in float64")."""
STALL_GAIN = 1e-5
"""The stop above needs the last accepted iteration to have lowered the cost by less than this
(relative): a search far from the optimum (a first iteration from a poor start) may take as
many evaluations as it needs. Before the 35 failing searches of those flat guilds' fits the
last iteration had gained 6x10^-9 to 6x10^-6, after at least 5 iterations."""


class _Stalled(Exception):
    """A line search past ``LINE_SEARCH_EVALUATIONS`` at the noise floor: the fit stops at its
    last accepted point."""


@dataclass
class Solution:
    """Learned parameters (float64) and how the minimisation ended."""

    X: np.ndarray
    T: np.ndarray
    bi: np.ndarray
    bu: np.ndarray
    iterations: int
    cost: float
    stop: str  # "gtol" | "tol" | "maxiter" | "budget" | "none"


def initial_biases(ui: np.ndarray, mi: np.ndarray, y: np.ndarray, nu: int, nm: int,
                   reg_bias: float, sweeps: int = 3,
                   offset: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Closed-form starting biases: a few alternating damped means of the residuals
    (``y - offset[movie]`` when a per-movie ``offset`` is given)."""
    bi = np.zeros(nm)
    bu = np.zeros(nu)
    off = np.zeros(nm) if offset is None else np.asarray(offset, dtype=np.float64)
    n_u = np.bincount(ui, minlength=nu)
    n_i = np.bincount(mi, minlength=nm)
    for _ in range(sweeps):
        bu = np.bincount(ui, weights=y - (bi + off)[mi], minlength=nu) / (n_u + reg_bias + 1e-12)
        bi = np.bincount(mi, weights=y - off[mi] - bu[ui], minlength=nm) / (
            n_i + reg_bias + 1e-12)
    return bi, bu


def member_ridge(ui: np.ndarray, mi: np.ndarray, t: np.ndarray, X: np.ndarray, nu: int,
                 reg: float) -> np.ndarray:
    """Every member's ridge solution with the movie factors X fixed (batched fold-in):
    theta_u = (X_rᵀ X_r + reg I)⁻¹ X_rᵀ t_r. With a taste prior the factors start at the
    prior's, and starting the members here (not at random) keeps CG well conditioned."""
    k = X.shape[1]
    Xr = X[mi]
    A = np.zeros((nu, k, k))
    for a in range(k):
        for b in range(a, k):
            A[:, a, b] = np.bincount(ui, weights=Xr[:, a] * Xr[:, b], minlength=nu)
            A[:, b, a] = A[:, a, b]
    A[:, np.arange(k), np.arange(k)] += reg
    rhs = np.stack([np.bincount(ui, weights=Xr[:, a] * t, minlength=nu) for a in range(k)], 1)
    return np.linalg.solve(A, rhs[:, :, None])[:, :, 0]


def train_factors(ui: np.ndarray, mi: np.ndarray | list[np.ndarray],
                  y: np.ndarray | list[np.ndarray], nu: int,
                  nm: int, *, k: int,
                  reg: float, reg_bias: float, seed: int = 0, init_std: float = 0.1,
                  precondition: float = 0.0, dtype: str = "float32", round_iters: int = 20,
                  tol: float = 1e-5, gtol: float = 1e-4, max_iterations: int = 1000,
                  time_budget: float = 60.0, x_prior: np.ndarray | None = None,
                  warm_tol: float | None = None, warm_gnorm: float = 0.0,
                  warm: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], None]
                  | None = None,
                  callback: Callable[[int], None] | None = None,
                  offset: np.ndarray | None = None) -> Solution:
    """Fit movie/member factors and biases to residual targets ``y`` (rating units).

    ``y`` and ``mi`` may each be a one-element list holding the array: the list is emptied
    once the training structures are built, so a caller that keeps no other reference frees
    it while training (4 bytes a rating each; ``CFModel.fit`` rebuilds its movie column from
    the counts afterwards).
    ``offset`` (per movie): the targets are ``y - offset[movie]``, never materialised (the
    objective adds the offset to the movie biases: the ratings themselves can be ``y``, no
    residual copy; issue 24 item 5).

    ``ui``/``mi`` are dense member/movie indexes of each rating. ``x_prior`` (movies x k) is the
    MAP target of the movie factors (zero rows = plain L2); the factors start from it. ``warm``
    may overwrite the starting arrays in place (warm start). ``callback(iterations_done)`` is
    called after every CG iteration (progress bars). A fit whose warm start was used counts
    as converged at ``max(tol, warm_tol)`` (per ``round_iters`` iterations), once the
    gradient norm is at most ``warm_gnorm`` times its norm at the start (``_minimise``).
    """
    t0 = time.perf_counter()
    y_ref, mi_ref = y, mi
    y = y[0] if isinstance(y, list) else y
    mi = mi[0] if isinstance(mi, list) else mi
    dt = np.dtype(dtype)
    bi, bu = initial_biases(ui, mi, y, nu, nm, reg_bias, offset=offset)
    rng = np.random.default_rng(seed)
    X = rng.normal(0.0, init_std, size=(nm, k))
    T = rng.normal(0.0, init_std, size=(nu, k))
    if x_prior is not None:
        X += x_prior
        if k and y.size:
            base = bi if offset is None else bi + offset
            T = member_ridge(ui, mi, y - base[mi] - bu[ui], X, nu, reg)
    warmed = False
    if warm is not None:
        X0, T0 = X.copy(), T.copy()
        warm(X, T, bi, bu)
        warmed = not (np.array_equal(X, X0) and np.array_equal(T, T0))  # a start it could use
        del X0, T0
    if k == 0 or max_iterations <= 0 or y.size == 0:
        for ref in (y_ref, mi_ref):
            if isinstance(ref, list):
                ref.clear()
        return Solution(X, T, bi, bu, 0, float("nan"), "none")

    rm = RatingMatrix(mi, ui, nm, nu)  # no copies when already sorted by movie
    obj = Objective(rm, rm.arrange(y), k, reg, reg_bias, dtype=dt, x_prior=x_prior,
                    offset=offset)
    rm.order = None  # only needed to sort y: 8 bytes a rating less while training
    del rm
    n_i = np.bincount(mi, minlength=nm).astype(np.float64)
    for ref in (y_ref, mi_ref):
        if isinstance(ref, list):
            ref.clear()  # the caller handed y / mi over: free them while training
    del y, mi
    lay = obj.layout
    n_u = np.bincount(ui, minlength=nu).astype(np.float64)
    s = lay.pack(
        np.repeat(np.sqrt(precondition * n_i + reg)[:, None], k, axis=1),
        np.repeat(np.sqrt(precondition * n_u + reg)[:, None], k, axis=1),
        np.sqrt(n_i + reg_bias), np.sqrt(n_u + reg_bias),
    )

    z = lay.pack(X, T, bi, bu)
    del X, T
    z *= s
    inv_s = np.reciprocal(s, out=s)  # multiplications: no division of every parameter per call
    del s

    def scaled(z):
        p = z * inv_s
        cost, grad = obj(p)
        del p
        grad *= inv_s
        return cost, grad

    gnorm_stop = 0.0
    if warmed:  # near a minimum already: a shorter window, the same cost decrease per iteration
        window = max(1, int(round_iters) // WARM_WINDOW_DIVISOR)
        if warm_tol is not None:
            tol = max(tol, warm_tol)
            gnorm_stop = warm_gnorm
        tol = tol * window / max(1, int(round_iters))
        round_iters = window
    z, done, cost, stop = _minimise(scaled, z, round_iters=round_iters,
                                    max_iterations=max_iterations, tol=tol, gtol=gtol,
                                    time_budget=time_budget, t0=t0, callback=callback,
                                    gnorm_stop=gnorm_stop)
    X, T, bi, bu = lay.unpack(z * inv_s, np.float64)
    return Solution(X.copy(), T.copy(), bi.copy(), bu.copy(), done, cost, stop)


def _minimise(scaled: Callable[[np.ndarray], tuple[float, np.ndarray]], z: np.ndarray, *,
              round_iters: int, max_iterations: int, tol: float, gtol: float,
              time_budget: float, t0: float,
              callback: Callable[[int], None] | None,
              gnorm_stop: float = 0.0) -> tuple[np.ndarray, int, float, str]:
    """One uninterrupted CG run, stopped from its callback (scipy's ``StopIteration``
    protocol) when the last ``round_iters`` iterations lowered the cost by less than ``tol``
    (relative; checked after every iteration) or the time budget is spent; returns
    (z, iterations, cost, stop). With ``gnorm_stop`` > 0 the ``tol`` stop also needs the
    gradient norm at the current point at most ``gnorm_stop`` times the starting point's (a
    loose tolerance never stops a fit that has not yet absorbed what moved its start). A line
    search lost in rounding at the noise floor (``LINE_SEARCH_EVALUATIONS``, ``STALL_GAIN``)
    ends the run at its last accepted point ("tol"), as scipy's "precision loss" exit would."""
    round_iters = max(1, int(round_iters))
    costs: list[float] = []  # the cost at the start, then after each iteration
    state = {"stop": "maxiter"}
    norms: dict[float, float] = {}  # gradient norm by cost, of the recent evaluations
    start_norm = [0.0]
    accepted = [z]  # the last accepted point (scipy rebinds, never overwrites, its iterate)
    searching = [0]  # evaluations since it was accepted

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        searching[0] += 1
        if (searching[0] > LINE_SEARCH_EVALUATIONS and len(costs) >= 2
                and costs[-2] - costs[-1] < STALL_GAIN * abs(costs[-1])):
            raise _Stalled
        cost, grad = scaled(x)
        if gnorm_stop > 0:
            norm = float(np.linalg.norm(grad))
            if not costs:
                start_norm[0] = norm
            if len(norms) > 8:
                norms.clear()
            norms[float(cost)] = norm
        if not costs:
            costs.append(cost)  # the starting point's cost: the first window's reference
        return cost, grad

    def small_gradient(cost: float) -> bool:
        if gnorm_stop <= 0:
            return True
        norm = norms.get(cost)  # the accepted point is one of the recent evaluations
        return norm is not None and norm <= gnorm_stop * start_norm[0]

    def cb(intermediate_result) -> None:  # the name makes scipy pass an OptimizeResult
        costs.append(float(intermediate_result.fun))
        accepted[0] = intermediate_result.x
        searching[0] = 0
        it = len(costs) - 1
        if callback is not None:
            callback(it)
        if it >= round_iters:  # a sliding window: checked after every iteration
            rel = (costs[it - round_iters] - costs[it]) / max(abs(costs[it]), 1e-12)
            if rel < tol and small_gradient(costs[it]):
                state["stop"] = "tol"
                raise StopIteration
        if time.perf_counter() - t0 > time_budget:
            state["stop"] = "budget"
            raise StopIteration

    try:
        res = minimize(fun, z, jac=True, method="CG", callback=cb,
                       options={"maxiter": max_iterations, "gtol": gtol})
    except _Stalled:  # what scipy's "precision loss" exit returns, without the search's rest
        return accepted[0], len(costs) - 1, costs[-1], "tol"
    stop = state["stop"]
    if res.status == 0:
        stop = "gtol"
    elif res.status == 2:  # "precision loss": no step lowers the float32 cost any more
        stop = "tol"
    return res.x, int(res.nit), float(res.fun), stop
