"""Choosing the regularisation weight from the data itself (hold-out validation), and the
guild fit path that uses it (``fit_guild``).

One fixed `reg` cannot suit every guild. The L2 penalty on both factor matrices acts like a
threshold on the strength of the taste structure: structure weaker than `reg` is zeroed out
and the model falls back to its shrunk means and biases. On MovieLens (weak per-pair structure,
100k ratings) the best value is about 15; a small guild whose members share clear tastes needs
a much smaller one, or every member gets the same list. `choose_reg` fits a short grid on 90%
of the ratings and keeps the largest value whose error on the held-out 10% is within one
standard error of the best (so noise alone never lowers `reg`).

Cost: the grid runs from the largest value down, each fit warm-started from the previous one
(a regularisation path: neighbouring minima are close, so each fit converges in a few CG
rounds), with a looser tolerance and without the item-item model (rating error is all it
measures). The path stops early once the hold-out error has risen by more than a standard
error above the best so far (smaller values only overfit more), so a guild whose best value is
large pays for two or three fits, not five. (Tuning on a sample of members was tried and
rejected: with fewer ratings per movie the sample prefers a larger reg than the full guild.)
``fit_guild`` then warm-starts the final fit from the chosen grid fit.

Refits reuse the choice: when ``fit_guild`` gets a warm start whose reg was chosen on at least
``1 - RETUNE_FRACTION`` of today's number of ratings (and at most ``1 + RETUNE_FRACTION``), it
keeps that reg instead of running the grid again. A guild's ratings change a little between two
fits, and so does the best reg; the grid reruns once the guild has grown or shrunk by 20%.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .model import CFModel
from .types import FitReport, ModelConfig

DEFAULT_GRID = (1.0, 3.0, 7.0, 15.0, 30.0)
MIN_RATINGS = 50  # below this a hold-out says nothing: keep the configured value
RETUNE_FRACTION = 0.2  # rerun the grid once the guild's ratings changed by this fraction
TUNING_TOL = 1e-3  # relative cost change per round at which a grid fit counts as converged
FACTOR_FLOOR = 1e-3  # largest |factor| below which a fit counts as having learned no structure


@dataclass(frozen=True)
class RegChoice:
    reg: float
    validation_rmse: dict[float, float]  # empty when no validation was possible
    model: CFModel | None = None  # the grid fit of the chosen value (a warm start)


def _has_factors(model: CFModel) -> bool:
    """Whether the fit learned any taste structure (its movie factors are not all ~zero)."""
    X = getattr(model, "X", None)
    return X is not None and X.size > 0 and float(np.abs(X).max()) > FACTOR_FLOOR


def choose_reg(user_ids, movie_ids, scores, config: ModelConfig,
               grid: tuple[float, ...] = DEFAULT_GRID, holdout: float = 0.1, *,
               prior=None) -> RegChoice:
    """The largest grid value whose hold-out error is within one standard error of the best."""
    users = np.asarray(user_ids, dtype=np.int64)
    movies = np.asarray(movie_ids, dtype=np.int64)
    vals = np.asarray(scores, dtype=np.float64)
    if vals.size < MIN_RATINGS:
        return RegChoice(config.reg, {})
    rng = np.random.default_rng(config.seed)
    test = rng.random(vals.size) < holdout
    train = ~test
    # Score only pairs whose member and movie both stay in the training part.
    seen = np.isin(users, users[train]) & np.isin(movies, movies[train])
    test &= seen
    if test.sum() < 10:
        return RegChoice(config.reg, {})
    errors: dict[float, float] = {}
    squared: dict[float, np.ndarray] = {}
    models: dict[float, CFModel] = {}
    previous = None
    for reg in sorted(grid, reverse=True):
        model = CFModel(replace(config, reg=float(reg), tol=max(config.tol, TUNING_TOL)))
        # Zero factors are a stationary point of the cost: a fit warm-started from a model
        # whose factors collapsed can never find the structure a smaller reg allows, so such
        # a start is dropped (the fit starts from its small random init instead).
        start = previous if previous is not None and _has_factors(previous) else None
        model.fit(users[train], movies[train], vals[train], warm_start=start, prior=prior,
                  rank_model=False)
        previous = models[float(reg)] = model
        sq = squared[float(reg)] = (model.predict(users[test], movies[test]) - vals[test]) ** 2
        errors[float(reg)] = float(np.sqrt(sq.mean()))
        best_sq = min(squared.values(), key=np.mean)
        if sq.mean() > best_sq.mean() + best_sq.std() / np.sqrt(best_sq.size):
            break  # past the minimum along the path: smaller values only overfit more
    # One-standard-error rule: the largest (safest) reg whose mean squared error is within one
    # standard error of the best one; a small hold-out's noise alone cannot pick a small reg.
    best = min(squared, key=lambda r: squared[r].mean())
    limit = squared[best].mean() + squared[best].std() / np.sqrt(squared[best].size)
    chosen = max(r for r, sq in squared.items() if sq.mean() <= limit)
    return RegChoice(chosen, errors, models[chosen])


def fit_guild(user_ids, movie_ids, scores, config: ModelConfig, *,
              warm_start: CFModel | None = None, tune_reg: bool = False, prior=None,
              movie_features=None) -> tuple[CFModel, FitReport]:
    """The bot's whole fit path: optional regularisation choice, then the final fit.

    With ``tune_reg`` the final fit warm-starts from the chosen grid fit (unless a
    ``warm_start`` is given: the previous guild model is the closer start).
    """
    n = int(np.asarray(scores).size)
    tuned_on = None
    if tune_reg:
        previous = getattr(warm_start, "tuned_on", None)
        if previous and abs(n - previous) <= RETUNE_FRACTION * previous:
            assert warm_start is not None
            config = replace(config, reg=warm_start.config.reg)  # reuse the recent choice
            tuned_on = previous
        else:
            choice = choose_reg(user_ids, movie_ids, scores, config, prior=prior)
            config = replace(config, reg=choice.reg)
            tuned_on = n if choice.validation_rmse else None
            if warm_start is None:
                warm_start = choice.model
    model = CFModel(config)
    report = model.fit(user_ids, movie_ids, scores, warm_start=warm_start, prior=prior,
                       movie_features=movie_features)
    model.tuned_on = tuned_on
    return model, report
