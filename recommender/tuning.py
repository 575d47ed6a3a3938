"""Choosing the regularisation weight from the data itself (hold-out validation), and the
guild fit path that uses it (``fit_guild``).

One fixed `reg` cannot suit every guild. The L2 penalty on both factor matrices acts like a
threshold on the strength of the taste structure: structure weaker than `reg` is zeroed out
and the model falls back to its shrunk means and biases. On MovieLens (weak per-pair structure,
100k ratings) the best value is about 15; a small guild whose members share clear tastes needs
a much smaller one, or every member gets the same list. `choose_reg` measures errors on a
held-out 10% of the ratings and keeps the largest value of a short ladder (1, 3, 7, 15, 30)
whose error is within one standard error of the best measured (so noise alone never lowers
`reg`).

Cost (issue 24: the whole fit path should cost at most half of Surprise SVD's fit). No grid of
fits: one hold-out fit, at a start chosen from evidence, plus evidence that costs no fit:

- the start: the previous choice (a re-choice after growth, its fit warm-started from the
  guild's previous model), else ``default_start`` (15: offline, on 18 guilds cut from
  ml-latest-small and synthetic guilds up to 2.5x10^5 ratings, the old grid walk chose 15 or 30
  every time, 30 where the factors had collapsed to the baseline);
- the largest value stands for that collapse: it is scored by a bias-only model (closed-form
  biases, no CG; with a taste prior, where the collapse is toward the prior, by a real fit);
- a smaller value gets a real fit (warm-started from the current one) only where the evidence
  says it beats the best error by more than one standard error: first the members' factors
  re-solved at every smaller value, the movie factors held fixed (``member_ridge_errors``:
  batched ridge solves in closed form, a few ms), then for the most promising value one
  alternating sweep, members, movies (toward a taste prior's factors), members
  (``sweep_errors``: the movie side overfits too; with a prior the first screen alone asked
  for a needless fit at 3 on ml-latest-small); a fit whose factors collapsed gives no such
  evidence and the next value down is fitted.

Below ``ModelConfig.cold_fit_max`` ratings (fits of milliseconds) the screens are skipped:
every step down is a real fit until the error turns up. A small guild's few co-ratings make the
screens miss (the console demo's 1,200 ratings: from a fit at 15 whose factors sat just above
the floor, no gain was seen, and 2 of 6 splits chose 30, no taste at all, where a fit at 3
gains 0.5 RMSE); a fit no better than the baseline by a standard error counts as collapsed
above that size too.

On ml-latest-small that is one CG fit (it was three). The hold-out fits use a looser tolerance
(``TUNING_TOL`` over a shorter window, ``TUNING_WINDOW``) and no item-item model (rating
error is all they measure); ``fit_guild`` warm-starts the final fit from the chosen hold-out
fit (90% of today's ratings: closer than an older model), or from the start's fit when the
choice is the baseline's value.

Refits reuse the choice: the model remembers the number of ratings its reg was chosen on
(``CFModel.tuned_on``, saved in the model blob, so it survives a restart: the refit worker
warm-starts from the saved model). ``fit_guild`` keeps that reg, and the "will pick" part's
measured evidence (``blend.PickPart``: a second EASE solve), while today's number of ratings is
within ``RETUNE_FRACTION`` (25%) of it, and chooses again, warm-started, once the guild has
grown (or shrunk) by more.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from .holdout import holdout_split
from .model import CFModel
from .prior_strength import choose_prior_strength
from .types import FitReport, ModelConfig

DEFAULT_GRID = (1.0, 3.0, 7.0, 15.0, 30.0)
MIN_RATINGS = 50  # below this a hold-out says nothing: keep the configured value
RETUNE_FRACTION = 0.25  # choose again once the guild's ratings changed by more than this
# A hold-out fit counts as converged when TUNING_WINDOW CG iterations lowered its cost by less
# than TUNING_TOL (relative). Was 20 / 3e-3: evaluate --folds 5 --tune-reg (ml-latest-small)
# 76 -> 63 cost evaluations for the whole choice and final fit, the same choice (15) on every
# fold, RMSE 0.8467 -> 0.8469, P@10 0.2220 -> 0.2221, nDCG@10 0.3042 -> 0.3044; --folds 2
# chose 30 as before (RMSE 0.87262, P@10 0.32029 both times). The final fit goes on from it.
TUNING_TOL = 1e-2
TUNING_WINDOW = 10
FACTOR_FLOOR = 1e-3  # largest |factor| below which a fit counts as having learned no structure


@dataclass(frozen=True)
class RegChoice:
    reg: float
    validation_rmse: dict[float, float]  # empty when no validation was possible
    model: CFModel | None = None  # the hold-out fit nearest the chosen value (a warm start)
    fits: int = 0  # hold-out CG fits run (the cost of the choice)


def _has_factors(model: CFModel) -> bool:
    """Whether the fit learned any taste structure (its movie factors are not all ~zero)."""
    X = getattr(model, "X", None)
    return X is not None and X.size > 0 and float(np.abs(X).max()) > FACTOR_FLOOR


def _nearest(values: list[float], reg: float) -> int:
    """Index of the ladder value nearest ``reg`` on a log scale."""
    logs = np.log(np.maximum(np.asarray(values, dtype=np.float64), 1e-9))
    return int(np.argmin(np.abs(logs - np.log(max(float(reg), 1e-9)))))


def default_start(values: list[float]) -> float:
    """Where a first choice starts: the second-largest ladder value (15 on the default ladder).
    Offline (benchmarks/README.md, 18 guilds cut from ml-latest-small and synthetic guilds of
    10^4-2.5x10^5 ratings) the grid walk chose 15 or 30 every time; 30 mostly where the fits
    at 30 and often 15 had collapsed to the baseline, which the choice measures without a
    fit; smaller values only where the factors at 15 collapse too (a tiny guild)."""
    return values[-2] if len(values) > 1 else values[-1]


def _design(model: CFModel, users, movies, vals):
    """Member and movie indexes, targets (rating units minus the fit's baseline) and that
    baseline of (member, movie, score) triples the fit knows."""
    u, i = model.users.lookup(users), model.movies.lookup(movies)
    base = model.means[i].astype(np.float64) + model.bi[i] + model.bu[u]
    return u, i, np.asarray(vals, dtype=np.float64) / model.config.unit - base, base


def _squared(model: CFModel, X: np.ndarray, theta: np.ndarray, test) -> np.ndarray:
    """Hold-out squared errors (scale units) of the fit's baseline plus X . theta."""
    ut, it, tt, base = _design(model, *test)
    unit, (lo, hi) = model.config.unit, model.config.scale
    pred = np.clip(base + np.einsum("ij,ij->i", X[it], theta[ut]), lo / unit, hi / unit)
    return ((pred - (tt + base)) * unit) ** 2


def _compact(idx: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(idx, return_inverse=True)`` of indexes below ``n``, by one bincount (no
    sort: 4 -> 0.5 ms on ml-latest-small's 72,000 training pairs)."""
    used = np.flatnonzero(np.bincount(idx, minlength=n))
    position = np.zeros(n, dtype=np.intp)
    position[used] = np.arange(used.size)
    return used, position[idx]


def member_ridge_errors(model: CFModel, train: tuple[np.ndarray, np.ndarray, np.ndarray],
                        test: tuple[np.ndarray, np.ndarray, np.ndarray],
                        regs: list[float]) -> dict[float, np.ndarray]:
    """The hold-out squared errors a fit would make with every member's factors re-solved at
    each reg in ``regs`` while the movie factors and biases stay the fit's: batched ridge
    solves (one eigendecomposition per member, then every reg in closed form), a few ms.
    The first screen for where a smaller reg is worth a real fit: with clear tastes the
    members take larger factors and the error falls; on noise it rises (it ignores the movie
    side, so it is optimistic: ``sweep_errors`` confirms)."""
    X = np.asarray(model.X, dtype=np.float64)
    k = X.shape[1]
    nu = len(model.users)
    u, i, t, _ = _design(model, *train)
    used, i = _compact(i, len(model.movies))  # rated movies only (a prior adds many)
    Xu = X[used]
    R = sp.csr_matrix((t, (u, i)), shape=(nu, used.size))  # duplicate pairs add up
    rhs = np.asarray(R @ Xu)
    R.data[:] = 1.0
    outer = (Xu[:, :, None] * Xu[:, None, :]).reshape(used.size, k * k)
    A = np.asarray(R @ outer).reshape(nu, k, k)
    s, V = np.linalg.eigh(A)
    coef = np.einsum("uji,uj->ui", V, rhs)
    return {r: _squared(model, X, np.einsum("uij,uj->ui", V, coef / (s + r)), test)
            for r in regs}


def _ridge_rows(R: sp.csr_matrix, Rt: sp.csr_matrix, F: np.ndarray, reg: float,
                target: np.ndarray | None = None) -> np.ndarray:
    """Every row's ridge solution (F_rᵀ F_r + reg I)⁻¹ (F_rᵀ t_r + reg target_row): R says
    which columns each row rated (ones), Rt holds the targets; a batched k x k solve."""
    k = F.shape[1]
    rhs = np.asarray(Rt @ F)
    if target is not None:
        rhs += reg * target
    A = np.asarray(R @ (F[:, :, None] * F[:, None, :]).reshape(F.shape[0], k * k))
    A = A.reshape(R.shape[0], k, k)
    A[:, np.arange(k), np.arange(k)] += reg
    return np.linalg.solve(A, rhs[:, :, None])[:, :, 0]


def sweep_errors(model: CFModel, train: tuple[np.ndarray, np.ndarray, np.ndarray],
                 test: tuple[np.ndarray, np.ndarray, np.ndarray], reg: float) -> np.ndarray:
    """The hold-out squared errors after one alternating sweep at ``reg`` from the fit
    ``model`` (its biases kept): the members' factors re-solved with the movie factors
    fixed, then the movies' (toward the taste prior's factors when the fit had one), then
    the members' again. Closer to a real fit at ``reg`` than ``member_ridge_errors`` (the
    movie factors overfit too): on ml-latest-small's hold-out it gave 0.985 / 0.914 / 0.870
    RMSE at reg 1 / 3 / 7 from the fit at 15, where real fits give 1.02 / 0.94 / 0.88."""
    X = np.asarray(model.X, dtype=np.float64)
    nu = len(model.users)
    u, i, t, _ = _design(model, *train)
    used, i = _compact(i, len(model.movies))  # rated movies only (a prior adds many)
    x0 = None
    if model.prior is not None and model.prior.features == X.shape[1]:
        rows = model._p_row[used]
        x0 = np.zeros((used.size, X.shape[1]))
        x0[rows >= 0] = model.prior.factors[rows[rows >= 0]]
    by_member_t = sp.csr_matrix((t, (u, i)), shape=(nu, used.size))  # duplicates add up
    by_movie_t = by_member_t.T.tocsr()
    by_member, by_movie = by_member_t.copy(), by_movie_t.copy()
    by_member.data[:] = 1.0
    by_movie.data[:] = 1.0
    theta = _ridge_rows(by_member, by_member_t, X[used], reg)
    Xu = _ridge_rows(by_movie, by_movie_t, theta, reg, x0)
    theta = _ridge_rows(by_member, by_member_t, Xu, reg)
    X = X.copy()
    X[used] = Xu  # the hold-out's movies are all rated in training
    return _squared(model, X, theta, test)


def choose_reg(user_ids, movie_ids, scores, config: ModelConfig,
               grid: tuple[float, ...] = DEFAULT_GRID, holdout: float = 0.1, *,
               prior=None, start: float | None = None,
               warm_start: CFModel | None = None) -> RegChoice:
    """The largest ladder value whose hold-out error is within one standard error of the best
    measured, from one hold-out fit at ``start`` (default: ``default_start``) warm-started
    from ``warm_start``, the baseline for the largest value, and further fits only where the
    cheap evidence says a smaller value may win (see the module docstring)."""
    users = np.asarray(user_ids, dtype=np.int64)
    movies = np.asarray(movie_ids, dtype=np.int64)
    vals = np.asarray(scores, dtype=np.float64)
    if vals.size < MIN_RATINGS:
        return RegChoice(config.reg, {})
    # Score only pairs whose member and movie both stay in the training part.
    train, test = holdout_split(users, movies, config.seed, holdout)
    if test.sum() < 10:
        return RegChoice(config.reg, {})
    values = sorted({float(r) for r in grid})
    top = values[-1]
    tr = (users[train], movies[train], vals[train])
    te = (users[test], movies[test], vals[test])
    squared: dict[float, np.ndarray] = {}
    models: dict[float, CFModel] = {}

    def evaluate(reg: float, start_from: CFModel | None) -> CFModel:
        model = CFModel(replace(config, reg=reg, tol=max(config.tol, TUNING_TOL),
                                maxiter=min(TUNING_WINDOW, config.maxiter)))
        # Zero factors are a stationary point of the cost: a fit warm-started from a model
        # whose factors collapsed can never find the structure a smaller reg allows, so such
        # a start is dropped (the fit starts from its small random init instead).
        usable = start_from if start_from is not None and _has_factors(start_from) else None
        model.fit(*tr, warm_start=usable, prior=prior, rank_model=False)
        models[reg] = model
        squared[reg] = (model.predict(te[0], te[1]) - te[2]) ** 2
        return model

    def best() -> np.ndarray:
        return min(squared.values(), key=np.mean)

    def limit() -> float:
        b = best()
        return float(b.mean() + b.std() / np.sqrt(b.size))

    def learned(model: CFModel, reg: float) -> bool:
        # Whether the fit at ``reg`` learned structure the screens can re-solve: factors
        # above the floor *and* a hold-out error below the baseline's (the top value's) by
        # more than one standard error. A fit whose factors are small but not zero (the demo
        # server's 1,200 ratings at 15: 2.498 vs the baseline's 2.506 RMSE, where a fit at 1
        # gives 1.9-2.2) makes both screens re-solve nearly nothing, and the choice stopped
        # at the baseline in 2 of 6 seeds; such a fit counts as collapsed (the next value
        # down gets a real fit).
        if not _has_factors(model):
            return False
        if top not in squared or reg == top:
            return True
        flat = squared[top]
        return float(squared[reg].mean()) < float(flat.mean() - flat.std() / np.sqrt(flat.size))

    # The largest value stands for "the factors collapse to the baseline" (it did on every
    # guild the offline table saw): without a prior it is scored by a bias-only model
    # (closed-form biases, no CG), so a choice of it costs no fit at that value.
    if prior is None and len(values) > 1:
        flat = CFModel(replace(config, features=0))
        flat.fit(*tr, rank_model=False)
        squared[top] = (flat.predict(te[0], te[1]) - te[2]) ** 2
    first = values[_nearest(values, start if start is not None else default_start(values))]
    if first == top and top in squared:
        first = values[-2]  # the top is measured already: start below it
    current = evaluate(first, warm_start)
    fits = 1
    if top not in squared:  # with a prior the collapse is toward the prior: fit the top too
        evaluate(top, current)
        fits += 1
    i = values.index(first)
    # Below ``cold_fit_max`` ratings a fit costs milliseconds: every step down is a real fit
    # (the screens re-solve from one fit's factors, and a small guild's few co-ratings make
    # them miss: the demo server's screen from 7 saw no gain at 1 where a fit at 1 gained
    # 0.15 RMSE), until the error turns up.
    walk = vals.size < config.cold_fit_max
    # Down: a smaller value gets a real fit only where the evidence says it may beat the best
    # by more than one standard error (the rule would keep the larger value otherwise).
    while i > 0:
        below = values[:i]
        if walk:
            i -= 1
            before = float(squared[values[i + 1]].mean())
            current = evaluate(values[i], current)
            fits += 1
            if float(squared[values[i]].mean()) > before:
                break  # the error turned up: smaller values only overfit more
            continue
        if learned(current, values[i]):
            proxy = member_ridge_errors(current, tr, te, below)  # the cheap screen
            b = best()
            target = float(b.mean() - b.std() / np.sqrt(b.size))
            j = min(range(len(below)), key=lambda n: float(proxy[below[n]].mean()))
            if float(proxy[below[j]].mean()) >= target:
                break
            if float(sweep_errors(current, tr, te, below[j]).mean()) >= target:
                break  # the movie side would overfit: confirmed no better
            i = j
        else:
            i -= 1  # collapsed: nothing to re-solve; the next value down, fitted cold
        current = evaluate(values[i], current)
        fits += 1
        if float(squared[values[i]].mean()) > limit():
            break  # more than one standard error worse: smaller values only overfit more
    # One-standard-error rule: the largest (safest) reg whose mean squared error is within one
    # standard error of the best one; a small hold-out's noise alone cannot pick a small reg.
    bound = limit()
    chosen = max(r for r, sq in squared.items() if sq.mean() <= bound)
    errors = {r: float(np.sqrt(sq.mean())) for r, sq in squared.items()}
    model = models.get(chosen)
    if model is None:  # the baseline's value: the final fit starts from the nearest fit
        model = models[max(models)]
    return RegChoice(chosen, errors, model, fits)


def uses_previous_model(n_ratings: int, config: ModelConfig) -> bool:
    """Whether a guild's fit of ``n_ratings`` starts from its previous model (a warm start and
    a reused reg choice) or depends on today's ratings alone (``ModelConfig.cold_fit_max``)."""
    return n_ratings >= config.cold_fit_max


def fit_guild(user_ids, movie_ids, scores, config: ModelConfig, *,
              warm_start: CFModel | None = None, tune_reg: bool = False, prior=None,
              movie_features=None, holdout_prior=None) -> tuple[CFModel, FitReport]:
    """The bot's whole fit path: optional regularisation choice, then the final fit.

    Below ``config.cold_fit_max`` ratings ``warm_start`` is ignored (the model depends on the
    ratings alone); a ``warm_start`` without factors never starts the final fit.
    With ``tune_reg`` the reg chosen for ``warm_start`` (the guild's previous model) is reused
    while the number of ratings is within ``RETUNE_FRACTION`` of the number it was chosen on;
    otherwise ``choose_reg`` runs (starting from the previous choice, warm-started from the
    previous model) and the final fit warm-starts from the chosen hold-out fit. With a
    ``prior`` the prior's strength is chosen on the same hold-out after the reg
    (``prior_strength.py``) and reused with it. ``holdout_prior(users, movies)``: a prior
    built without those held-out (member, movie) pairs, for the choices' hold-out fits, when
    ``prior`` saw them (``evaluate`` on its own dataset; None: ``prior`` is used).
    """
    n = int(np.asarray(scores).size)
    if not uses_previous_model(n, config):
        warm_start = None  # the model is a function of today's ratings (``cold_fit_max``)
    tuned_on = None
    evidence = None
    if tune_reg:
        previous = getattr(warm_start, "tuned_on", None)
        if previous and abs(n - previous) <= RETUNE_FRACTION * previous:
            assert warm_start is not None
            config = replace(config, reg=warm_start.config.reg,  # reuse the recent choice
                             prior_strength=warm_start.config.prior_strength)
            tuned_on = previous
            # and the "will pick" part's evidence, measured on nearly the same guild
            evidence = getattr(warm_start, "pick_evidence", None)
        else:
            previous_reg = (warm_start.config.reg if previous and warm_start is not None
                            else None)
            tune_prior = prior
            if prior is not None and holdout_prior is not None:
                _, held = holdout_split(user_ids, movie_ids, config.seed)
                tune_prior = holdout_prior(np.asarray(user_ids)[held],
                                           np.asarray(movie_ids)[held])
            if prior is not None:
                # the prior's strength first, at the reg the choice starts from; the reg
                # choice then starts from that hold-out fit (the same split)
                values = sorted({float(r) for r in DEFAULT_GRID})
                first = values[_nearest(values, previous_reg if previous_reg is not None
                                        else default_start(values))]
                strength = choose_prior_strength(
                    user_ids, movie_ids, scores, replace(config, reg=first), tune_prior,
                    tol=TUNING_TOL, window=TUNING_WINDOW, warm_start=warm_start)
                config = replace(config, prior_strength=strength.strength)
                if strength.model is not None:
                    warm_start = strength.model
            choice = choose_reg(user_ids, movie_ids, scores, config, prior=tune_prior,
                                start=previous_reg, warm_start=warm_start)
            config = replace(config, reg=choice.reg)
            tuned_on = n if choice.validation_rmse else None
            if choice.model is not None:
                warm_start = choice.model  # 90% of today's ratings: closer than an older model
    if warm_start is not None and not _has_factors(warm_start):
        warm_start = None  # zero factors are a stationary point: a start the fit never leaves
    model = CFModel(config)
    report = model.fit(user_ids, movie_ids, scores, warm_start=warm_start, prior=prior,
                       movie_features=movie_features, pick_evidence=evidence)
    model.tuned_on = tuned_on
    return model, report
