"""The ranking blend as parts: the rating model ("enjoy"), the guild's item-item model
("pick"), the taste prior's item-item model ("prior") and popularity, combined by a `Blend`.

Every part has its own config (a frozen dataclass read from ``ModelConfig``, where the values
are documented and tuned), a weight that may depend on the evidence, and raw scores for a batch
of members over every movie of a fitted ``CFModel``:

    rank = sum over parts of weight * z(raw scores)      (z: per member, ``zscore_rows``)

* ``EnjoyPart``: the rating model's prediction, weight ``blend_enjoy``.
* ``PickPart``: EASE on who rated what (``implicit.py``), each rated movie weighted by how much
  the member liked it (``liking``); weight ``blend_pick`` times the fit's measured
  ``pick_evidence`` (``implicit.pick_lift``).
* ``PriorPart``: the taste prior's item-item weights into the guild's movies; per-movie weight
  ``blend_prior_pick * e / (e + guild co-raters)``, e = ``prior_evidence`` (``weights``).
* ``DebiasPart``: minus each movie's evidence (guild ratings plus the prior's), weight
  ``blend_debias * max(0, 1 - debias_members / members)``: popularity debiasing in large
  guilds, so that the few movies everyone watched do not top every list (coverage).
* ``PopularityPart``: log(1 + guild ratings); with a taste prior, the prior's item-item
  scores of the member's rated movies plus ``pop_cold_base`` x the share of members who rated
  the movie (what they will watch: close to what they rated, or very widely watched here);
  per-member weight ``blend_popularity + pop_cold * (c / (c + n)) ** pop_cold_power`` (n the
  member's ratings, c ``pop_cold_ratings``).

The sum is then read as the log-odds of "will pick" and multiplied by the chance the member
enjoys the movie (``ExpectedEnjoyment``, on top of the parts; not a part: it is not linear in
the member's ratings, and reasons split the parts only):

    rank += temperature * sd_top(rank) * log P(rating >= like | predicted, sd)

A weight is a number, a per-movie row (1 x movies) or a per-member column (batch x 1);
``CFModel.part_weight`` reads any of them for one member. A part that has nothing to say for a
model (no item-item weights, no prior, a zero weight) is left out of the blend. Each part's
``scores(model, user_ids)`` gives its batch scores with their ids, ``(movie_ids, scores)``
(batch x movies); ``Blend.scores`` the blend's. A new signal is a new part here, nothing else.

**Seen movies** (watched on a linked media account, never rated: ``seen``, one array of movie
ids per batch row) are a weaker positive signal than a rating: they join the member's input
rows of the item-item parts (guild and prior) with weight ``seen_weight`` (below the liking
weight 1 of a movie rated at the member's own average), and count like ratings in the
popularity part's cold-start rule: z-scoring makes a part's ranking independent of the scale
of its input row, so a member's signal grows with how many movies are in it, not with their
weight; and a play is what the "will pick" part models (who chose what). A member with no
ratings but seen movies is ranked by this blend (enjoy: the movie baselines), not by the
popularity ranking alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import scipy.sparse as sp
from scipy.special import log_ndtr

from .implicit import GramShare, ItemItem, LiftSample, pick_lift, zscore_rows
from .types import ModelConfig

if TYPE_CHECKING:
    from .model import CFModel

Weight = float | np.ndarray
Parts = dict[str, tuple[Weight, np.ndarray]]
Seen = Sequence[np.ndarray] | None
"""Per batch row, the ids of movies the member watched without rating them (None: none)."""


def seen_row(seen: Seen, r: int) -> np.ndarray:
    """Batch row r's seen movie ids (int64; empty when none)."""
    if seen is None or r >= len(seen) or seen[r] is None:
        return np.zeros(0, np.int64)
    return np.asarray(seen[r], dtype=np.int64).ravel()


class Part(Protocol):
    """One signal of the blend (see the module docstring)."""

    @property
    def name(self) -> str: ...

    def weight(self, model: CFModel, u: np.ndarray, seen: Seen = None) -> Weight: ...

    def active(self, model: CFModel, weight: Weight) -> bool: ...

    def raw(self, model: CFModel, u: np.ndarray, seen: Seen = None) -> np.ndarray: ...

    def learn(self, model: CFModel, ui: np.ndarray, mi: np.ndarray, nu: int, nm: int,
              rank_model: bool) -> None:
        """Fit what the part itself learns from the guild's (member, movie) pairs, on
        ``model`` (``CFModel.fit`` calls it for every part)."""

    def state(self, model: CFModel) -> dict[str, np.ndarray]:
        """The part's learned arrays for the model's archive (``persist.py``)."""

    def restore(self, model: CFModel, z: Any, nm: int) -> None:
        """Read ``state`` back from an archive ``z`` (None: an archive from before parts
        stored anything)."""


class Stateless:
    """A part that learns nothing of its own: it reads the fitted model (and its config)."""

    def learn(self, model: CFModel, ui: np.ndarray, mi: np.ndarray, nu: int, nm: int,
              rank_model: bool) -> None:
        return None

    def state(self, model: CFModel) -> dict[str, np.ndarray]:
        return {}

    def restore(self, model: CFModel, z: Any, nm: int) -> None:
        return None


def liking(vals: np.ndarray, rating_weight: float, dislike: float = 0.0,
           dislike_at: float = -np.inf) -> np.ndarray:
    """Weight of each rated movie in the member's "will pick" input row:
    1 + rating_weight * (rating - member's mean rating), in rating units, >= 0; a rating at
    or below ``dislike_at`` (units) weighs ``-dislike`` instead when ``dislike`` > 0 (what
    the same people picked sinks with it, like "not interested": ``Blend.avoid_penalty``)."""
    if vals.size == 0:
        return np.ones(0)
    out = (np.ones(vals.size) if not rating_weight
           else np.maximum(1.0 + rating_weight * (vals - vals.mean()), 0.0))
    if dislike > 0:
        out = np.where(vals <= dislike_at + 1e-9, -float(dislike), out)
    return out


def member_ratings_count(model: CFModel, u: np.ndarray, seen: Seen = None) -> np.ndarray:
    """Ratings of each member index (movies the model knows plus folded-in others), plus
    their seen movies (``seen``, not rated) when given."""
    out = np.zeros(u.size)
    for r, x in enumerate(u.tolist()):
        if x >= 0:
            extra = model._extra.get(x)
            out[r] = model._rated(x)[0].size + (extra[0].size if extra is not None else 0)
        if model.config.seen_weight:  # 0: the seen signal is off
            out[r] += np.unique(seen_row(seen, r)).size
    return out


def has_prior_weights(model: CFModel) -> bool:
    """Whether the model has a taste prior with item-item weights."""
    return bool(model.prior is not None and model.prior.implicit.W.nnz)


def prior_liking(model: CFModel, vals: np.ndarray) -> np.ndarray:
    """Weight of each rated movie in the member's input rows over the prior's movies:
    ``liking`` at ``ModelConfig.prior_rating_weight`` (0: every rated movie counts 1), the
    member's mean taken over all their ratings (those only the prior knows included)."""
    return liking(np.asarray(vals, dtype=np.float64), model.config.prior_rating_weight)


def first_linked(p: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The linked prior indexes ``p`` (>= 0) counted once each, the first occurrence's weight
    kept (two guild movies may link to one prior movie); ``reasons.py`` splits the same rows."""
    ok = np.flatnonzero(p >= 0)
    _, pos = np.unique(p[ok], return_index=True)
    keep = ok[pos]
    return p[keep], weights[keep]


def prior_rated_matrix(model: CFModel, u: np.ndarray, seen: Seen = None,
                       seen_weight: float = 0.0) -> sp.csr_matrix | None:
    """Rated sets (batch x the prior's movies) of member indexes ``u``: each movie they rated
    (the model's and those only the prior knows) at its liking weight (``prior_liking``: a
    movie rated below the member's average pulls little or nothing, so a disliked film's
    sequel is not their pick), ``seen_weight`` for each row's seen movies (not rated). None
    without a prior."""
    if model.prior is None:
        return None
    rows, cols, data = [], [], []
    for r, x in enumerate(u.tolist()):
        p = np.zeros(0, np.int64)
        if x >= 0:
            mi, vals = model._rated(x)
            p = model._p_row[mi]
            v = np.asarray(vals, dtype=np.float64)
            extra = model._extra.get(x)
            if extra is not None and extra[0].size:
                p = np.concatenate([p, model.prior.lookup(extra[0])])
                v = np.concatenate([v, np.asarray(extra[1], dtype=np.float64)])
            p, w = first_linked(p, prior_liking(model, v))
            rows.append(np.full(p.size, r))
            cols.append(p)
            data.append(w)
        s = seen_row(seen, r)
        if s.size and seen_weight:
            q = model.prior.lookup(s)
            q = np.setdiff1d(q[q >= 0], p)
            rows.append(np.full(q.size, r))
            cols.append(q)
            data.append(np.full(q.size, float(seen_weight)))
    rows_a = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    cols_a = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    data_a = np.concatenate(data) if data else np.zeros(0)
    return sp.csr_matrix((data_a.astype(np.float32), (rows_a, cols_a)),
                         shape=(u.size, len(model.prior)))


def prior_columns(model: CFModel) -> sp.csr_matrix:
    """The prior's item-item weights into the guild's linked movies (kept on the model)."""
    if model._prior_cols is None:  # the prior's own matrix when the movies are all of its
        model._prior_cols = model.prior.weights_into(model._p_row)
    return model._prior_cols


def neighbour_scale(S: np.ndarray) -> np.ndarray:
    """Per row of prior item-item scores: 1 / the sum of its positive scores (0 with none),
    which makes the member's neighbour scores a distribution over the movies."""
    total = np.clip(S, 0.0, None).sum(axis=1)
    return np.divide(1.0, total, out=np.zeros_like(total), where=total > 1e-12)


def prior_item_scores(model: CFModel, u: np.ndarray, seen: Seen = None,
                      seen_weight: float = 0.0) -> np.ndarray:
    """The prior's item-item scores (batch x model movies, 0 where unlinked) of member
    indexes ``u``: the sum of the weights from each movie they rated (and saw, at
    ``seen_weight``)."""
    full = np.zeros((u.size, len(model.movies)))
    R = prior_rated_matrix(model, u, seen, seen_weight)
    if R is None:
        return full
    linked = model._p_row >= 0
    full[:, linked] = (R @ prior_columns(model)).toarray()
    return full


def _batch(model: CFModel, part: Part, user_ids) -> tuple[np.ndarray, np.ndarray]:
    u = model.users.lookup(np.asarray(user_ids, dtype=np.int64).ravel())
    return model.movies.ids.copy(), part.raw(model, u)


@dataclass(frozen=True)
class EnjoyConfig:
    weight: float = 0.3

    @classmethod
    def of(cls, cfg: ModelConfig) -> EnjoyConfig:
        return cls(cfg.blend_enjoy)


@dataclass(frozen=True)
class EnjoyPart(Stateless):
    """The rating model's plain prediction (units) of every movie."""

    config: EnjoyConfig
    name: str = "enjoy"

    def weight(self, model: CFModel, u: np.ndarray, seen: Seen = None) -> Weight:
        return self.config.weight

    def active(self, model: CFModel, weight: Weight) -> bool:
        return True

    def raw(self, model: CFModel, u: np.ndarray, seen: Seen = None) -> np.ndarray:
        return model._enjoy(u, penalty=False)

    def scores(self, model: CFModel, user_ids) -> tuple[np.ndarray, np.ndarray]:
        return _batch(model, self, user_ids)


@dataclass(frozen=True)
class PickConfig:
    weight: float = 1.0
    rating_weight: float = 0.5
    ease_lambda: float = 400.0
    ease_items: int = 1000
    ease_topk: int = 100
    lift_full: float = 3.0
    seed: int = 0
    seen_weight: float = 0.5
    dislike: float = 0.0
    dislike_at: float = -np.inf  # rating units
    lift_items: int = 500

    @classmethod
    def of(cls, cfg: ModelConfig) -> PickConfig:
        lo, hi = cfg.scale
        return cls(cfg.blend_pick, cfg.pick_rating_weight, cfg.ease_lambda, cfg.ease_items,
                   cfg.ease_topk, cfg.pick_lift_full, cfg.seed, cfg.seen_weight,
                   cfg.pick_dislike, (lo + cfg.pick_dislike_at * (hi - lo)) / cfg.unit,
                   cfg.pick_lift_items)


@dataclass(frozen=True)
class PickPart:
    """The guild's item-item model on the members' rated sets, weighted by liking."""

    config: PickConfig
    name: str = "pick"

    def fit(self, ui: np.ndarray, mi: np.ndarray, nu: int, nm: int,
            evidence: float | None = None) -> tuple[ItemItem, float]:
        """The item-item model of (member index, movie index) pairs and its evidence: the
        weight factor clip((lift - 1) / (lift_full - 1), 0, 1) from how much better than
        chance it finds held-out ratings (``implicit.pick_lift``; 1 when not measured).
        ``evidence``: a recent measurement to keep (a refit of a guild that changed little:
        ``tuning.fit_guild``), which saves the second EASE solve."""
        c = self.config
        measure = evidence is None and c.lift_full > 1
        lift_items = min(c.ease_items, c.lift_items)
        sample = share = None
        if measure:  # the evidence's EASE takes its co-rating counts from this one's
            sample = LiftSample.draw(ui, nu, seed=c.seed)
            share = GramShare(sample.selection(mi, nm, lift_items))
        ii = ItemItem.fit(ui, mi, nu, nm, lam=c.ease_lambda, max_items=c.ease_items,
                          topk=c.ease_topk, distinct=True, share=share)
        if evidence is not None:
            return ii, float(evidence)
        evidence = 1.0
        if measure and ii.W.nnz:
            lift = pick_lift(ui, mi, nu, nm, lam=c.ease_lambda, max_items=lift_items,
                             topk=c.ease_topk, seed=c.seed, sample=sample, share=share)
            if lift is not None:
                evidence = float(np.clip((lift - 1.0) / (c.lift_full - 1.0), 0.0, 1.0))
        return ii, evidence

    def learn(self, model: CFModel, ui: np.ndarray, mi: np.ndarray, nu: int, nm: int,
              rank_model: bool) -> None:
        known = getattr(model, "known_pick_evidence", None)
        model.implicit, model.pick_evidence = (self.fit(ui, mi, nu, nm, known) if rank_model
                                               else (ItemItem.empty(nm), 1.0))

    def state(self, model: CFModel) -> dict[str, np.ndarray]:
        out = dict(model._implicit().arrays("ii_"))
        out["pick_evidence"] = np.array(float(getattr(model, "pick_evidence", 1.0)))
        return out

    def restore(self, model: CFModel, z: Any, nm: int) -> None:
        if z is None:  # formats 1-2: rank by the rating model alone until the next fit
            model.implicit = ItemItem.empty(nm)
            return
        model.implicit = ItemItem.from_arrays(z, "ii_", nm)
        model.pick_evidence = float(z["pick_evidence"]) if "pick_evidence" in z.files else 1.0

    def weight(self, model: CFModel, u: np.ndarray, seen: Seen = None) -> Weight:
        return self.config.weight * getattr(model, "pick_evidence", 1.0)

    def active(self, model: CFModel, weight: Weight) -> bool:
        return bool(weight) and bool(model._implicit().W.nnz)

    def liking(self, vals: np.ndarray) -> np.ndarray:
        """Input-row weights of a member's ratings (units; ``liking``)."""
        c = self.config
        return liking(vals, c.rating_weight, c.dislike, c.dislike_at)

    def rated_matrix(self, model: CFModel, u: np.ndarray, seen: Seen = None) -> sp.csr_matrix:
        """Liking-weighted rated sets (batch x movies) of member indexes ``u`` (-1 = nobody),
        plus each row's seen movies (not rated) at ``seen_weight``."""
        rows, cols, data = [], [], []
        for r, x in enumerate(u.tolist()):
            mi = np.zeros(0, np.int64)
            if x >= 0:
                mi, vals = model._rated(x)
                rows.append(np.full(mi.size, r))
                cols.append(mi)
                data.append(self.liking(vals))
            s = seen_row(seen, r)
            if s.size and self.config.seen_weight:
                si = model.movies.lookup(s)
                si = np.setdiff1d(si[si >= 0], mi)
                rows.append(np.full(si.size, r))
                cols.append(si)
                data.append(np.full(si.size, float(self.config.seen_weight)))
        rows_a = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        cols_a = np.concatenate(cols) if cols else np.zeros(0, np.int64)
        data_a = np.concatenate(data) if data else np.zeros(0)
        return sp.csr_matrix((data_a.astype(np.float32), (rows_a, cols_a)),
                             shape=(u.size, len(model.movies)))

    def raw(self, model: CFModel, u: np.ndarray, seen: Seen = None) -> np.ndarray:
        return model._implicit().scores(self.rated_matrix(model, u, seen))

    def scores(self, model: CFModel, user_ids) -> tuple[np.ndarray, np.ndarray]:
        return _batch(model, self, user_ids)


@dataclass(frozen=True)
class PriorConfig:
    weight: float = 2.5
    evidence: float = 10.0
    seen_weight: float = 0.5

    @classmethod
    def of(cls, cfg: ModelConfig) -> PriorConfig:
        strength = min(1.0, max(0.0, float(cfg.prior_strength)))
        kept = strength + (1.0 - strength) * float(cfg.prior_pick_unhelpful)
        return cls(cfg.blend_prior_pick * kept, cfg.prior_evidence, cfg.seen_weight)


@dataclass(frozen=True)
class PriorPart(Stateless):
    """The taste prior's item-item weights, strongest on movies the guild knows little of."""

    config: PriorConfig
    name: str = "prior"

    def weights(self, model: CFModel) -> np.ndarray:
        """Per-movie weight: ``weight * e / (e + n)`` with n the movie's guild co-raters
        (members who rated it) and e ``evidence`` (a fixed weight when e is infinite)."""
        e = float(self.config.evidence)
        n = model.support_counts.astype(np.float64)
        if not np.isfinite(e):
            return np.full(n.size, float(self.config.weight))
        return self.config.weight * e / (e + n + 1e-12)

    def weight(self, model: CFModel, u: np.ndarray, seen: Seen = None) -> Weight:
        return self.weights(model)[None, :]

    def active(self, model: CFModel, weight: Weight) -> bool:
        return bool(model.prior is not None and self.config.weight and self.config.evidence
                    and model.prior.implicit.W.nnz)

    def rated_matrix(self, model: CFModel, u: np.ndarray,
                     seen: Seen = None) -> sp.csr_matrix | None:
        """Rated sets over the prior's movies (``prior_rated_matrix``), seen movies at
        ``seen_weight``."""
        return prior_rated_matrix(model, u, seen, self.config.seen_weight)

    def columns(self, model: CFModel) -> sp.csr_matrix:
        """The prior's weights into the guild's linked movies (``prior_columns``)."""
        return prior_columns(model)

    def raw(self, model: CFModel, u: np.ndarray, seen: Seen = None) -> np.ndarray:
        """The prior's item-item scores of every model movie (``prior_item_scores``)."""
        return prior_item_scores(model, u, seen, self.config.seen_weight)

    def scores(self, model: CFModel, user_ids) -> tuple[np.ndarray, np.ndarray]:
        return _batch(model, self, user_ids)


@dataclass(frozen=True)
class PopularityConfig:
    weight: float = 0.0
    cold: float = 100.0
    cold_ratings: float = 2.0
    cold_power: float = 2.0
    base: float = 10.0
    seen_weight: float = 0.5

    @classmethod
    def of(cls, cfg: ModelConfig) -> PopularityConfig:
        return cls(cfg.blend_popularity, cfg.pop_cold, cfg.pop_cold_ratings, cfg.pop_cold_power,
                   cfg.pop_cold_base, cfg.seen_weight)


@dataclass(frozen=True)
class PopularityPart(Stateless):
    """The guild's most-rated movies, carrying members with few ratings."""

    config: PopularityConfig
    name: str = "popularity"

    def weights(self, model: CFModel, u: np.ndarray, seen: Seen = None) -> np.ndarray:
        """Per-member weight: ``weight + cold * (c / (c + n)) ** cold_power`` (n: ratings
        and seen movies)."""
        cfg = self.config
        n = member_ratings_count(model, u, seen)
        c = float(cfg.cold_ratings)
        return cfg.weight + cfg.cold * (c / (c + n + 1e-12)) ** cfg.cold_power

    def weight(self, model: CFModel, u: np.ndarray, seen: Seen = None) -> Weight:
        return self.weights(model, u, seen)[:, None]

    def active(self, model: CFModel, weight: Weight) -> bool:
        return bool(np.any(np.asarray(weight) > 0))

    def raw(self, model: CFModel, u: np.ndarray, seen: Seen = None) -> np.ndarray:
        """Without a taste prior: log(1 + guild ratings) of every movie. With one (and
        ``base`` > 0): the member's neighbours in the prior (their prior item-item scores,
        scaled to sum to 1 over the positive ones) plus ``base`` times each movie's share
        of the guild's ratings (``ModelConfig.pop_cold_base``)."""
        if not self.uses_prior(model):
            pop = np.log1p(model.support_counts.astype(np.float64))
            return np.repeat(pop[None, :], u.size, axis=0)
        sup = model.support_counts.astype(np.float64)
        share = sup / max(float(sup.sum()), 1.0)
        S = prior_item_scores(model, u, seen, self.config.seen_weight)
        return float(self.config.base) * share[None, :] + S * neighbour_scale(S)[:, None]

    def uses_prior(self, model: CFModel) -> bool:
        """Whether ``raw`` adds the prior's item-item scores (a prior and ``base`` > 0)."""
        return bool(self.config.base > 0 and has_prior_weights(model))

    def scores(self, model: CFModel, user_ids) -> tuple[np.ndarray, np.ndarray]:
        return _batch(model, self, user_ids)


@dataclass(frozen=True)
class DebiasConfig:
    weight: float = 0.0
    members: float = 300.0

    @classmethod
    def of(cls, cfg: ModelConfig) -> DebiasConfig:
        return cls(cfg.blend_debias, cfg.debias_members)


@dataclass(frozen=True)
class DebiasPart(Stateless):
    """Popularity debiasing: how widely watched each movie is, with a negative weight, so that
    among movies the other parts score alike the less watched one comes first
    (``ModelConfig.blend_debias``). Raw score: the movie's evidence (the guild's ratings plus,
    with a taste prior, the prior dataset's: ``CFModel.evidence``); z-scored like every part,
    so it sets apart the few very widely watched movies that would otherwise top everyone's
    list. Weight ``-weight * max(0, 1 - members / m)`` for a guild of m members: none up to
    ``members`` (``ModelConfig.debias_members``: a small guild's lists lean on what is widely
    watched, its own "who picks what" says little yet), growing toward ``weight`` in large
    guilds, whose item-item part concentrates on the same few movies for everyone."""

    config: DebiasConfig = DebiasConfig()
    name: str = "debias"

    def weight(self, model: CFModel, u: np.ndarray, seen: Seen = None) -> Weight:
        m = float(len(model.users))
        return -float(self.config.weight) * max(0.0, 1.0 - float(self.config.members) / max(m, 1.0))

    def active(self, model: CFModel, weight: Weight) -> bool:
        return bool(self.config.weight) and bool(weight)

    def raw(self, model: CFModel, u: np.ndarray, seen: Seen = None) -> np.ndarray:
        return np.repeat(model.evidence()[None, :], u.size, axis=0)

    def scores(self, model: CFModel, user_ids) -> tuple[np.ndarray, np.ndarray]:
        return _batch(model, self, user_ids)


@dataclass(frozen=True)
class EnjoymentConfig:
    like: float = 0.75
    sd: float = 0.93
    temperature: float = 1.6
    top: int = 400
    min_ratings: int = 6
    without_prior: bool = False
    members: int = 100

    @classmethod
    def of(cls, cfg: ModelConfig) -> EnjoymentConfig:
        return cls(cfg.enjoy_like, cfg.enjoy_sd, cfg.enjoy_temperature, cfg.enjoy_top,
                   cfg.enjoy_min_ratings, cfg.enjoy_without_prior, cfg.enjoy_members)


@dataclass(frozen=True)
class ExpectedEnjoyment:
    """Rank by the chance a member picks *and* enjoys a movie: P(pick) * P(like | pick).

    The blend of the parts is read as the log-odds of "will pick", in units of ``temperature``
    times its standard deviation over the member's ``top`` movies (the scale at which, in
    held-out guild simulations, a softmax of the blend best predicts which movies members
    rate next: 1.5-1.7 at 10-200 members with a prior; 1.7-2.2 without). P(like) is the rating
    model's chance that the member rates the movie at or above ``like`` (a fraction of the
    scale: 0.75 is 7.75 of 10, between the 4-star ratings the evaluation counts relevant and
    the 3.5-star ones it does not), the prediction taken as a Gaussian mean with the rating
    model's held-out error ``sd`` (rating units; 0.9-0.96 in ml-latest-small guild
    simulations). So a movie the rating model expects the member to dislike sinks by what that
    dislike costs, however often the member's neighbours picked it, and among equally likely
    picks the better liked comes first. Only for members with ``min_ratings`` ratings or more:
    below that the rating model knows little of the member's own taste and the cold-start blend
    (popularity, the prior) carries the list. With a taste prior, or in a guild of ``members``
    members or more (``applies``), or always with ``without_prior``: a small guild's rating
    model alone (predictions from a few ratings per movie) lowered precision@10 this way in
    held-out guild simulations."""

    config: EnjoymentConfig

    def active(self) -> bool:
        return bool(self.config.temperature > 0 and self.config.sd > 0)

    def log_like(self, model: CFModel, u: np.ndarray) -> np.ndarray:
        """log P(rating >= like) of every movie for member indexes ``u`` (batch x movies)."""
        lo, hi = model.config.scale
        like = (lo + self.config.like * (hi - lo)) / model.config.unit  # in rating units
        return np.asarray(log_ndtr((model._enjoy(u, penalty=False) - like) / self.config.sd))

    def scale(self, blend: np.ndarray) -> np.ndarray:
        """Blend units per unit of log-probability, per member (batch x 1): ``temperature``
        times the standard deviation of the member's ``top`` highest blend values."""
        k = max(2, min(int(self.config.top), blend.shape[1]))
        top = -np.partition(-blend, k - 1, axis=1)[:, :k]
        sd = top.std(axis=1, keepdims=True)
        return self.config.temperature * np.where(sd > 1e-12, sd, 1.0)

    def term(self, model: CFModel, u: np.ndarray, blend: np.ndarray) -> np.ndarray:
        """What enjoyment adds to the blend (batch x movies) of member indexes ``u``."""
        out = np.zeros_like(blend)
        if not self.active() or blend.shape[1] == 0 or not self.applies(model):
            return out
        known = (u >= 0) & (member_ratings_count(model, u) >= self.config.min_ratings)
        if known.any():
            out[known] = self.scale(blend[known]) * self.log_like(model, u[known])
        return out

    def applies(self, model: CFModel) -> bool:
        """Whether the term ranks this model's lists: always with a taste prior (its movie
        baselines and factors stand behind every prediction); without one in guilds of
        ``members`` members or more (or with ``without_prior``)."""
        return (model.prior is not None or self.config.without_prior
                or len(model.users) >= self.config.members)


@dataclass(frozen=True)
class Blend:
    """The parts, in blend order, each with its own config, and expected enjoyment on top."""

    enjoy: EnjoyPart
    pick: PickPart
    prior: PriorPart
    popularity: PopularityPart
    enjoyment: ExpectedEnjoyment = ExpectedEnjoyment(EnjoymentConfig(temperature=0.0))
    debias: DebiasPart = DebiasPart()

    @classmethod
    def of(cls, cfg: ModelConfig) -> Blend:
        return cls(EnjoyPart(EnjoyConfig.of(cfg)), PickPart(PickConfig.of(cfg)),
                   PriorPart(PriorConfig.of(cfg)), PopularityPart(PopularityConfig.of(cfg)),
                   ExpectedEnjoyment(EnjoymentConfig.of(cfg)), DebiasPart(DebiasConfig.of(cfg)))

    @property
    def parts(self) -> tuple[Part, ...]:
        return (self.enjoy, self.pick, self.prior, self.popularity, self.debias)

    def raw_parts(self, model: CFModel, u: np.ndarray, seen: Seen = None) -> Parts:
        """name -> (weight, raw scores batch x movies) of each active part for member
        indexes ``u`` (with each row's ``seen`` movies, see the module docstring)."""
        out: Parts = {}
        for part in self.parts:
            weight = part.weight(model, u, seen)
            if part.active(model, weight):
                out[part.name] = (weight, part.raw(model, u, seen))
        return out

    def combine(self, model: CFModel, u: np.ndarray, seen: Seen = None) -> np.ndarray:
        """The blend (batch x movies) of member indexes ``u``: sum of weight * z(scores),
        plus expected enjoyment (``ExpectedEnjoyment.term``)."""
        out = np.zeros((u.size, len(model.movies)))
        for w, S in self.raw_parts(model, u, seen).values():
            out += w * zscore_rows(S)
        return out + self.enjoyment.term(model, u, out)

    def scores(self, model: CFModel, user_ids) -> tuple[np.ndarray, np.ndarray]:
        """(movie ids, blend scores batch x movies) of members by id (unknown: popularity,
        as ``CFModel.rank_scores``)."""
        u = model.users.lookup(np.asarray(user_ids, dtype=np.int64).ravel())
        return model.movies.ids.copy(), model.rank_scores(u, 0)

    def avoid_penalty(self, model: CFModel, u: int, avoid: np.ndarray,
                      seen: np.ndarray | None = None) -> np.ndarray:
        """What "not interested" in the movies ``avoid`` (ids) takes off member index u's
        blend: each counts in the item-item parts (guild and prior) like a rated movie with a
        negative weight, -1, so movies picked by the same people sink with it. Same units as
        the blend (each part's standard deviations)."""
        nm = len(model.movies)
        out = np.zeros(nm)
        a = model.movies.lookup(np.asarray(avoid, dtype=np.int64))
        a = a[a >= 0]
        if a.size == 0:
            return out
        parts = self.raw_parts(model, np.array([u]), None if seen is None else [seen])
        if "pick" in parts:
            w, S = parts["pick"]
            sd = float(S.std())
            if sd > 1e-12:
                pull = np.asarray(model._implicit().W[a].sum(axis=0)).ravel()
                out += (w / sd) * (pull - pull.mean())
        names = [n for n in ("prior", "popularity") if n in parts
                 and (n == "prior" or self.popularity.uses_prior(model))]
        p = np.unique(model._p_row[a][model._p_row[a] >= 0])
        if names and p.size:
            pull = np.zeros(nm)
            pull[model._p_row >= 0] = np.asarray(prior_columns(model)[p].sum(axis=0)).ravel()
            # the popularity part scales the member's neighbour scores to a distribution
            scale = float(neighbour_scale(prior_item_scores(
                model, np.array([u]), None if seen is None else [seen],
                self.popularity.config.seen_weight))[0])
            for name in names:  # the prior part, and the cold popularity part's prior share
                w_row, S = parts[name]
                w = model.part_weight(w_row)
                sd = float(S.std())
                if name == "popularity":
                    w = w * scale
                if sd > 1e-12:
                    out += (w / sd) * (pull - pull.mean())
        return out
