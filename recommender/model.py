"""CFModel: biased matrix factorisation on one guild's ratings, trained with conjugate gradient.

Prediction for member u and movie i, in rating units (see ``types.py``):

    pred = m_i + b_i + b_u + x_i . theta_u

``m_i`` is the movie's shrunk mean (fixed per fit), ``b_i``/``b_u`` are regularised movie and
member biases and ``x_i``/``theta_u`` the k latent features, all learned together by
``scipy.optimize.minimize(method="CG")`` on the mean-normalised ratings (``objective.py``).
``predict`` returns the plain prediction, clamped to the scale. Ranking (recommend, popular,
group) subtracts ``confidence / sqrt(support + 1)`` and puts movies under the minimum support
last, so obscure movies with a couple of high ratings do not top the lists.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterable

import numpy as np
from scipy.optimize import minimize

from . import foldin
from .index import IdIndex, RatingMatrix, dedupe_last
from .normalise import shrunk_means
from .objective import Objective
from .types import FitReport, ModelConfig, Recommendation

_MIN_FEATURE_NORM = 1e-6  # feature vectors shorter than this count as "not learned"
_UNSUPPORTED = 1.0e6  # ranking offset for movies below min support (they only fill gaps)


class CFModel:
    """Collaborative-filtering model for one guild (see module docstring)."""

    def __init__(self, config: ModelConfig | None = None) -> None:
        self.config = config or ModelConfig()
        self._fitted = False
        self.report: FitReport | None = None

    # ------------------------------------------------------------------ fitting
    def fit(self, user_ids, movie_ids, scores, warm_start: CFModel | None = None) -> FitReport:
        """Fit on (member, movie, score) triples; later duplicates of a pair win."""
        t0 = time.perf_counter()
        cfg = self.config
        dtype = np.dtype(cfg.dtype)
        users = np.asarray(user_ids, dtype=np.int64).ravel()
        movies = np.asarray(movie_ids, dtype=np.int64).ravel()
        vals = np.asarray(scores, dtype=np.float64).ravel()
        if not (users.size == movies.size == vals.size):
            raise ValueError("user_ids, movie_ids and scores must have the same length")
        ok = np.isfinite(vals)
        users, movies, vals = users[ok], movies[ok], vals[ok]
        self.users = IdIndex(users)
        self.movies = IdIndex(movies)
        nu, nm, k = len(self.users), len(self.movies), cfg.features
        ui = self.users.lookup(users)
        mi = self.movies.lookup(movies)
        keep = dedupe_last(ui * max(nm, 1) + mi)
        if keep.size != ui.size:
            ui, mi, vals = ui[keep], mi[keep], vals[keep]
        vals = np.clip(vals, *cfg.scale) / cfg.unit

        self.global_mean = float(vals.mean()) if vals.size else float(np.mean(cfg.scale)) / cfg.unit
        means, support = shrunk_means(mi, vals, nm, self.global_mean, cfg.mean_damping)
        self.means = means.astype(dtype)
        self.support_counts = support
        y = vals - means[mi]

        # closed-form starting biases: a few alternating damped means of the residuals
        bi = np.zeros(nm)
        bu = np.zeros(nu)
        n_u = np.bincount(ui, minlength=nu)
        for _ in range(3):
            bu = np.bincount(ui, weights=y - bi[mi], minlength=nu) / (n_u + cfg.reg_bias + 1e-12)
            bi = np.bincount(mi, weights=y - bu[ui], minlength=nm) / (
                support + cfg.reg_bias + 1e-12
            )

        rng = np.random.default_rng(cfg.seed)
        X = rng.normal(0.0, cfg.init_std, size=(nm, k))
        T = rng.normal(0.0, cfg.init_std, size=(nu, k))
        if warm_start is not None and getattr(warm_start, "_fitted", False):
            self._warm(warm_start, X, T, bi, bu)

        iterations, cost = 0, float("nan")
        factorise = (
            k > 0 and cfg.maxiter > 0 and nu >= 2 and nm >= 2
            and vals.size >= cfg.min_ratings_to_factorise
        )
        self._structure(ui, mi, vals)
        if factorise:
            rm = RatingMatrix(mi, ui, nm, nu, dtype=dtype)
            obj = Objective(rm, y[rm.order], k, cfg.reg, cfg.reg_bias, dtype=dtype)
            lay = obj.layout
            # diagonal preconditioning by change of variables z = s * params, s ~ sqrt(Hessian
            # diagonal): same cost and minimiser, far better conditioned for CG
            s = lay.pack(
                np.repeat(np.sqrt(cfg.precondition * support + cfg.reg)[:, None], k, axis=1),
                np.repeat(np.sqrt(cfg.precondition * n_u + cfg.reg)[:, None], k, axis=1),
                np.sqrt(support + cfg.reg_bias), np.sqrt(n_u + cfg.reg_bias),
            )

            def scaled(z):
                cost, grad = obj(z / s)
                return cost, grad / s

            res = minimize(scaled, lay.pack(X, T, bi, bu) * s, jac=True, method="CG",
                           options={"maxiter": cfg.maxiter, "gtol": cfg.gtol})
            X, T, bi, bu = lay.unpack(res.x / s, np.float64)
            iterations, cost = int(res.nit), float(res.fun)
        else:
            X = np.zeros((nm, k))
            T = np.zeros((nu, k))
            if vals.size:
                err = bi[mi] + bu[ui] - y
                cost = 0.5 * float(err @ err) + 0.5 * cfg.reg_bias * float(bi @ bi + bu @ bu)
        self.X = np.ascontiguousarray(X, dtype=dtype)
        self.T = np.ascontiguousarray(T, dtype=dtype)
        self.bi = np.asarray(bi, dtype=dtype)
        self.bu = np.asarray(bu, dtype=dtype)
        self._fitted = True
        self.report = FitReport(int(vals.size), nu, nm, iterations,
                                time.perf_counter() - t0, cost, factorise)
        return self.report

    def _warm(self, prev: CFModel, X, T, bi, bu) -> None:
        """Copy the previous model's rows for ids both models know (new ids keep fresh rows)."""
        if prev.config.features != self.config.features or prev.config.unit != self.config.unit:
            return
        pm = prev.movies.lookup(self.movies.ids)
        hit = pm >= 0
        X[hit] = prev.X[pm[hit]]
        bi[hit] = prev.bi[pm[hit]]
        pu = prev.users.lookup(self.users.ids)
        hit = pu >= 0
        T[hit] = prev.T[pu[hit]]
        bu[hit] = prev.bu[pu[hit]]

    def snapshot(self) -> CFModel:
        """A copy a fit can warm-start from in another thread while this model keeps taking
        fold-ins: the member-side arrays that fold_in writes in place are copied; everything
        else is shared (fold_in replaces, never mutates, those arrays)."""
        self._check()
        snap = copy.copy(self)
        snap.users = copy.copy(self.users)
        snap.T = self.T.copy()
        snap.bu = self.bu.copy()
        snap.support_counts = self.support_counts.copy()
        snap._overrides = dict(self._overrides)
        return snap

    def _structure(self, ui, mi, vals) -> None:
        """Per-member rated lists (CSR by member) used for exclusion, fold-in and explain."""
        order = np.lexsort((mi, ui))
        self._r_ptr = np.zeros(len(self.users) + 1, dtype=np.int64)
        np.cumsum(np.bincount(ui, minlength=len(self.users)), out=self._r_ptr[1:])
        self._r_movies = mi[order].astype(np.int64)
        self._r_vals = vals[order].astype(np.float64)
        self._overrides: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._lists_known = True  # False after loading a model saved without rating lists

    # ------------------------------------------------------------------ lookups
    def _check(self) -> None:
        if not self._fitted:
            raise RuntimeError("model is not fitted")

    def _rated(self, u: int) -> tuple[np.ndarray, np.ndarray]:
        """(movie indexes, ratings in units) of member index u."""
        if u in self._overrides:
            return self._overrides[u]
        if u + 1 >= self._r_ptr.size:
            return np.zeros(0, np.int64), np.zeros(0)
        a, b = self._r_ptr[u], self._r_ptr[u + 1]
        return self._r_movies[a:b], self._r_vals[a:b]

    def knows_user(self, user_id) -> bool:
        self._check()
        return self.users.get(user_id) >= 0

    def knows_movie(self, movie_id) -> bool:
        self._check()
        return self.movies.get(movie_id) >= 0

    def support(self, movie_id) -> int:
        """Number of ratings the movie has in this model (0 if unknown)."""
        self._check()
        i = self.movies.get(movie_id)
        return int(self.support_counts[i]) if i >= 0 else 0

    @property
    def min_support(self) -> int:
        return self.config.auto_min_support(len(self.users))

    def _to_scale(self, units: np.ndarray) -> np.ndarray:
        lo, hi = self.config.scale
        return np.clip(np.asarray(units, dtype=np.float64) * self.config.unit, lo, hi)

    # ------------------------------------------------------------------ prediction
    def _predict_units(self, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        ku, ki = u >= 0, i >= 0
        out = np.full(u.shape, self.global_mean, dtype=np.float64)
        out[ki] = self.means[i[ki]].astype(np.float64) + self.bi[i[ki]]
        out[ku] += self.bu[u[ku]]
        both = ku & ki
        if self.X.shape[1] and both.any():
            out[both] += np.einsum("ij,ij->i", self.X[i[both]].astype(np.float64),
                                   self.T[u[both]])
        return out

    def predict(self, user_ids, movie_ids) -> np.ndarray:
        """Plain model prediction for each (member, movie) pair, clamped to the scale.

        Unknown members get the movie baseline (shrunk mean + bias); unknown movies the global
        mean plus the member bias.
        """
        self._check()
        u = self.users.lookup(user_ids)
        i = self.movies.lookup(movie_ids)
        if u.shape != i.shape:
            u, i = np.broadcast_arrays(u, i)
        return self._to_scale(self._predict_units(u, i))

    def _penalty(self) -> np.ndarray:
        return self.config.confidence / np.sqrt(self.support_counts + 1.0)

    def _min_sup(self, min_support: int | None) -> int:
        return self.min_support if min_support is None else max(0, int(min_support))

    def rank_scores(self, user_index: np.ndarray, min_support: int | None = None) -> np.ndarray:
        """Ranking scores (units) of all movies for a batch of member indexes (batch x movies).

        Includes the support penalty and pushes movies below min support after all others;
        does not exclude rated movies. Index -1 (unknown member) gets the popularity ranking.
        """
        u = np.asarray(user_index, dtype=np.int64)
        base = self.means.astype(np.float64) + self.bi - self._penalty()
        base = base - _UNSUPPORTED * (self.support_counts < self._min_sup(min_support))
        known = u >= 0
        out = np.repeat(base[None, :], u.size, axis=0)
        if known.any():
            uu = u[known]
            out[known] += self.bu[uu].astype(np.float64)[:, None] + (self.T[uu] @ self.X.T)
        return out

    def _rank(self, scores: np.ndarray, predicted: np.ndarray, n: int, excluded: np.ndarray,
              candidates) -> list[Recommendation]:
        scores = scores.copy()
        scores[excluded] = -np.inf
        if candidates is not None:
            ci = self.movies.lookup(np.fromiter(candidates, dtype=np.int64))
            mask = np.ones(scores.size, dtype=bool)
            mask[ci[ci >= 0]] = False
            scores[mask] = -np.inf
        n = max(0, min(int(n), int(np.isfinite(scores).sum())))
        if n == 0:
            return []
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.lexsort((self.movies.ids[top], -scores[top]))]
        shown = self._to_scale(np.where(scores[top] < -_UNSUPPORTED / 2,
                                        scores[top] + _UNSUPPORTED, scores[top]))
        pred = self._to_scale(predicted[top])
        return [
            Recommendation(int(self.movies.ids[j]), float(s), float(p), int(self.support_counts[j]))
            for j, s, p in zip(top, shown, pred, strict=True)
        ]

    def _excluded(self, user_indexes: Iterable[int], exclude) -> np.ndarray:
        mask = np.zeros(len(self.movies), dtype=bool)
        for u in user_indexes:
            if u >= 0:
                mask[self._rated(u)[0]] = True
        if exclude is not None:
            ex = self.movies.lookup(np.fromiter(exclude, dtype=np.int64))
            mask[ex[ex >= 0]] = True
        return mask

    def recommend(self, user_id, n: int = 10, exclude=(), candidates=None,
                  min_support: int | None = None) -> list[Recommendation]:
        """Top-n movies for a member, best first, never a movie they rated or in ``exclude``.

        Movies with fewer than ``min_support`` ratings (default: the config's auto rule) come
        only after every supported movie. A member the model does not know gets ``popular``.
        """
        self._check()
        u = self.users.get(user_id)
        if u < 0:
            return self.popular(n, exclude=exclude, candidates=candidates, min_support=min_support)

        scores = self.rank_scores(np.array([u]), min_support)[0]
        predicted = self._predict_units(np.full(len(self.movies), u), np.arange(len(self.movies)))
        return self._rank(scores, predicted, n, self._excluded([u], exclude), candidates)

    def popular(self, n: int = 10, exclude=(), candidates=None,
                min_support: int | None = None) -> list[Recommendation]:
        """Cold start: the guild's best movies by shrunk mean plus movie bias, support-penalised."""
        self._check()

        scores = self.rank_scores(np.array([-1]), min_support)[0]
        predicted = self.means.astype(np.float64) + self.bi
        return self._rank(scores, predicted, n, self._excluded([], exclude), candidates)

    def recommend_group(self, user_ids, n: int = 10, strategy: str = "average", candidates=None,
                        exclude=(), min_support: int | None = None) -> list[Recommendation]:
        """Movies for several members watching together.

        ``average``: mean of the members' predictions (best overall happiness).
        ``least_misery``: minimum of the members' predictions (nobody hates it).
        Movies any member rated (already seen) and ``exclude`` are left out; unknown members
        count with the movie baseline. Same support penalty and min-support rule as recommend.
        """
        self._check()
        if strategy not in ("average", "least_misery"):
            raise ValueError("strategy must be 'average' or 'least_misery'")
        u = self.users.lookup(list(user_ids))
        if u.size == 0:
            return self.popular(n, exclude=exclude, candidates=candidates, min_support=min_support)

        nm = len(self.movies)
        preds = np.stack([self._predict_units(np.full(nm, x), np.arange(nm)) for x in u])
        agg = preds.mean(axis=0) if strategy == "average" else preds.min(axis=0)
        scores = agg - self._penalty()
        scores = scores - _UNSUPPORTED * (self.support_counts < self._min_sup(min_support))
        return self._rank(scores, agg, n, self._excluded(u.tolist(), exclude), candidates)

    def similar(self, movie_id, n: int = 10, candidates=None) -> list[tuple[int, float]]:
        """Movies closest to ``movie_id`` by cosine of their feature vectors (supported only)."""
        self._check()
        i = self.movies.get(movie_id)
        if i < 0 or self.X.shape[1] == 0:
            return []
        X = self.X.astype(np.float64)
        norms = np.linalg.norm(X, axis=1)
        # A movie whose features the fit left at (almost) zero has no place in the feature
        # space yet (too few ratings, or a guild whose tastes reg flattened): no neighbours.
        placed = norms > max(_MIN_FEATURE_NORM, 1e-3 * float(norms.max(initial=0.0)))
        if not placed[i]:
            return []
        cos = X @ X[i] / (np.where(placed, norms, 1.0) * norms[i])
        ok = (self.support_counts >= self.min_support) & placed
        ok[i] = False
        if candidates is not None:
            cmask = np.zeros_like(ok)
            ci = self.movies.lookup(np.fromiter(candidates, dtype=np.int64))
            cmask[ci[ci >= 0]] = True
            ok &= cmask
        idx = np.flatnonzero(ok)
        idx = idx[np.lexsort((self.movies.ids[idx], -cos[idx]))][: max(0, int(n))]
        return [(int(self.movies.ids[j]), float(cos[j])) for j in idx]

    # ------------------------------------------------------------------ fold-in & explain
    def _targets(self, movies: np.ndarray, vals: np.ndarray) -> np.ndarray:
        return vals - self.means[movies] - self.bi[movies]

    def fold_in(self, user_id, movie_ids, scores) -> None:
        """Set a member's ratings and re-solve only their row (X, biases, means stay fixed).

        ``movie_ids``/``scores`` are the member's complete current ratings; movies unknown to
        the model are ignored. A new member gets a row; a known member's row is replaced.
        """
        self._check()
        cfg = self.config
        mi = self.movies.lookup(movie_ids)
        vals = np.clip(np.asarray(scores, dtype=np.float64).ravel(), *cfg.scale) / cfg.unit
        ok = mi >= 0
        mi, vals = mi[ok], vals[ok]
        if mi.size:
            _, last = np.unique(mi[::-1], return_index=True)
            keep = np.sort(mi.size - 1 - last)
            mi, vals = mi[keep], vals[keep]
        u = self.users.get(user_id)
        if u < 0:
            u = self.users.append(int(user_id))
            self.T = np.vstack([self.T, np.zeros((1, self.T.shape[1]), self.T.dtype)])
            self.bu = np.append(self.bu, self.bu.dtype.type(0))
            self._r_ptr = np.append(self._r_ptr, self._r_ptr[-1])
            np.add.at(self.support_counts, mi, 1)
        elif self._lists_known or u in self._overrides:
            np.subtract.at(self.support_counts, self._rated(u)[0], 1)
            np.add.at(self.support_counts, mi, 1)
        # else: a model loaded without rating lists already counts this member's (saved)
        # ratings in support_counts; they stay until the next fit rather than count twice.
        self._overrides[u] = (mi, vals)
        if mi.size == 0:
            self.T[u] = 0
            self.bu[u] = 0
            return
        theta, b = foldin.solve_member(self.X[mi], self._targets(mi, vals), cfg.reg, cfg.reg_bias)
        self.T[u] = theta
        self.bu[u] = b

    def explain(self, user_id, movie_id, top: int = 1) -> list[tuple[int, float, float]]:
        """Which of the member's own ratings drove the prediction for ``movie_id``.

        Returns up to ``top`` tuples ``(rated_movie_id, rating, weight)`` with the largest
        positive contribution first; ``weight`` is that movie's contribution to the predicted
        score in rating points (see ``foldin.py``: prediction = baseline + sum_j w_j t_j).
        """
        self._check()
        u, i = self.users.get(user_id), self.movies.get(movie_id)
        if u < 0 or i < 0:
            return []
        mi, vals = self._rated(u)
        if mi.size == 0:
            return []
        c = foldin.contributions(self.X[mi], self._targets(mi, vals), self.X[i],
                                 self.config.reg, self.config.reg_bias) * self.config.unit
        order = np.lexsort((self.movies.ids[mi], -c))
        order = order[c[order] > 0][: max(0, int(top))]
        return [(int(self.movies.ids[mi[j]]), float(vals[j] * self.config.unit), float(c[j]))
                for j in order]

    # ------------------------------------------------------------------ persistence
    def to_bytes(self) -> bytes:
        from .persist import dump

        self._check()
        return dump(self)

    @classmethod
    def from_bytes(cls, blob: bytes) -> CFModel:
        from .persist import load

        return load(cls, blob)

    def config_json(self) -> str:
        d = dict(self.config.__dict__)
        d["scale"] = list(d["scale"])
        return json.dumps(d)

