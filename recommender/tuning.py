"""Choosing the regularisation weight from the data itself (hold-out validation).

One fixed `reg` cannot suit every guild. The L2 penalty on both factor matrices acts like a
threshold on the strength of the taste structure: structure weaker than `reg` is zeroed out
and the model falls back to its shrunk means and biases. On MovieLens (weak per-pair structure,
100k ratings) the best value is about 15; a small guild whose members share clear tastes needs
a much smaller one, or every member gets the same list. `choose_reg` fits a short grid on 90%
of the ratings and keeps the largest value whose error on the held-out 10% is within one
standard error of the best (so noise alone never lowers `reg`). It is meant for guilds small
enough that a few extra fits cost little; the service decides the size limit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .model import CFModel
from .types import ModelConfig

DEFAULT_GRID = (1.0, 3.0, 7.0, 15.0, 30.0)
MIN_RATINGS = 50  # below this a hold-out says nothing: keep the configured value


@dataclass(frozen=True)
class RegChoice:
    reg: float
    validation_rmse: dict[float, float]  # empty when no validation was possible


def choose_reg(user_ids, movie_ids, scores, config: ModelConfig,
               grid: tuple[float, ...] = DEFAULT_GRID, holdout: float = 0.1) -> RegChoice:
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
    for reg in sorted(grid):
        model = CFModel(replace(config, reg=float(reg)))
        model.fit(users[train], movies[train], vals[train])
        squared[float(reg)] = (model.predict(users[test], movies[test]) - vals[test]) ** 2
        errors[float(reg)] = float(np.sqrt(squared[float(reg)].mean()))
    # One-standard-error rule: the largest (safest) reg whose mean squared error is within one
    # standard error of the best one; a small hold-out's noise alone cannot pick a small reg.
    best = min(squared, key=lambda r: squared[r].mean())
    limit = squared[best].mean() + squared[best].std() / np.sqrt(squared[best].size)
    chosen = max(r for r, sq in squared.items() if sq.mean() <= limit)
    return RegChoice(chosen, errors)
