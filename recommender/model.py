"""CFModel: one guild's recommender: a rating model ("will enjoy") and an item-item model
("will pick"), ranked by a documented blend.

Rating model, for member u and movie i, in rating units (see ``types.py``):

    pred = m_i + b_i + b_u + x_i . theta_u + f_i . g_u

``m_i`` is the movie's shrunk mean (fixed per fit; shrunk toward the taste prior's movie
baseline, or a genre/year baseline from side features, else the guild mean), ``b_i``/``b_u``
regularised biases and ``x_i``/``theta_u`` the k latent features, all learned together by
``scipy.optimize.minimize(method="CG")`` until converged (``train.py``). With a taste prior
(``prior.py``) the movie factors are regularised toward the prior's factors (MAP) instead of
toward zero, and the shrunk means toward the prior's baseline; for a movie the guild rated,
both count as far as the prior's own ratings of it carry them (``pc / (pc + reg)`` of the
place, ``pc / (pc + mean_damping)`` of the baseline, side features the rest), so a prior that
knows a movie from a few ratings is not counted as much as one that knows it well; both times
``ModelConfig.prior_strength``, which held-out ratings choose per guild
(``prior_strength.py``: 0 where the prior only repeats what the guild's own ratings say, e.g.
a prior learned from the very ratings the guild trains on). ``f_i . g_u`` is the member's own
taste by genre (``taste.py``): ``f_i`` the movie's genre row of the side features, ``g_u`` a
small ridge on the member's residuals, solved on demand from their ratings, so it works from a
handful of ratings and without a prior (a small server's rating model learns no taste
factors). ``predict`` returns the plain prediction, clamped to the scale; every prediction
(shown numbers, the ranking's "enjoy" part, group picks) carries the taste term.

With a prior, every movie the prior knows is in the model (``ModelConfig.prior_candidates``):
a movie nobody in the guild rated keeps the prior's factors and baseline (support 0), so it
can be recommended, grouped and found similar from a guild's first rating.

Item-item model: EASE on the guild's binary "rated" matrix (``implicit.py``), plus the prior's
item-item weights when a prior is given, weighted per movie by how little the guild itself
knows of it (``prior_weights``); members with few ratings get a popularity part
(``popularity_weights``). Ranking (``recommend``, ``recommend_group``,
``rank_scores`` which ``evaluate`` uses) is the z-scored blend documented on
``ModelConfig.blend_enjoy``, made of the parts in ``blend.py``, times the chance the member
enjoys the movie (``ModelConfig.enjoy_*``, added in log space); movies under the minimum
support come last; a pick the rating model predicts below the member's own average is marked
a stretch. ``explain`` and
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

from .blend import Blend, Seen, member_ratings_count, seen_row
from .embeddings import Embeddings
from .features import align_features, feature_targets, place_cold_movies
from .implicit import ItemItem, zscore_rows
from .index import IdIndex, last_by_key, stable_order
from .member_row import MemberRow, apply_row, extra_design, member_row
from .normalise import shrunk_means
from .prior_rows import PriorBacked, compact
from .taste import keep_features, lift, pair_lift, row_offsets, taste_features
from .train import train_factors
from .types import FitReport, ModelConfig, Recommendation

_UNSUPPORTED = 1.0e6  # ranking offset for movies below min support (they only fill gaps)
_EMPTY = (np.zeros(0, np.int64), np.zeros(0))
STRETCH_MIN_RATINGS = 3  # ratings before "below your own average" can mark a stretch


class CFModel:
    """Collaborative-filtering model for one guild (see module docstring)."""

    # movie rows: with a prior only the guild's own rows are kept (``prior_rows.py``)
    X = PriorBacked()
    bi = PriorBacked()
    means = PriorBacked()

    def __init__(self, config: ModelConfig | None = None) -> None:
        self.config = config or ModelConfig()
        self._fitted = False
        self.report: FitReport | None = None
        self.tuned_on: int | None = None  # ratings count config.reg was chosen on (tuning.py)
        self.pick_evidence = 1.0  # the item-item part's measured weight (blend.PickPart)
        self._prior_cols: sp.csr_matrix | None = None  # prior weights into this guild's movies
        self.taste_features: sp.csr_matrix | None = None  # side features (taste.py)

    # ------------------------------------------------------------------ fitting
    def fit(self, user_ids, movie_ids, scores, warm_start: CFModel | None = None, *,
            prior=None, movie_features=None, rank_model: bool = True,
            pick_evidence: float | None = None) -> FitReport:
        """Fit on (member, movie, score) triples; later duplicates of a pair win.

        ``prior``: a ``prior.GuildPrior`` aligned to the catalog's movie ids (its feature
        count replaces ``config.features``). ``movie_features``: ``(movie_ids, matrix)``, a
        numeric row (dense or scipy sparse; e.g. genre one-hots and year buckets) per movie;
        it gives cold movies a baseline and a place in the factor space. ``rank_model=False``
        skips the item-item model (rating-only fits, e.g. regularisation tuning).
        ``pick_evidence``: the "will pick" part's evidence measured on a recent fit of the
        guild, kept instead of measured again (``tuning.fit_guild``; ``blend.PickPart``).
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
        self.users, ui64 = IdIndex.indexed(users, np.int32)
        ui = ui64.astype(np.int32, copy=False)
        del users, ui64
        self.movies, mi64 = IdIndex.indexed(movies, np.int32)
        if prior is not None and cfg.prior_candidates and len(prior):
            # every movie the prior knows is a candidate, rated in the guild or not
            rated_ids = self.movies.ids
            every = np.union1d(rated_ids, prior.movie_ids)
            if every.size > rated_ids.size:
                self.movies = IdIndex(every, presorted_unique=True)
                mi64 = self.movies.lookup(rated_ids)[mi64]
            del rated_ids, every
        mi = mi64.astype(np.int32, copy=False)
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
        F = align_features(self.movies.ids, movie_features)
        self.taste_features = keep_features(F, cfg.taste_columns)  # member taste (taste.py)
        counts = np.bincount(mi, minlength=nm).astype(np.float64)
        target = feature_targets(F, mi, vals, counts, self.global_mean, cfg.feature_reg)
        # Where a movie's mean is shrunk to: the prior's baseline; for a movie the guild
        # rated, only as far as the prior's own ratings of it carry it (pc / (pc + damping)),
        # the side features' baseline the rest (a prior count of a few ratings is little
        # evidence, and when the prior saw the same ratings it would count them twice), both
        # times ``prior_strength`` (chosen on held-out ratings: ``prior_strength.py``)
        trust = np.ones(nm)
        if linked.any():
            pc = prior.counts[self._p_row[linked]].astype(np.float64)
            trust[linked] = np.where(counts[linked] > 0,
                                     cfg.prior_strength * pc / (pc + cfg.mean_damping), 1.0)
            off = prior.offsets[self._p_row[linked]]
            # without side features a rated movie's baseline is the prior's as is, times
            # the strength (0: the guild mean, as without a prior)
            target[linked] = (np.where(counts[linked] > 0, cfg.prior_strength, 1.0) * off
                              if F is None
                              else trust[linked] * off + (1.0 - trust[linked]) * target[linked])
        means, support = shrunk_means(mi, vals, nm, self.global_mean, cfg.mean_damping)
        if np.any(target != 0):
            sums = np.bincount(mi, weights=vals, minlength=nm)
            means = (sums + cfg.mean_damping * (self.global_mean + target)) / (
                counts + cfg.mean_damping + 1e-12)
        self.means = means.astype(dtype)
        self.support_counts = support.astype(np.int32)  # member counts: half the bytes

        factorise = (
            k > 0 and cfg.maxiter > 0 and cfg.max_iterations > 0 and nu >= 2 and nm >= 2
            and vals.size >= cfg.min_ratings_to_factorise
        )
        x_prior = None
        if prior is not None and k > 0:
            x_prior = np.zeros((nm, k))
            x_prior[linked] = prior.factors[self._p_row[linked]]
        x_place = x_prior
        feature_share = (~linked).astype(np.float64)  # of the place a movie is pulled toward
        if x_prior is not None and linked.any():
            # movies the guild rated are pulled toward the prior's place as far as the
            # prior's own ratings carry it (its L2 shrinkage pc / (pc + reg)), times the
            # strength held-out ratings chose (``prior_strength``); side features the rest
            pc = np.zeros(nm)
            pc[linked] = prior.counts[self._p_row[linked]]
            pull = np.where(counts > 0, cfg.prior_strength * pc / (pc + cfg.reg + 1e-12), 1.0)
            x_place = x_prior * pull[:, None]
            feature_share = np.where(linked, 1.0 - pull, 1.0)
        warm = None
        if warm_start is not None and getattr(warm_start, "_fitted", False):
            def warm(X, T, bi, bu, prev=warm_start):
                self._warm(prev, X, T, bi, bu)
        # targets vals - means[movie]: the means ride in the objective (no residual copy);
        # the movie column is handed over (freed while training, rebuilt from the counts:
        # the ratings are sorted by movie)
        handed = [mi]
        del mi
        sol = train_factors(
            ui, handed, vals, nu, nm, k=k if factorise else 0, reg=cfg.reg,
            reg_bias=cfg.reg_bias,
            seed=cfg.seed, init_std=cfg.init_std, precondition=cfg.precondition,
            dtype="float64" if vals.size < cfg.exact_fit_max else cfg.dtype,
            round_iters=cfg.maxiter, gtol=cfg.gtol,
            tol=cfg.tol if vals.size < cfg.large_fit else max(cfg.tol, cfg.large_tol),
            max_iterations=cfg.max_iterations if factorise else 0,
            time_budget=cfg.time_budget, x_prior=x_place if factorise else None, warm=warm,
            warm_tol=cfg.warm_tol, warm_gnorm=cfg.warm_gnorm,
            offset=means)
        mi = np.repeat(np.arange(nm, dtype=np.int32), support)
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
            X = place_cold_movies(X, F, counts, feature_share, cfg.reg, cfg.feature_reg)
        self.X = np.ascontiguousarray(X, dtype=dtype)
        self.T = np.ascontiguousarray(T, dtype=dtype)
        self.bi = np.asarray(bi, dtype=dtype)
        self.bu = np.asarray(bu, dtype=dtype)
        self._structure(ui, mi, vals)
        n_fitted = int(vals.size)
        del vals  # the member lists hold their own copy: 4 bytes a rating less
        self.known_pick_evidence = pick_evidence
        for part in self.blend.parts:  # what each part learns itself (the item-item model)
            part.learn(self, ui, mi, nu, nm, rank_model)
        self.known_pick_evidence = None
        self._fitted = True
        compact(self)  # the prior's rows are read from the shared prior (prior_rows.py)
        self.report = FitReport(n_fitted, nu, nm, sol.iterations,
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
        snap._extra_taste = dict(self._extra_taste)
        return snap

    def _structure(self, ui, mi, vals) -> None:
        """Per-member rated lists (CSR by member) used for exclusion, fold-in and explain."""
        order = stable_order(ui)  # fit order is by movie: movies stay sorted
        self._r_ptr = np.zeros(len(self.users) + 1, dtype=np.int64)
        np.cumsum(np.bincount(ui, minlength=len(self.users)), out=self._r_ptr[1:])
        self._r_movies = mi[order]
        self._r_vals = vals[order]
        self._overrides: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        # ratings (catalog ids, units) of folded-in members on movies the model does not know
        self._extra: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        # the taste layer's rows of those movies, when the fold-in was given them (taste.py)
        self._extra_taste: dict[int, np.ndarray] = {}
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

    def fold_in_cells(self, n_rated: int) -> int:
        """Array cells a fold-in of a member with `n_rated` ratings touches: the member-side
        factors `with_row` copies plus the rated movies' factors `member_row` reads."""
        return int(self.T.size + n_rated * self.T.shape[1])

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
        taste = pair_lift(self, u, i)  # the member's genre/decade taste (taste.py)
        if taste is not None:
            out += taste
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

    def predict_row(self, row: MemberRow, movie_ids) -> np.ndarray:
        """``predict`` for the member whose row is ``row`` (``member_row``), without writing
        the row into this model: what the model would predict once it is folded in. Nothing
        is copied (a /rate's "I predicted" costs one k x k solve, whatever the guild's size)."""
        self._check()
        i = self.movies.lookup(np.asarray(movie_ids, dtype=np.int64).ravel())
        known = i >= 0
        out = np.full(i.shape, self.global_mean, dtype=np.float64)
        out[known] = self.means[i[known]].astype(np.float64) + self.bi[i[known]]
        out += row.bias
        if self.X.shape[1] and known.any():
            out[known] += self.X[i[known]].astype(np.float64) @ row.preferences
        F = taste_features(self)
        g = row_offsets(self, row)
        if F is not None and g is not None and known.any():
            out[known] += F[i[known]] @ g
        return self._to_scale(out)

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
            taste = lift(self, uu)  # the member's genre/decade taste (taste.py)
            if taste is not None:
                out[known] += taste
        return out

    def _implicit(self) -> ItemItem:
        ii = getattr(self, "implicit", None)
        if ii is None or ii.n != len(self.movies):
            ii = self.implicit = ItemItem.empty(len(self.movies))
        return ii

    @property
    def blend(self) -> Blend:
        """The ranking blend's parts, each with its config read from ``self.config``
        (``blend.py``)."""
        cached = self.__dict__.get("_blend_of")
        if cached is None or cached[0] is not self.config:
            cached = self._blend_of = (self.config, Blend.of(self.config))
        return cached[1]

    def prior_weights(self) -> np.ndarray:
        """Per-movie weight of the prior part (``blend.PriorPart.weights``)."""
        return self.blend.prior.weights(self)

    def popularity_weights(self, u: np.ndarray) -> np.ndarray:
        """Per-member weight of the popularity part (``blend.PopularityPart.weights``)."""
        return self.blend.popularity.weights(self, u)

    def part_weight(self, w, targets=None) -> np.ndarray:
        """A blend part's weight as one value per movie (``targets``: only those movies) for
        a single member: weights are numbers, per-movie rows or per-member columns."""
        row = np.broadcast_to(np.asarray(w, dtype=np.float64), (1, len(self.movies)))[0]
        return row if targets is None else row[np.asarray(targets, dtype=np.int64)]

    def _blend_parts(self, u: np.ndarray, seen: Seen = None
                     ) -> dict[str, tuple[float | np.ndarray, np.ndarray]]:
        """name -> (weight, raw scores batch x movies) of each blend part for members ``u``
        (``Blend.raw_parts``); ``part_weight`` reads any weight."""
        return self.blend.raw_parts(self, u, seen)

    def _blend(self, u: np.ndarray, seen: Seen = None) -> np.ndarray:
        return self.blend.combine(self, u, seen)

    def rank_scores(self, user_index: np.ndarray, min_support: int | None = None,
                    seen: Seen = None) -> np.ndarray:
        """Ranking scores of all movies for a batch of member indexes (batch x movies).

        The blend of ``ModelConfig`` (what ``recommend`` sorts by), with movies below min
        support pushed after all others; does not exclude rated movies. Index -1 (unknown
        member) gets the popularity ranking (shrunk mean + bias - support penalty), z-scored,
        unless ``seen`` (one array of movie ids per row: watched, not rated) gives the row
        movies: then the blend with them (``blend.py``).
        """
        u = np.asarray(user_index, dtype=np.int64).ravel()
        out = np.empty((u.size, len(self.movies)))
        by_blend = u >= 0
        if seen is not None:
            by_blend = by_blend | np.array([seen_row(seen, r).size > 0 for r in range(u.size)],
                                           dtype=bool)
        if (~by_blend).any():  # z-scored too, so group rankings mix members on one scale
            out[~by_blend] = zscore_rows(self._enjoy(np.full(int((~by_blend).sum()), -1)))
        if by_blend.any():
            rows = np.flatnonzero(by_blend).tolist()
            out[by_blend] = self._blend(
                u[by_blend], None if seen is None else [seen_row(seen, r) for r in rows])
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
                  min_support: int | None = None, avoid=(), seen=()) -> list[Recommendation]:
        """Top-n movies for a member, best first by the ranking blend, never a movie they rated
        or in ``exclude``.

        Movies with fewer than ``min_support`` ratings (default: the config's auto rule) come
        only after every supported movie. A member the model does not know gets ``popular``,
        unless they have ``seen`` movies.
        ``avoid``: movies the member said they are not interested in: never listed, and a
        negative signal (``avoid_penalty``).
        ``seen``: movies the member watched without rating them (a linked media account):
        never listed, and a positive signal weaker than a rating (``blend.py``).
        """
        self._check()
        avoid = np.fromiter((int(a) for a in avoid), dtype=np.int64)
        seen_ids = np.unique(np.fromiter((int(s) for s in seen), dtype=np.int64))
        if avoid.size or seen_ids.size:
            exclude = np.concatenate([np.fromiter(exclude, dtype=np.int64), avoid, seen_ids])
        u = self.users.get(user_id)
        if u < 0 and not seen_ids.size:
            return self.popular(n, exclude=exclude, candidates=candidates, min_support=min_support)

        rows = [seen_ids] if seen_ids.size else None
        scores = self.rank_scores(np.array([u]), min_support, rows)[0]
        if avoid.size:
            scores = scores - self.avoid_penalty(u, avoid, seen_ids if seen_ids.size else None)
        predicted = self._predict_units(np.full(len(self.movies), u), np.arange(len(self.movies)))
        return self._rank(scores, predicted, n, self._excluded([u], exclude), candidates,
                          floor=self.stretch_floor(u))

    def avoid_penalty(self, u: int, avoid: np.ndarray,
                      seen: np.ndarray | None = None) -> np.ndarray:
        """What "not interested" in ``avoid`` (ids) takes off member index u's blend
        (``Blend.avoid_penalty``; ``seen``: the member's seen movie ids)."""
        return self.blend.avoid_penalty(self, u, avoid, seen)

    def stretch_floor(self, u: int) -> float:
        """Below this prediction a pick is a stretch: the member's own average, once they have
        ``STRETCH_MIN_RATINGS`` ratings (a first rating of 10 says what they love, not that
        everything else is a stretch); -inf before."""
        if member_ratings_count(self, np.array([u]))[0] < STRETCH_MIN_RATINGS:
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

    def reasons(self, user_id, movie_ids, min_weight: float = 0.1, seen=()):
        """Why each movie is on the member's list: a ``reasons.Reasons`` aligned to
        ``movie_ids`` (``reasons.member_reasons``; unknown member or movies: no reason;
        ``seen``: as in ``recommend``)."""
        from .reasons import member_reasons

        self._check()
        return member_reasons(self, user_id, movie_ids, min_weight, seen)

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
                        exclude=(), min_support: int | None = None,
                        seen: Seen = None) -> list[Recommendation]:
        """Movies for several members watching together.

        Each member's ranking blend is computed as in ``recommend``; ``average`` ranks by their
        mean (best overall happiness), ``least_misery`` by their minimum (nobody is left out).
        ``predicted`` is the mean (average) or minimum (least misery) of the members'
        predictions. Movies any member rated (already seen) and ``exclude`` are left out;
        unknown members count with the popularity ranking. Same min-support rule as recommend.
        ``seen``: each member's seen movies (aligned to ``user_ids``), as in ``recommend``
        (the caller excludes them).
        """
        self._check()
        if strategy not in ("average", "least_misery"):
            raise ValueError("strategy must be 'average' or 'least_misery'")
        u = self.users.lookup(list(user_ids))
        if u.size == 0:
            return self.popular(n, exclude=exclude, candidates=candidates, min_support=min_support)

        nm = len(self.movies)
        preds = np.stack([self._predict_units(np.full(nm, x), np.arange(nm)) for x in u])
        blend = self.rank_scores(u, 0, seen)
        if strategy == "average":
            agg, scores = preds.mean(axis=0), blend.mean(axis=0)
        else:
            agg, scores = preds.min(axis=0), blend.min(axis=0)
        scores = scores - _UNSUPPORTED * (self.evidence() < self._min_sup(min_support))
        return self._rank(scores, agg, n, self._excluded(u.tolist(), exclude), candidates)

    def similar(self, movie_id, n: int = 10, candidates=None) -> list[tuple[int, float]]:
        """Movies most like ``movie_id``, with a calibrated similarity in [0, 1)
        (``similar.similar_movies``: an empty list means "not enough ratings yet")."""
        from .similar import similar_movies

        return similar_movies(self, movie_id, n, candidates)

    def similar_with_evidence(self, movie_id, n: int = 10,
                              candidates=None) -> list[tuple[int, float, float]]:
        """``similar`` with the share of each similarity the guild's co-ratings gave (the
        rest: the movies' genres; ``similar.similar_with_evidence``)."""
        from .similar import similar_with_evidence

        return similar_with_evidence(self, movie_id, n, candidates)

    # ------------------------------------------------------------------ fold-in & explain
    def _targets(self, movies: np.ndarray, vals: np.ndarray) -> np.ndarray:
        return vals - self.means[movies] - self.bi[movies]

    def _extra_design(self, u: int) -> tuple[np.ndarray, np.ndarray]:
        """(feature rows, targets) of member u's ratings on movies the model does not know
        (``member_row.extra_design``)."""
        ids, vals = self._extra.get(u, (np.zeros(0, np.int64), np.zeros(0)))
        return extra_design(self, ids, vals)

    def member_row(self, user_id, movie_ids, scores, extra_features=None) -> MemberRow:
        """The member's row solved from their complete current ratings, without changing
        the model (X, biases, means fixed; ``member_row.py``; ``extra_features``: side
        features of rated movies the model does not know, for the member's genre taste)."""
        self._check()
        return member_row(self, user_id, movie_ids, scores, extra_features)

    def taste_width(self) -> int:
        """Columns of the member taste layer's rows (0: the layer is off; ``taste.py``)."""
        F = taste_features(self)
        return 0 if F is None else int(F.shape[1])

    def needs_extra_features(self, movie_ids) -> np.ndarray:
        """Of ``movie_ids``, those whose side features a fold-in would use (``member_row``'s
        ``extra_features``): movies the model does not know, when the taste layer is on."""
        ids = np.asarray(movie_ids, dtype=np.int64).ravel()
        if taste_features(self) is None or ids.size == 0:
            return np.zeros(0, np.int64)
        return ids[self.movies.lookup(ids) < 0]

    def with_row(self, row: MemberRow) -> CFModel:
        """A new model with ``row`` applied; this one stays as it is (rankings need no lock)."""
        if self.prior is not None:
            self.blend.prior.columns(self)  # built once, shared by the copies
        new = self.snapshot()
        apply_row(new, row)
        return new

    def fold_in(self, user_id, movie_ids, scores) -> None:
        """Set a member's ratings and re-solve only their row: ``member_row`` written into the
        model (``apply_row``; a new member gets a row, a known member's is replaced).

        ``movie_ids``/``scores`` are the member's complete current ratings. Ratings on movies
        the model does not know count too (the prior's factors and baseline when linked, else
        the member's bias)."""
        apply_row(self, self.member_row(user_id, movie_ids, scores))

    def explain(self, user_id, movie_id, top: int = 1) -> list[tuple[int, float, float]]:
        """Which of the member's own ratings put ``movie_id`` on their list: up to ``top``
        ``(rated_movie_id, rating, weight)``, strongest first (``reasons.explain_pick``)."""
        from .reasons import explain_pick

        self._check()
        return explain_pick(self, user_id, movie_id, top)

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
        self._prior_cols = None
        if prior is not None and (self.movies is prior.index() or (
                len(self.movies) == len(prior)
                and np.array_equal(self.movies.ids, prior.movie_ids))):
            # the model's movies are the prior's: its index, rows and evidence are shared
            # read-only with every such guild model (one copy per process, not per guild)
            self.movies = prior.index()
            self._p_row = prior.rows()
            self._prior_counts = prior.counts64()
            return
        self._p_row = (prior.lookup(self.movies.ids) if prior is not None
                       else np.full(len(self.movies), -1, dtype=np.int64))
        self._prior_counts = np.zeros(len(self.movies))
        if prior is not None:
            linked = self._p_row >= 0
            self._prior_counts[linked] = prior.counts[self._p_row[linked]]

    def config_json(self) -> str:
        d = dict(self.config.__dict__)
        d["scale"] = list(d["scale"])
        return json.dumps(d)
