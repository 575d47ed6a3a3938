"""Choosing how far a taste prior counts for the movies a guild rated (``ModelConfig.
prior_strength``) from held-out ratings of the guild itself.

A prior's movie baselines and places are evidence the guild's ratings do not have only when
the prior learned them from other people (MovieLens for a Discord server). When it learned
them from the very ratings the guild trains on (``evaluate --prior`` on the evaluated dataset,
where the prior is the training data) pulling toward them counts those ratings twice and
overfits: on ml-latest-small's fold 1 of 5 the loss sat on well-supported movies (20-50
ratings: RMSE 0.8518 vs 0.8455 without a prior; 100+: 0.7810 vs 0.7757) and heavy raters
(300+ ratings: 0.822 vs 0.808), just where the guild's own data suffices. No count tells the
two cases apart (a movie's prior count is high in both); held-out ratings do: the fit path
(``tuning.fit_guild`` with ``tune_reg``) measures the hold-out error of one hold-out fit per
value of ``STRENGTHS``, on the split and at the reg the regularisation choice starts from
(``holdout.py``), and keeps the largest strength whose paired hold-out error is within one
standard error of the best (the prior's gains on small guilds are kept unless the guild's own
held-out ratings say it costs). The reg choice then starts from the chosen strength's fit
(one hold-out fit more than the reg choice alone). The chosen value rides in the model's
config and is reused with its reg.

The held-out ratings must be outside the prior: a caller whose prior saw them (``evaluate``
building the prior from the evaluated dataset) passes a prior built without them
(``fit_guild(..., holdout_prior=...)``); the bot's prior is another dataset.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .holdout import holdout_split
from .model import CFModel
from .types import ModelConfig

STRENGTHS = (0.0, 1.0)
"""The values measured: the guild's own fit for the movies it rated, or the prior's full
evidence weight. (0.5 on ml-latest-small's fold 1 fell between: RMSE 0.8459 vs 0.8452 at 0
and 0.8483 at 1; one more hold-out fit each value.)"""


@dataclass(frozen=True)
class StrengthChoice:
    strength: float
    validation_rmse: dict[float, float]  # empty when no validation was possible
    model: CFModel | None = None  # the hold-out fit at the chosen strength (a warm start)
    fits: int = 0


def within_one_se(squared: dict[float, np.ndarray]) -> float:
    """The largest key whose hold-out squared errors are, paired with the best key's (the
    lowest mean), no worse by more than one standard error of the paired difference."""
    best = min(squared, key=lambda s: float(squared[s].mean()))
    ok = []
    for s, sq in squared.items():
        d = sq - squared[best]
        if d.size < 2 or float(d.mean()) <= float(d.std(ddof=1)) / np.sqrt(d.size):
            ok.append(s)
    return max(ok)


def choose_prior_strength(user_ids, movie_ids, scores, config: ModelConfig, prior, *,
                          holdout: float = 0.1, tol: float | None = None,
                          window: int | None = None,
                          warm_start: CFModel | None = None) -> StrengthChoice:
    """The prior strength of ``STRENGTHS`` the guild's held-out ratings support at
    ``config.reg`` (module docstring): one hold-out fit per strength, the first warm-started
    from ``warm_start`` (e.g. the guild's previous model), the others from the first.
    ``tol``/``window``: the hold-out fits' tolerance and convergence window
    (``tuning.TUNING_TOL``, ``tuning.TUNING_WINDOW``; default ``config.maxiter``)."""
    if prior is None or not len(prior):
        return StrengthChoice(config.prior_strength, {})
    users = np.asarray(user_ids, dtype=np.int64)
    movies = np.asarray(movie_ids, dtype=np.int64)
    vals = np.asarray(scores, dtype=np.float64)
    train, test = holdout_split(users, movies, config.seed, holdout)
    if test.sum() < 10:
        return StrengthChoice(config.prior_strength, {})
    tr = (users[train], movies[train], vals[train])
    te = (users[test], movies[test], vals[test])
    fit_cfg = replace(config, tol=max(config.tol, tol or config.tol),
                      maxiter=min(config.maxiter, window or config.maxiter))
    squared: dict[float, np.ndarray] = {}
    models: dict[float, CFModel] = {}
    start = warm_start if warm_start is not None and getattr(warm_start, "_fitted", False) \
        else None
    for s in sorted(STRENGTHS, reverse=True):
        m = CFModel(replace(fit_cfg, prior_strength=s))
        m.fit(*tr, warm_start=start, prior=prior, rank_model=False)
        squared[s] = (m.predict(te[0], te[1]) - te[2]) ** 2
        models[s] = m
        start = m
    chosen = within_one_se(squared)
    errors = {s: float(np.sqrt(sq.mean())) for s, sq in squared.items()}
    return StrengthChoice(chosen, errors, models[chosen], len(models))
