"""Choosing the regularisation weight from the data itself (hold-out validation), and the
guild fit path that uses it (``fit_guild``).

One fixed `reg` cannot suit every guild. The L2 penalty on both factor matrices acts like a
threshold on the strength of the taste structure: structure weaker than `reg` is zeroed out
and the model falls back to its shrunk means and biases. On MovieLens (weak per-pair structure,
100k ratings) the best value is about 15; a small guild whose members share clear tastes needs
a much smaller one, or every member gets the same list. `choose_reg` fits values of a short
grid on 90% of the ratings and keeps the largest value whose error on the held-out 10% is
within one standard error of the best (so noise alone never lowers `reg`).

Cost (issue 24: the whole fit path should cost at most half of Surprise SVD's fit). The grid is
walked, not swept, every step warm-started from its neighbour (a regularisation path:
neighbouring minima are close). A first choice runs down the path from the largest value, as
the full grid did (starting at the configured value instead made the same choices at the same
cost on ml-latest-small, final RMSE within 0.001 per fold), and stops once a value is more
than one standard error worse than the best (smaller values only overfit more): on
ml-latest-small three fits (30, 15, 7). A new choice after growth starts at the value nearest
the guild's previous choice, its first fit warm-started from the guild's previous model, goes
up while the values stay within one standard error of the best (the rule prefers larger
values), then down the same way. The hold-out fits use a looser tolerance (``TUNING_TOL``) and
no item-item model (rating error is all they measure); a warm-started fit converges on a
shorter window (``train.WARM_WINDOW_DIVISOR``). ``fit_guild`` warm-starts the final fit from
the chosen hold-out fit (90% of today's ratings: closer than an older model).
(Tuning on a sample of members was tried and rejected: with fewer ratings per movie the sample
prefers a larger reg than the full guild.)

Refits reuse the choice: the model remembers the number of ratings its reg was chosen on
(``CFModel.tuned_on``, saved in the model blob, so it survives a restart: the refit worker
warm-starts from the saved model). ``fit_guild`` keeps that reg while today's number of ratings
is within ``RETUNE_FRACTION`` (25%) of it, and chooses again, warm-started, once the guild has
grown (or shrunk) by more.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .model import CFModel
from .types import FitReport, ModelConfig

DEFAULT_GRID = (1.0, 3.0, 7.0, 15.0, 30.0)
MIN_RATINGS = 50  # below this a hold-out says nothing: keep the configured value
RETUNE_FRACTION = 0.25  # choose again once the guild's ratings changed by more than this
TUNING_TOL = 3e-3  # relative cost change per round at which a hold-out fit counts as converged
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


def _nearest(values: list[float], reg: float) -> int:
    """Index of the grid value nearest ``reg`` on a log scale."""
    logs = np.log(np.maximum(np.asarray(values, dtype=np.float64), 1e-9))
    return int(np.argmin(np.abs(logs - np.log(max(float(reg), 1e-9)))))


def choose_reg(user_ids, movie_ids, scores, config: ModelConfig,
               grid: tuple[float, ...] = DEFAULT_GRID, holdout: float = 0.1, *,
               prior=None, start: float | None = None,
               warm_start: CFModel | None = None) -> RegChoice:
    """The largest grid value whose hold-out error is within one standard error of the best,
    found by a walk along the grid from ``start`` (default: the largest value; see the module
    docstring), the first fit warm-started from ``warm_start`` when given."""
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
    values = sorted({float(r) for r in grid})
    squared: dict[float, np.ndarray] = {}
    models: dict[float, CFModel] = {}

    def evaluate(reg: float, start_from: CFModel | None) -> np.ndarray:
        model = CFModel(replace(config, reg=reg, tol=max(config.tol, TUNING_TOL)))
        # Zero factors are a stationary point of the cost: a fit warm-started from a model
        # whose factors collapsed can never find the structure a smaller reg allows, so such
        # a start is dropped (the fit starts from its small random init instead).
        usable = start_from if start_from is not None and _has_factors(start_from) else None
        model.fit(users[train], movies[train], vals[train], warm_start=usable, prior=prior,
                  rank_model=False)
        models[reg] = model
        sq = squared[reg] = (model.predict(users[test], movies[test]) - vals[test]) ** 2
        return sq

    def best() -> np.ndarray:
        return min(squared.values(), key=np.mean)

    def limit() -> float:
        b = best()
        return float(b.mean() + b.std() / np.sqrt(b.size))

    # A first choice walks the path down from the largest value (heavy regularisation first:
    # the fits along it end in better minima than a cold fit at a middle value); a new choice
    # starts at the previous one, warm-started from the guild's previous model.
    first = len(values) - 1 if start is None else _nearest(values, start)
    evaluate(values[first], warm_start)
    # Up: the rule prefers the largest value within one standard error of the best, so the
    # walk goes up while the values stay within it (each fit warm-started from the one below).
    i = first
    while i + 1 < len(values):
        i += 1
        if evaluate(values[i], models[values[i - 1]]).mean() > limit():
            break
    # Down: while the values stay within one standard error of the best (a smaller one may
    # still become the best and move the limit); past it, smaller values only overfit more.
    i = first
    while i > 0:
        i -= 1
        if evaluate(values[i], models[values[i + 1]]).mean() > limit():
            break
    # One-standard-error rule: the largest (safest) reg whose mean squared error is within one
    # standard error of the best one; a small hold-out's noise alone cannot pick a small reg.
    bound = limit()
    chosen = max(r for r, sq in squared.items() if sq.mean() <= bound)
    errors = {r: float(np.sqrt(sq.mean())) for r, sq in squared.items()}
    return RegChoice(chosen, errors, models[chosen])


def fit_guild(user_ids, movie_ids, scores, config: ModelConfig, *,
              warm_start: CFModel | None = None, tune_reg: bool = False, prior=None,
              movie_features=None) -> tuple[CFModel, FitReport]:
    """The bot's whole fit path: optional regularisation choice, then the final fit.

    With ``tune_reg`` the reg chosen for ``warm_start`` (the guild's previous model) is reused
    while the number of ratings is within ``RETUNE_FRACTION`` of the number it was chosen on;
    otherwise ``choose_reg`` runs (starting from the previous choice, warm-started from the
    previous model) and the final fit warm-starts from the chosen hold-out fit.
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
            previous_reg = (warm_start.config.reg if previous and warm_start is not None
                            else None)
            choice = choose_reg(user_ids, movie_ids, scores, config, prior=prior,
                                start=previous_reg, warm_start=warm_start)
            config = replace(config, reg=choice.reg)
            tuned_on = n if choice.validation_rmse else None
            if choice.model is not None:
                warm_start = choice.model  # 90% of today's ratings: closer than an older model
    model = CFModel(config)
    report = model.fit(user_ids, movie_ids, scores, warm_start=warm_start, prior=prior,
                       movie_features=movie_features)
    model.tuned_on = tuned_on
    return model, report
