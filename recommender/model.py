"""CFModel: one guild's recommender: a rating model ("will enjoy") and an item-item model
("will pick"), ranked by a documented blend.

Rating model, for member u and movie i, in rating units (see ``types.py``):

    pred = m_i + b_i + b_u + x_i . theta_u

``m_i`` is the movie's shrunk mean (fixed per fit; shrunk toward the taste prior's movie
baseline, or a genre/year baseline from side features, else the guild mean), ``b_i``/``b_u``
regularised biases and ``x_i``/``theta_u`` the k latent features, all learned together by
``scipy.optimize.minimize(method="CG")`` until converged (``train.py``). With a taste prior
(``prior.py``) the movie factors are regularised toward the prior's factors (MAP) instead of
toward zero. ``predict`` returns the plain prediction, clamped to the scale.

With a prior, every movie the prior knows is in the model (``ModelConfig.prior_candidates``):
a movie nobody in the guild rated keeps the prior's factors and baseline (support 0), so it
can be recommended, grouped and found similar from a guild's first rating.

Item-item model: EASE on the guild's binary "rated" matrix (``implicit.py``), plus the prior's
item-item weights when a prior is given, weighted per movie by how little the guild itself
knows of it (``prior_weights``); members with few ratings get a popularity part
(``popularity_weights``). Ranking (``recommend``, ``recommend_group``,
``rank_scores`` which ``evaluate`` uses) is the z-scored blend documented on
``ModelConfig.blend_enjoy``; movies under the minimum support come last; a pick the rating
model predicts below the member's own average is marked a stretch. ``explain`` and
``reasons`` name the rated movies that contribute most to that blend for a pick
(``reasons.py``).
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterable
from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from . import foldin
from .embeddings import Embeddings
from .implicit import ItemItem, pick_lift, zscore_rows
from .index import IdIndex, last_by_key
from .normalise import shrunk_means
from .train import train_factors
from .types import FitReport, ModelConfig, Recommendation

_MIN_FEATURE_NORM = 1e-6  # feature vectors shorter than this count as "not learned"
_UNSUPPORTED = 1.0e6  # ranking offset for movies below min support (they only fill gaps)
_EMPTY = (np.zeros(0, np.int64), np.zeros(0))
STRETCH_MIN_RATINGS = 3  # ratings before "below your own average" can mark a stretch


def _align_features(movie_ids: np.ndarray, movie_features) -> np.ndarray | None:
    """Dense (movies x d) side-feature rows aligned to ``movie_ids`` (zeros where missing)."""
    if movie_features is None:
        return None
    ids, F = movie_features
    ids = np.asarray(ids, dtype=np.int64).ravel()
    F = F.toarray() if sp.issparse(F) else np.asarray(F, dtype=np.float64)
    F = np.asarray(F, dtype=np.float64).reshape(ids.size, -1)
    pos = IdIndex(ids).lookup(movie_ids)  # IdIndex sorts; map back to the given rows
    order = np.argsort(ids, kind="stable")
    uniq, first = np.unique(ids[order], return_index=True)
    rows = order[first]
    out = np.zeros((movie_ids.size, F.shape[1]))
    hit = pos >= 0
    out[hit] = F[rows[pos[hit]]]
    del uniq
    return out


def _ridge(F: np.ndarray, Y: np.ndarray, weights: np.ndarray, alpha: float) -> np.ndarray:
    """argmin_W sum_i weights_i |Y_i - F_i W|^2 + alpha |W|^2."""
    Fw = F * weights[:, None]
    A = F.T @ Fw + alpha * np.eye(F.shape[1])
    return np.linalg.solve(A, Fw.T @ Y)


class CFModel:
    """Collaborative-filtering model for one guild (see module docstring)."""

    def __init__(self, config: ModelConfig | None = None) -> None:
        self.config = config or ModelConfig()
        self._fitted = False
        self.report: FitReport | None = None
        self.tuned_on: int | None = None  # ratings count config.reg was chosen on (tuning.py)
        self._prior_cols: sp.csr_matrix | None = None  # prior weights into this guild's movies

    # ------------------------------------------------------------------ fitting
    def fit(self, user_ids, movie_ids, scores, warm_start: CFModel | None = None, *,
            prior=None, movie_features=None, rank_model: bool = True) -> FitReport:
        """Fit on (member, movie, score) triples; later duplicates of a pair win.

        ``prior``: a ``prior.GuildPrior`` aligned to the catalog's movie ids (its feature
        count replaces ``config.features``). ``movie_features``: ``(movie_ids, matrix)``, a
        numeric row (dense or scipy sparse; e.g. genre one-hots and year buckets) per movie;
        it gives cold movies a baseline and a place in the factor space. ``rank_model=False``
        skips the item-item model (rating-only fits, e.g. regularisation tuning).
        """
        t0 = time.perf_counter()
        if prior is not None and prior.features != self.config.features:
            self.config = replace(self.config, features=prior.features)
        cfg = self.config
        dtype = np.dtype(cfg.dtype)
        users = np.asarray(user_ids, dtype=np.int64).ravel()
        movies = np.asarray(movie_ids, dtype=np.int64).ravel()
        vals = np.asarray(scores, dtype=np.float32).ravel()  # ratings are exact in float32
        if not (users.size == movies.size == vals.size):
            raise ValueError("user_ids, movie_ids and scores must have the same length")
        ok = np.isfinite(vals)
        if not ok.all():
            users, movies, vals = users[ok], movies[ok], vals[ok]
        del ok
        # int32 dense indexes, sorted by movie then member, the last of duplicate pairs kept:
        # one sort serves the dedupe, the training structure (used as is, no copies), the
        # member lists and the item-item model. Peak memory at fit time stays under 80 bytes
        # a rating (benchmarks/scale.py).
        self.users, ui64 = IdIndex.indexed(users)
        ui = ui64.astype(np.int32)
        del users, ui64
        self.movies, mi64 = IdIndex.indexed(movies)
        if prior is not None and cfg.prior_candidates and len(prior):
            # every movie the prior knows is a candidate, rated in the guild or not
            rated_ids = self.movies.ids
            every = np.union1d(rated_ids, prior.movie_ids)
            if every.size > rated_ids.size:
                self.movies = IdIndex(every, presorted_unique=True)
                mi64 = self.movies.lookup(rated_ids)[mi64]
            del rated_ids, every
        mi = mi64.astype(np.int32)
        del movies, mi64
        nu, nm, k = len(self.users), len(self.movies), cfg.features
        code = mi.astype(np.int64)
        code *= max(nu, 1)
        code += ui
        keep = last_by_key(code)
        del code
        ui, mi, vals = ui[keep], mi[keep], vals[keep]
        del keep
        np.clip(vals, *cfg.scale, out=vals)
        vals /= np.float32(cfg.unit)

        self.global_mean = (float(vals.mean(dtype=np.float64)) if vals.size
                            else float(np.mean(cfg.scale)) / cfg.unit)
        # where each movie's damped mean is shrunk to: prior baseline > side features > mean
        self.attach_prior(prior)
        self.fitted_prior = prior.fingerprint() if prior is not None else None
        linked = self._p_row >= 0
        target = np.zeros(nm)
        F = _align_features(self.movies.ids, movie_features)
        counts = np.bincount(mi, minlength=nm).astype(np.float64)
        if F is not None and F.shape[1] and vals.size:
            sums = np.bincount(mi, weights=vals - self.global_mean, minlength=nm)
            raw = np.divide(sums, counts, out=np.zeros(nm), where=counts > 0)
            w = _ridge(F, raw, counts, cfg.feature_reg)
            target = F @ w
        if linked.any():
            target[linked] = prior.offsets[self._p_row[linked]]
        means, support = shrunk_means(mi, vals, nm, self.global_mean, cfg.mean_damping)
        if np.any(target != 0):
            sums = np.bincount(mi, weights=vals, minlength=nm)
            means = (sums + cfg.mean_damping * (self.global_mean + target)) / (
                counts + cfg.mean_damping + 1e-12)
        self.means = means.astype(dtype)
        self.support_counts = support
        handed = [np.subtract(vals, means[mi], dtype=dtype)]  # y: freed by train_factors

        factorise = (
            k > 0 and cfg.maxiter > 0 and cfg.max_iterations > 0 and nu >= 2 and nm >= 2
            and vals.size >= cfg.min_ratings_to_factorise
        )
        x_prior = None
        if prior is not None and k > 0:
            x_prior = np.zeros((nm, k))
            x_prior[linked] = prior.factors[self._p_row[linked]]
        warm = None
        if warm_start is not None and getattr(warm_start, "_fitted", False):
            def warm(X, T, bi, bu, prev=warm_start):
                self._warm(prev, X, T, bi, bu)
        sol = train_factors(
            ui, mi, handed, nu, nm, k=k if factorise else 0, reg=cfg.reg, reg_bias=cfg.reg_bias,
            seed=cfg.seed, init_std=cfg.init_std, precondition=cfg.precondition,
            dtype=cfg.dtype, round_iters=cfg.maxiter, tol=cfg.tol, gtol=cfg.gtol,
            max_iterations=cfg.max_iterations if factorise else 0,
            time_budget=cfg.time_budget, x_prior=x_prior if factorise else None, warm=warm)
        X, T, bi, bu = sol.X, sol.T, sol.bi, sol.bu
        cost = sol.cost
        if not factorise:
            X = np.zeros((nm, k)) if x_prior is None else x_prior.copy()
            T = np.zeros((nu, k))
            if vals.size:
                err = bi[mi] + bu[ui] - (vals - means[mi])
                cost = 0.5 * float(err @ err) + 0.5 * cfg.reg_bias * float(bi @ bi + bu @ bu)
        if x_prior is not None:
            unrated = linked & (counts == 0)  # prior-only candidates: the prior's place, as is
            X[unrated] = x_prior[unrated]
            bi[unrated] = 0.0
        if F is not None and F.shape[1] and k > 0 and factorise:
            # cold movies get a place in the factor space from their side features: the
            # projection F A (A: ridge fit of well-supported movies' factors) weighted like a
            # prior mean, reg / (support + reg)
            well = counts >= 5
            if well.sum() > F.shape[1]:
                A = _ridge(F[well], X[well], np.ones(int(well.sum())), cfg.feature_reg)
                shrink = (cfg.reg / (counts + cfg.reg))[:, None]
                X = X + np.where(linked[:, None], 0.0, shrink * (F @ A))
        self.X = np.ascontiguousarray(X, dtype=dtype)
        self.T = np.ascontiguousarray(T, dtype=dtype)
        self.bi = np.asarray(bi, dtype=dtype)
        self.bu = np.asarray(bu, dtype=dtype)
        self._structure(ui, mi, vals)
        self.implicit = (ItemItem.fit(ui, mi, nu, nm, lam=cfg.ease_lambda,
                                      max_items=cfg.ease_items, topk=cfg.ease_topk,
                                      distinct=True)
                         if rank_model else ItemItem.empty(nm))
        self.pick_evidence = 1.0
        if rank_model and cfg.pick_lift_full > 1 and self.implicit.W.nnz:
            lift = pick_lift(ui, mi, nu, nm, lam=cfg.ease_lambda, max_items=cfg.ease_items,
                             topk=cfg.ease_topk, seed=cfg.seed)
            if lift is not None:
                self.pick_evidence = float(np.clip((lift - 1.0) / (cfg.pick_lift_full - 1.0),
                                                   0.0, 1.0))
        self._fitted = True
        self.report = FitReport(int(vals.size), nu, nm, sol.iterations,
                                time.perf_counter() - t0, cost, factorise, sol.stop)
        return self.report

    def _warm(self, prev: CFModel, X, T, bi, bu) -> None:
        """Copy the previous model's rows for ids both models know (new ids keep fresh rows)."""
        if (prev.config.features != self.config.features or prev.config.unit != self.config.unit
                or X.shape[1] != prev.X.shape[1] or T.shape[1] != prev.T.shape[1]):
            return  # different feature counts (e.g. a guild too small to factorise): fit cold
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
        snap._extra = dict(self._extra)
        return snap

    def _structure(self, ui, mi, vals) -> None:
        """Per-member rated lists (CSR by member) used for exclusion, fold-in and explain."""
        order = np.argsort(ui, kind="stable")  # fit order is by movie: movies stay sorted
        self._r_ptr = np.zeros(len(self.users) + 1, dtype=np.int64)
        np.cumsum(np.bincount(ui, minlength=len(self.users)), out=self._r_ptr[1:])
        self._r_movies = mi[order]
        self._r_vals = vals[order]
        self._overrides: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        # ratings (catalog ids, units) of folded-in members on movies the model does not know
        self._extra: dict[int, tuple[np.ndarray, np.ndarray]] = {}
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
            return _EMPTY
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

    def embeddings(self) -> Embeddings:
        """Movie and member vectors with their ids, copied (``embeddings.py``)."""
        self._check()
        return Embeddings(
            movie_ids=self.movies.ids.copy(),
            movie_vectors=np.array(self.X, dtype=np.float64),
            support=np.array(self.support_counts, dtype=np.float64),
            member_ids=self.users.ids.copy(),
            member_vectors=np.array(self.T, dtype=np.float64))

    def rated_rows(self, member_ids) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each member's rated movies as (rows of ``embeddings().movie_ids``, ratings in
        rating units); empty for a member the model does not know. Views: fold-in replaces
        these arrays, never writes into them."""
        self._check()
        out = []
        for member_id in member_ids:
            u = self.users.get(member_id)
            out.append(self._rated(u) if u >= 0 else _EMPTY)
        return out

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

    def evidence(self) -> np.ndarray:
        """Ratings behind each movie: the guild's plus, for movies linked to the taste prior,
        the prior dataset's (what the support penalty and the minimum-support rule count)."""
        pc = getattr(self, "_prior_counts", None)
        if pc is None or pc.size != self.support_counts.size:
            return self.support_counts.astype(np.float64)
        return self.support_counts + pc

    def _penalty(self) -> np.ndarray:
        return self.config.confidence / np.sqrt(self.evidence() + 1.0)

    def _min_sup(self, min_support: int | None) -> int:
        return self.min_support if min_support is None else max(0, int(min_support))

    def _enjoy(self, u: np.ndarray, penalty: bool = True) -> np.ndarray:
        """Rating model's prediction (units) of every movie, batch x movies; minus the support
        penalty when ``penalty`` (the popularity ranking)."""
        base = self.means.astype(np.float64) + self.bi
        if penalty:
            base = base - self._penalty()
        out = np.repeat(base[None, :], u.size, axis=0)
        known = u >= 0
        if known.any():
            uu = u[known]
            out[known] += self.bu[uu].astype(np.float64)[:, None] + (
                self.T[uu].astype(np.float64) @ self.X.T.astype(np.float64))
        return out

    def _implicit(self) -> ItemItem:
        ii = getattr(self, "implicit", None)
        if ii is None or ii.n != len(self.movies):
            ii = self.implicit = ItemItem.empty(len(self.movies))
        return ii

    def _rated_matrix(self, u: np.ndarray) -> sp.csr_matrix:
        """0/1 rated sets (batch x movies) of member indexes ``u`` (-1 = nobody)."""
        rows, cols, data = [], [], []
        for r, x in enumerate(u.tolist()):
            if x >= 0:
                mi, vals = self._rated(x)
                rows.append(np.full(mi.size, r))
                cols.append(mi)
                data.append(self._liking(vals))
        rows_a = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        cols_a = np.concatenate(cols) if cols else np.zeros(0, np.int64)
        data_a = np.concatenate(data) if data else np.zeros(0)
        return sp.csr_matrix((data_a.astype(np.float32), (rows_a, cols_a)),
                             shape=(u.size, len(self.movies)))

    def _liking(self, vals: np.ndarray) -> np.ndarray:
        """Weight of each rated movie in the member's "will pick" input row:
        1 + pick_rating_weight * (rating - member's mean rating), in rating units, >= 0."""
        beta = self.config.pick_rating_weight
        if not beta or vals.size == 0:
            return np.ones(vals.size)
        return np.maximum(1.0 + beta * (vals - vals.mean()), 0.0)

    def _prior_rated(self, u: np.ndarray) -> sp.csr_matrix | None:
        """0/1 rated sets over the prior's movies: model movies + unknown linked movies."""
        if self.prior is None:
            return None
        rows, cols = [], []
        for r, x in enumerate(u.tolist()):
            if x < 0:
                continue
            p = self._p_row[self._rated(x)[0]]
            extra = self._extra.get(x)
            if extra is not None and extra[0].size:
                p = np.concatenate([p, self.prior.lookup(extra[0])])
            p = np.unique(p[p >= 0])
            rows.append(np.full(p.size, r))
            cols.append(p)
        rows_a = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        cols_a = np.concatenate(cols) if cols else np.zeros(0, np.int64)
        return sp.csr_matrix((np.ones(rows_a.size, np.float32), (rows_a, cols_a)),
                             shape=(u.size, len(self.prior)))

    def _pick_prior(self, u: np.ndarray) -> np.ndarray:
        """The prior's item-item scores of every model movie (batch x movies, 0 unlinked)."""
        linked = self._p_row >= 0
        if self._prior_cols is None:  # the prior's weights into this guild's movies only
            self._prior_cols = self.prior.implicit.W[:, self._p_row[linked]].tocsr()
        R = self._prior_rated(u)
        S = (R @ self._prior_cols).toarray()
        full = np.zeros((u.size, len(self.movies)))
        full[:, linked] = S
        return full

    def prior_weights(self) -> np.ndarray:
        """Per-movie weight of the prior's item-item part: ``blend_prior_pick * e / (e + n)``
        with n the movie's guild co-raters (members who rated it) and e ``prior_evidence``."""
        cfg = self.config
        e = float(cfg.prior_evidence)
        n = self.support_counts.astype(np.float64)
        if not np.isfinite(e):
            return np.full(n.size, float(cfg.blend_prior_pick))
        return cfg.blend_prior_pick * e / (e + n + 1e-12)

    def member_ratings_count(self, u: np.ndarray) -> np.ndarray:
        """Ratings of each member index (movies the model knows plus folded-in others)."""
        out = np.zeros(u.size)
        for r, x in enumerate(u.tolist()):
            if x >= 0:
                extra = self._extra.get(x)
                out[r] = self._rated(x)[0].size + (extra[0].size if extra is not None else 0)
        return out

    def popularity_weights(self, u: np.ndarray) -> np.ndarray:
        """Per-member weight of the popularity part: ``blend_popularity`` plus the cold-start
        share ``pop_cold * (c / (c + n)) ** pop_cold_power`` (n the member's ratings, c
        ``pop_cold_ratings``)."""
        cfg = self.config
        n = self.member_ratings_count(u)
        c = float(cfg.pop_cold_ratings)
        return cfg.blend_popularity + cfg.pop_cold * (c / (c + n + 1e-12)) ** cfg.pop_cold_power

    def part_weight(self, w, targets=None) -> np.ndarray:
        """A blend part's weight as one value per movie (``targets``: only those movies) for
        a single member: weights are numbers, per-movie rows or per-member columns."""
        row = np.broadcast_to(np.asarray(w, dtype=np.float64), (1, len(self.movies)))[0]
        return row if targets is None else row[np.asarray(targets, dtype=np.int64)]

    def _blend_parts(self, u: np.ndarray) -> dict[str, tuple[float | np.ndarray, np.ndarray]]:
        """name -> (weight, raw scores batch x movies) of each blend part for members ``u``.
        A weight is a number, a per-movie row (prior part, ``prior_weights``) or a per-member
        column (popularity part, ``popularity_weights``); ``part_weight`` reads any of them."""
        cfg = self.config
        parts: dict[str, tuple[float | np.ndarray, np.ndarray]] = {
            "enjoy": (cfg.blend_enjoy, self._enjoy(u, penalty=False))}
        ii = self._implicit()
        weight = cfg.blend_pick * getattr(self, "pick_evidence", 1.0)
        if weight and ii.W.nnz:
            parts["pick"] = (weight, ii.scores(self._rated_matrix(u)))
        if (self.prior is not None and cfg.blend_prior_pick and cfg.prior_evidence
                and self.prior.implicit.W.nnz):
            parts["prior"] = (self.prior_weights()[None, :], self._pick_prior(u))
        w_pop = self.popularity_weights(u)
        if np.any(w_pop > 0):
            pop = np.log1p(self.support_counts.astype(np.float64))
            parts["popularity"] = (w_pop[:, None], np.repeat(pop[None, :], u.size, axis=0))
        return parts

    def _blend(self, u: np.ndarray) -> np.ndarray:
        out = np.zeros((u.size, len(self.movies)))
        for w, S in self._blend_parts(u).values():
            out += w * zscore_rows(S)
        return out

    def rank_scores(self, user_index: np.ndarray, min_support: int | None = None) -> np.ndarray:
        """Ranking scores of all movies for a batch of member indexes (batch x movies).

        The blend of ``ModelConfig`` (what ``recommend`` sorts by), with movies below min
        support pushed after all others; does not exclude rated movies. Index -1 (unknown
        member) gets the popularity ranking (shrunk mean + bias - support penalty), z-scored.
        """
        u = np.asarray(user_index, dtype=np.int64).ravel()
        out = np.empty((u.size, len(self.movies)))
        known = u >= 0
        if (~known).any():  # z-scored too, so group rankings mix members on one scale
            out[~known] = zscore_rows(self._enjoy(np.full(int((~known).sum()), -1)))
        if known.any():
            out[known] = self._blend(u[known])
        return out - _UNSUPPORTED * (self.evidence() < self._min_sup(min_support))

    def _rank(self, scores: np.ndarray, predicted: np.ndarray, n: int, excluded: np.ndarray,
              candidates, floor: float = -np.inf) -> list[Recommendation]:
        """Top n by ``scores``; a pick predicted below ``floor`` (units: the member's own
        average rating) is marked a stretch."""
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
        shown = self._to_scale(predicted[top] - self._penalty()[top])
        pred = self._to_scale(predicted[top])
        stretch = predicted[top] < floor - 1e-9
        return [
            Recommendation(int(self.movies.ids[j]), float(s), float(p),
                           int(self.support_counts[j]), float(r), bool(b))
            for j, s, p, r, b in zip(top, shown, pred, scores[top], stretch, strict=True)
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
                  min_support: int | None = None, avoid=()) -> list[Recommendation]:
        """Top-n movies for a member, best first by the ranking blend, never a movie they rated
        or in ``exclude``.

        Movies with fewer than ``min_support`` ratings (default: the config's auto rule) come
        only after every supported movie. A member the model does not know gets ``popular``.
        ``avoid``: movies the member said they are not interested in: never listed, and a
        negative signal (``avoid_penalty``).
        """
        self._check()
        avoid = np.fromiter((int(a) for a in avoid), dtype=np.int64)
        if avoid.size:
            exclude = np.concatenate([np.fromiter(exclude, dtype=np.int64), avoid])
        u = self.users.get(user_id)
        if u < 0:
            return self.popular(n, exclude=exclude, candidates=candidates, min_support=min_support)

        scores = self.rank_scores(np.array([u]), min_support)[0]
        if avoid.size:
            scores = scores - self.avoid_penalty(u, avoid)
        predicted = self._predict_units(np.full(len(self.movies), u), np.arange(len(self.movies)))
        return self._rank(scores, predicted, n, self._excluded([u], exclude), candidates,
                          floor=self.stretch_floor(u))

    def avoid_penalty(self, u: int, avoid: np.ndarray) -> np.ndarray:
        """What "not interested" in the movies ``avoid`` (ids) takes off member index u's
        blend: each counts in the item-item parts (guild and prior) like a rated movie with a
        negative weight, -1, so movies picked by the same people sink with it. Same units as
        the blend (each part's standard deviations)."""
        nm = len(self.movies)
        out = np.zeros(nm)
        a = self.movies.lookup(np.asarray(avoid, dtype=np.int64))
        a = a[a >= 0]
        if a.size == 0:
            return out
        parts = self._blend_parts(np.array([u]))
        if "pick" in parts:
            w, S = parts["pick"]
            sd = float(S.std())
            if sd > 1e-12:
                pull = np.asarray(self._implicit().W[a].sum(axis=0)).ravel()
                out += (w / sd) * (pull - pull.mean())
        if "prior" in parts:
            w_row, S = parts["prior"]
            w = self.part_weight(w_row)
            sd = float(S.std())
            p = np.unique(self._p_row[a][self._p_row[a] >= 0])
            if sd > 1e-12 and p.size:
                assert self._prior_cols is not None  # built by _blend_parts' prior part
                pull = np.zeros(nm)
                pull[self._p_row >= 0] = np.asarray(self._prior_cols[p].sum(axis=0)).ravel()
                out += (w / sd) * (pull - pull.mean())
        return out

    def stretch_floor(self, u: int) -> float:
        """Below this prediction a pick is a stretch: the member's own average, once they have
        ``STRETCH_MIN_RATINGS`` ratings (a first rating of 10 says what they love, not that
        everything else is a stretch); -inf before."""
        if self.member_ratings_count(np.array([u]))[0] < STRETCH_MIN_RATINGS:
            return -np.inf
        return self.member_mean(u)

    def member_mean(self, u: int) -> float:
        """Member index u's average rating in units (every rating they made counts; -inf for
        a member without ratings, so nothing is below it)."""
        _, vals = self._rated(u)
        extra = self._extra.get(u)
        if extra is not None and extra[1].size:
            vals = np.concatenate([vals, extra[1]])
        return float(np.mean(vals)) if vals.size else -np.inf

    def reasons(self, user_id, movie_ids, min_weight: float = 0.1):
        """Why each movie is on the member's list (``reasons.pick_reasons``): a
        ``reasons.Reasons`` aligned to ``movie_ids`` (unknown member or movies: no reason)."""
        from .reasons import Reasons, pick_reasons

        self._check()
        ids = np.asarray(movie_ids, dtype=np.int64).ravel()
        u = self.users.get(user_id)
        i = self.movies.lookup(ids)
        out = Reasons(np.full(ids.size, -1, np.int64), np.full(ids.size, np.nan),
                      np.zeros(ids.size), np.full(ids.size, 3, np.int8))
        known = np.flatnonzero(i >= 0) if u >= 0 else np.zeros(0, np.int64)
        if known.size:
            got = pick_reasons(self, u, i[known], min_weight)
            for mine, theirs in zip((out.movie_id, out.rating, out.weight, out.kind),
                                    (got.movie_id, got.rating, got.weight, got.kind),
                                    strict=True):
                mine[known] = theirs
        return out

    def popular(self, n: int = 10, exclude=(), candidates=None,
                min_support: int | None = None, *,
                rated_only: bool = False) -> list[Recommendation]:
        """Cold start: the best movies by shrunk mean plus movie bias, support-penalised
        (prior-only candidates included unless ``rated_only``: then only guild-rated ones)."""
        self._check()

        scores = self.rank_scores(np.array([-1]), min_support)[0]
        predicted = self.means.astype(np.float64) + self.bi
        excluded = self._excluded([], exclude)
        if rated_only:
            excluded |= self.support_counts <= 0
        return self._rank(scores, predicted, n, excluded, candidates)

    def recommend_group(self, user_ids, n: int = 10, strategy: str = "average", candidates=None,
                        exclude=(), min_support: int | None = None) -> list[Recommendation]:
        """Movies for several members watching together.

        Each member's ranking blend is computed as in ``recommend``; ``average`` ranks by their
        mean (best overall happiness), ``least_misery`` by their minimum (nobody is left out).
        ``predicted`` is the mean (average) or minimum (least misery) of the members'
        predictions. Movies any member rated (already seen) and ``exclude`` are left out;
        unknown members count with the popularity ranking. Same min-support rule as recommend.
        """
        self._check()
        if strategy not in ("average", "least_misery"):
            raise ValueError("strategy must be 'average' or 'least_misery'")
        u = self.users.lookup(list(user_ids))
        if u.size == 0:
            return self.popular(n, exclude=exclude, candidates=candidates, min_support=min_support)

        nm = len(self.movies)
        preds = np.stack([self._predict_units(np.full(nm, x), np.arange(nm)) for x in u])
        blend = self.rank_scores(u, 0)
        if strategy == "average":
            agg, scores = preds.mean(axis=0), blend.mean(axis=0)
        else:
            agg, scores = preds.min(axis=0), blend.min(axis=0)
        scores = scores - _UNSUPPORTED * (self.evidence() < self._min_sup(min_support))
        return self._rank(scores, agg, n, self._excluded(u.tolist(), exclude), candidates)

    def similar(self, movie_id, n: int = 10, candidates=None) -> list[tuple[int, float]]:
        """Movies most like ``movie_id``, with a calibrated similarity in [0, 1).

        Evidence is the number of members who rated both (guild co-raters, plus the taste
        prior's when given). similarity = mean(max(0, feature cosine), co-rating cosine)
        * n / (n + similar_shrink), with the co-rating cosine n / sqrt(c_i c_j) over the pooled
        rating counts (the feature cosine is left out when the fit learned no features). Only
        movies with min support, at least 2 co-raters and a similarity >= ``similar_min`` are
        returned: an empty list means "not enough ratings yet", never noise.
        """
        self._check()
        cfg = self.config
        i = self.movies.get(movie_id)
        if i < 0:
            return []
        nm = len(self.movies)
        ii = self._implicit()
        n_co = np.zeros(nm)
        col = ii.co[:, [i]].toarray().ravel() if ii.co.nnz else np.zeros(nm)
        row = ii.co[[i], :].toarray().ravel() if ii.co.nnz else np.zeros(nm)
        n_co += np.maximum(col, row)
        counts = self.support_counts.astype(np.float64).copy()
        if self.prior is not None and self._p_row[i] >= 0:
            linked = self._p_row >= 0
            pc = self.prior.implicit.co
            pi = int(self._p_row[i])
            pcol = np.maximum(pc[:, [pi]].toarray().ravel(), pc[[pi], :].toarray().ravel())
            n_co[linked] += pcol[self._p_row[linked]]
            counts[linked] += self.prior.counts[self._p_row[linked]]
        if counts[i] < 2:
            return []
        cos_imp = n_co / np.sqrt(np.maximum(counts * counts[i], 1.0))
        X = self.X.astype(np.float64)
        norms = np.linalg.norm(X, axis=1) if X.shape[1] else np.zeros(nm)
        placed = norms > max(_MIN_FEATURE_NORM, 1e-3 * float(norms.max(initial=0.0)))
        if placed[i]:
            cos_f = np.where(placed, X @ X[i] / (np.where(placed, norms, 1.0) * norms[i]), 0.0)
            sim = 0.5 * (np.maximum(cos_f, 0.0) + cos_imp)
        else:
            sim = cos_imp
        sim = sim * n_co / (n_co + cfg.similar_shrink)
        ok = (self.evidence() >= self.min_support) & (n_co >= 2) & (sim >= cfg.similar_min)
        ok[i] = False
        if candidates is not None:
            cmask = np.zeros_like(ok)
            ci = self.movies.lookup(np.fromiter(candidates, dtype=np.int64))
            cmask[ci[ci >= 0]] = True
            ok &= cmask
        idx = np.flatnonzero(ok)
        idx = idx[np.lexsort((self.movies.ids[idx], -sim[idx]))][: max(0, int(n))]
        return [(int(self.movies.ids[j]), float(sim[j])) for j in idx]

    # ------------------------------------------------------------------ fold-in & explain
    def _targets(self, movies: np.ndarray, vals: np.ndarray) -> np.ndarray:
        return vals - self.means[movies] - self.bi[movies]

    def _extra_design(self, u: int) -> tuple[np.ndarray, np.ndarray]:
        """(feature rows, targets) of member u's ratings on movies the model does not know:
        the prior's factors and baseline when linked, else a zero row (bias only)."""
        ids, vals = self._extra.get(u, (np.zeros(0, np.int64), np.zeros(0)))
        k = self.X.shape[1]
        rows = np.zeros((ids.size, k))
        base = np.full(ids.size, self.global_mean)
        if self.prior is not None and ids.size:
            p = self.prior.lookup(ids)
            hit = p >= 0
            if k == self.prior.features:
                rows[hit] = self.prior.factors[p[hit]]
            base[hit] += self.prior.offsets[p[hit]]
        return rows, vals - base

    def fold_in(self, user_id, movie_ids, scores) -> None:
        """Set a member's ratings and re-solve only their row (X, biases, means stay fixed).

        ``movie_ids``/``scores`` are the member's complete current ratings. Ratings on movies
        the model does not know count too: with a taste prior, linked movies enter with the
        prior's factors and baseline; otherwise they inform the member's bias (rating minus the
        guild mean). A new member gets a row; a known member's row is replaced.
        """
        self._check()
        cfg = self.config
        ids = np.asarray(movie_ids, dtype=np.int64).ravel()
        vals = np.clip(np.asarray(scores, dtype=np.float64).ravel(), *cfg.scale) / cfg.unit
        if ids.size:
            _, last = np.unique(ids[::-1], return_index=True)
            keep = np.sort(ids.size - 1 - last)
            ids, vals = ids[keep], vals[keep]
        mi_all = self.movies.lookup(ids)
        ok = mi_all >= 0
        mi, kvals = mi_all[ok], vals[ok]
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
        self._overrides[u] = (mi, kvals)
        self._extra[u] = (ids[~ok], vals[~ok])
        rows_x, t_x = self._extra_design(u)
        Xr = np.vstack([self.X[mi].astype(np.float64), rows_x])
        t = np.concatenate([self._targets(mi, kvals), t_x])
        if t.size == 0:
            self.T[u] = 0
            self.bu[u] = 0
            return
        theta, b = foldin.solve_member(Xr, t, cfg.reg, cfg.reg_bias)
        self.T[u] = theta
        self.bu[u] = b

    def explain(self, user_id, movie_id, top: int = 1) -> list[tuple[int, float, float]]:
        """Which of the member's own ratings put ``movie_id`` on their list.

        Returns up to ``top`` tuples ``(rated_movie_id, rating, weight)``, strongest first,
        only movies the member rated at or above their own average rating (liking X is a
        reason; having disliked Y is not one a member believes). ``weight`` is that rated
        movie's positive contribution to the ranking blend for this pick, every part of it
        (item-item, guild and prior, and the rating model), in standard deviations of the
        member's scores (``reasons.py``). Rated movies the guild model does not know can be
        reasons.
        """
        from .reasons import contributions

        self._check()
        u, i = self.users.get(user_id), self.movies.get(movie_id)
        if u < 0 or i < 0:
            return []
        ids, ratings, C, _parts = contributions(self, u, np.array([i]))
        if ids.size == 0:
            return []
        c = C[:, 0]
        liked = ratings >= ratings.mean() - 1e-9
        order = np.lexsort((ids, -ratings, -c))
        order = order[liked[order] & (c[order] > 0)][: max(0, int(top))]
        return [(int(ids[j]), float(ratings[j] * self.config.unit), float(c[j])) for j in order]

    # ------------------------------------------------------------------ persistence
    def to_bytes(self) -> bytes:
        from .persist import dump

        self._check()
        return dump(self)

    @classmethod
    def from_bytes(cls, blob: bytes, *, prior=None) -> CFModel:
        """Load ``to_bytes`` output. ``prior``: the ``GuildPrior`` to attach (the blob stores
        only its fingerprint; see ``persist.py``)."""
        from .persist import load

        return load(cls, blob, prior=prior)

    def attach_prior(self, prior) -> None:
        """Use ``prior`` (a ``GuildPrior``) for the prior part of the blend and for fold-in of
        movies the model does not know, without refitting. The movie factors stay those of the
        last fit (which ``fitted_prior`` names by fingerprint); refit to move them toward a new
        prior."""
        self.prior = prior
        self._p_row = (prior.lookup(self.movies.ids) if prior is not None
                       else np.full(len(self.movies), -1, dtype=np.int64))
        self._prior_cols = None
        self._prior_counts = np.zeros(len(self.movies))
        if prior is not None:
            linked = self._p_row >= 0
            self._prior_counts[linked] = prior.counts[self._p_row[linked]]

    def config_json(self) -> str:
        d = dict(self.config.__dict__)
        d["scale"] = list(d["scale"])
        return json.dumps(d)
