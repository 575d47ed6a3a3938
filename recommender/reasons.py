"""Why a pick is on a member's list: each of their ratings' share of the ranking blend.

The ranking blend (``ModelConfig.blend_*``) of member u for movie i is a sum of z-scored parts,
and every part is linear in the member's ratings, so it splits exactly into one contribution
per rated movie j plus a remainder no rating explains (the movie's own baseline: how popular
and how well rated it is):

- "will pick" (guild): ``S_i = sum_j x_j W[j, i]`` (``x_j`` the liking weight of j,
  ``blend.liking``), so j contributes ``w / sd * x_j * (W[j, i] - mean_i' W[j, i'])``;
- "will pick" (prior): the same with the prior's weights and ``x_j`` its liking weight at
  ``prior_rating_weight`` (``blend.prior_liking``);
- popularity, for members with few ratings and a taste prior (``blend.PopularityPart``): the
  prior's item-item scores of their rated movies (split like the prior part) plus the movie's
  share of the guild's members, which no rating explains;
- "will enjoy": the personal part of the prediction is ``z_i [theta_u, b_u]`` with
  ``[theta_u, b_u] = A^-1 Z^T t`` (``foldin.py``), so j contributes
  ``w / sd * (c_ij - mean_i' c_i'j)`` with ``c_ij = (z_i A^-1 Z^T)_j t_j``, plus the member's
  genre taste (``taste.py``: ``f_i B^-1 F_r^T (I - Z A^-1 Z^T)``, linear in ``t`` too), so a
  pick their genre taste carries names the loved movie of that genre that lifts it most.

Expected enjoyment (``blend.ExpectedEnjoyment``), added on top of the parts, is not split: it
is not linear in the ratings, and it reorders picks without being a reason for any.

Subtracting j's average pull over all movies is what makes a reason specific to this pick: a
blockbuster that pulls every movie up a little is the reason for none of them.

A pick's reason (``pick_reasons``) is the rated movie with the largest contribution among those
the member rated at or above their own average (liking X is a reason; having disliked Y is not
one a member believes). When no such movie contributes at least ``min_weight``, the reason
names what else carried the pick: the blend part with the largest weighted z-score at it
("pick": members who share your taste picked it, "prior": close to your taste in the prior,
"popularity": the server's most-rated movies, the part that carries members with few ratings),
if it is above its average there (by more than ``CARRIER_FLOOR``; else no reason: nothing
carried the pick, which is on the list because better movies were rated or left out). The
rating model's part is two carriers, because only one of them is about the member: "enjoy" is
its personal share (the sum of the rated movies' contributions: your taste through the rating
model's features), "rated" the rest, the movie's own baseline (damped mean and bias: it is
highly rated, whoever you are). A small server's rating model often learns no features at all
(the ridge optimum of a few hundred ratings is zero factors): then every "enjoy" carry is the
baseline's, and saying "members with your taste rate it highly" would be a stock reason, not a
true one.

Every pick also gets its carrier (``Reasons.carrier``), the part with the largest weighted
z-score, even when a rating is named: when one rated movie truly carries more picks than a page
names it for, the page says what else carried the others (``bot.service.shortlist``) instead
of repeating it or naming a smaller contributor.

Seen movies (watched on a linked account, not rated; ``blend.py``) shape the parts but are
never named as a reason: the parts, and so a pick's carrying part, are computed with them; a
member with seen movies only gets the carrying part as every pick's reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from . import foldin, taste
from .blend import neighbour_scale, prior_item_scores, prior_liking
from .implicit import zscore_rows

if TYPE_CHECKING:
    from .model import CFModel

KINDS = ("rating", "pick", "prior", "enjoy", "popularity", "rated")
"""Reason kinds: "rating" names one of the member's ratings; the others name what carried the
pick: a blend part, or for the rating model's part its personal share ("enjoy") or the movie's
own baseline ("rated"). New kinds go at the end (kinds are stored as indexes)."""


CARRIER_FLOOR = 1e-3
"""A part's share of a pick (standard deviations of the blend) at or below this carries
nothing: numerical noise, such as the personal share of a rating model whose features CG left
at ~1e-6 around a zero optimum."""


@dataclass(frozen=True)
class Reasons:
    """One reason per target movie (arrays aligned to the targets)."""

    movie_id: np.ndarray  # int64: the rated movie named, -1 when the reason is a blend part
    rating: np.ndarray  # float64: the member's rating of it, on the model's scale (nan: none)
    weight: np.ndarray  # float64: its contribution, in standard deviations of the blend
    kind: np.ndarray  # int8 index into KINDS
    carrier: np.ndarray  # int8 index into KINDS: the carrying part, even when a rating is named


def contributions(model: CFModel, u: int, targets: np.ndarray, seen: np.ndarray | None = None,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """(rated movie ids, ratings in units, C, parts) for member index ``u``.

    ``C[j, t]``: contribution of rated movie j to the blend of ``targets[t]`` (model movie
    indexes), summed over the blend's parts; ``parts[name][t]``: that part's weighted
    z-score at the target (what carried the pick as a whole), with the rating model's part
    split in two: "enjoy" its personal share (its rated movies' contributions summed) and
    "rated" the rest (the movie's baseline; the member's bias is the same for every movie).
    """
    targets = np.asarray(targets, dtype=np.int64)
    if u >= 0:
        mi, vals = model._rated(u)
        ex_ids, ex_vals = model._extra.get(u, (np.zeros(0, np.int64), np.zeros(0)))
    else:  # seen movies only
        mi, vals = np.zeros(0, np.int64), np.zeros(0)
        ex_ids, ex_vals = np.zeros(0, np.int64), np.zeros(0)
    ids = np.concatenate([model.movies.ids[mi], ex_ids])
    ratings = np.concatenate([vals, ex_vals]).astype(np.float64)
    C = np.zeros((ids.size, targets.size))
    raw = model._blend_parts(np.array([u]), None if seen is None else [seen])
    parts = {name: model.part_weight(w, targets) * zscore_rows(S)[0, targets]
             for name, (w, S) in raw.items()}
    if "enjoy" in parts:  # all baseline until the personal share is known
        parts["rated"] = parts["enjoy"]
        parts["enjoy"] = np.zeros(targets.size)
    if ids.size == 0 or targets.size == 0:
        return ids, ratings, C, parts
    nm = len(model.movies)
    if "pick" in raw and mi.size:
        w, S = raw["pick"]
        sd = float(S.std())
        if sd > 1e-12:
            W = model._implicit().W
            mean_j = np.asarray(W[mi].sum(axis=1)).ravel() / nm
            into = W[mi][:, targets].toarray()
            x = model.blend.pick.liking(vals)
            C[:mi.size] += (w / sd) * x[:, None] * (into - mean_j[:, None])
    prior_parts = [name for name in ("prior", "popularity")
                   if name in raw and (name == "prior" or model.blend.popularity.uses_prior(model))]
    if prior_parts:
        p = np.concatenate([model._p_row[mi], model.prior.lookup(ex_ids)])
        first = np.zeros(p.size, dtype=bool)  # the prior's rated set counts a movie once
        ok = np.flatnonzero(p >= 0)
        _, pos = np.unique(p[ok], return_index=True)
        first[ok[pos]] = True
        x_p = prior_liking(model, ratings)[first][:, None]  # as ``prior_rated_matrix``
        if first.any():
            Wp = model.prior.implicit.W
            cols = model._p_row[model._p_row >= 0]
            rows = p[first]
            mean_j = np.asarray(Wp[rows][:, cols].sum(axis=1)).ravel() / nm
            tp = model._p_row[targets]
            into = np.zeros((rows.size, targets.size))
            linked = tp >= 0
            if linked.any():
                into[:, linked] = Wp[rows][:, tp[linked]].toarray()
            for name in prior_parts:  # the prior part, and the cold popularity part's share
                w_row, S = raw[name]
                w_t = model.part_weight(w_row, targets)[None, :]  # per movie or member
                sd = float(S.std())
                if name == "popularity":  # the member's neighbour scores, a distribution
                    w_t = w_t * neighbour_scale(prior_item_scores(
                        model, np.array([u]), None if seen is None else [seen],
                        model.blend.popularity.config.seen_weight))[0]
                if sd > 1e-12:
                    C[first] += (w_t / sd) * x_p * (into - mean_j[:, None])
    if "enjoy" in raw and (model.X.shape[1] or taste.taste_features(model) is not None):
        w, S = raw["enjoy"]
        sd = float(S.std())
        Xr, t, Fr = taste.design(model, mi, vals, ex_ids, ex_vals, model._extra_taste.get(u))
        if sd > 1e-12 and t.size:
            Z = foldin.design(Xr)
            A = foldin.ridge_matrix(Z, model.config.reg, model.config.reg_bias)
            Zall = foldin.design(model.X)
            zt = Zall[targets]  # (targets, k + 1)
            zmean = Zall.mean(axis=0)
            G = Z @ np.linalg.solve(A, np.vstack([zt, zmean]).T)  # (rated, targets + 1)
            M = taste.weights(model, Z, A, Fr, targets)  # the member's genre/decade taste
            if M is not None:
                G = G + M.T
            c = G * t[:, None]
            C_enjoy = (w / sd) * (c[:, :-1] - c[:, -1:])
            C += C_enjoy
            personal = C_enjoy.sum(axis=0)
            parts["enjoy"] = personal
            parts["rated"] = parts["rated"] - personal
    return ids, ratings, C, parts


SHARE_OF_SUPPORT = 0.05
"""With many ratings no single one carries a pick (a crime fan's 100 ratings each add ~1-3% to
a crime film's lift): when the member's ratings together carry it (their contributions sum to
at least ``min_weight``), the one that contributes most is named if it gives at least this
share of that sum. The console demo's crime fan got "members with your taste rate it highly"
on all ten picks; now Drive is "because you rated Double Indemnity 9/10" (7% of the picks'
own-rating lift: the largest single share, 2.4x the average liked one's)."""

TOGETHER_MIN_LIKED = 6
"""The rule above holds for members with at least this many liked ratings (the six different
reasons a page of ten aims for, ``bot.service.shortlist``): with fewer, each carries a large
share anyway, and naming them for every pick their sum carries makes a page of ten repeat
its few reasons or trade picks for variety (the console's new member with four loved family
films lost two family picks to "varied" ones); such picks keep saying what carried them."""


def _carries_together(best: float, column: np.ndarray, min_weight: float) -> bool:
    """Whether the member's ratings together carry a pick (their contributions ``column``
    sum to ``min_weight`` or more) and the liked one contributing most (``best``) gives at
    least ``SHARE_OF_SUPPORT`` of it."""
    together = float(column.sum())
    return together >= min_weight and best > CARRIER_FLOOR and best >= SHARE_OF_SUPPORT * together


def pick_reasons(model: CFModel, u: int, targets: np.ndarray,
                 min_weight: float = 0.1, seen: np.ndarray | None = None) -> Reasons:
    """The reason for each target movie (model movie indexes) on member ``u``'s list."""
    targets = np.asarray(targets, dtype=np.int64)
    n = targets.size
    out_id = np.full(n, -1, dtype=np.int64)
    out_rating = np.full(n, np.nan)
    out_weight = np.zeros(n)
    out_kind = np.zeros(n, dtype=np.int8)
    out_carrier = np.full(n, KINDS.index("rated"), dtype=np.int8)
    ids, ratings, C, parts = contributions(model, u, targets, seen)
    liked = ratings >= ratings.mean() - 1e-9 if ratings.size else np.zeros(0, dtype=bool)
    many_liked = int(liked.sum()) >= TOGETHER_MIN_LIKED
    part_names = [p for p in KINDS[1:] if p in parts]
    for t in range(n):
        if part_names:
            top = max(part_names, key=lambda p: (float(parts[p][t]), p))
            # a part below its average at the pick did not carry it: then nothing did (the
            # pick is there because better ones were rated or left out): no reason
            out_carrier[t] = KINDS.index(top) if parts[top][t] > CARRIER_FLOOR else 0
        best = -1
        if liked.any():
            c = np.where(liked, C[:, t], -np.inf)
            # strongest first; ties: the higher rating, then the smaller movie id
            order = np.lexsort((ids, -ratings, -c))
            best = int(order[0])
            carried = many_liked and _carries_together(c[best], C[:, t], min_weight)
            if not (c[best] >= min_weight or carried):
                best = -1
        if best >= 0:
            out_id[t] = ids[best]
            out_rating[t] = ratings[best] * model.config.unit
            out_weight[t] = C[best, t]
            continue
        out_kind[t] = out_carrier[t]
        if out_carrier[t] > 0 and KINDS[out_carrier[t]] in parts:
            out_weight[t] = float(parts[KINDS[out_carrier[t]]][t])
    return Reasons(out_id, out_rating, out_weight, out_kind, out_carrier)


def member_reasons(model: CFModel, user_id, movie_ids, min_weight: float = 0.1,
                   seen=()) -> Reasons:
    """Why each movie is on the member's list (``pick_reasons``): a ``Reasons`` aligned to
    ``movie_ids``. An unknown member without ``seen`` movies is ranked by the movies' own
    baseline (``CFModel.popular``): "rated"; a movie the model does not know: no reason."""
    ids = np.asarray(movie_ids, dtype=np.int64).ravel()
    seen_ids = np.unique(np.fromiter((int(s) for s in seen), dtype=np.int64))
    u = model.users.get(user_id)
    i = model.movies.lookup(ids)
    baseline = np.where(i >= 0, KINDS.index("rated"), 0).astype(np.int8)
    out = Reasons(np.full(ids.size, -1, np.int64), np.full(ids.size, np.nan),
                  np.zeros(ids.size), baseline, baseline.copy())
    known = (np.flatnonzero(i >= 0) if u >= 0 or seen_ids.size
             else np.zeros(0, np.int64))
    if known.size:
        got = pick_reasons(model, u, i[known], min_weight,
                           seen_ids if seen_ids.size else None)
        for mine, theirs in zip((out.movie_id, out.rating, out.weight, out.kind, out.carrier),
                                (got.movie_id, got.rating, got.weight, got.kind, got.carrier),
                                strict=True):
            mine[known] = theirs
    return out


def explain_pick(model: CFModel, user_id, movie_id,
                 top: int = 1) -> list[tuple[int, float, float]]:
    """Which of the member's own ratings put ``movie_id`` on their list.

    Returns up to ``top`` tuples ``(rated_movie_id, rating, weight)``, strongest first,
    only movies the member rated at or above their own average rating (liking X is a
    reason; having disliked Y is not one a member believes). ``weight`` is that rated
    movie's positive contribution to the ranking blend for this pick, every part of it
    (item-item, guild and prior, and the rating model), in standard deviations of the
    member's scores (``contributions``). Rated movies the guild model does not know can be
    reasons.
    """
    u, i = model.users.get(user_id), model.movies.get(movie_id)
    if u < 0 or i < 0:
        return []
    ids, ratings, C, _parts = contributions(model, u, np.array([i]))
    if ids.size == 0:
        return []
    c = C[:, 0]
    liked = ratings >= ratings.mean() - 1e-9
    order = np.lexsort((ids, -ratings, -c))
    order = order[liked[order] & (c[order] > 0)][: max(0, int(top))]
    return [(int(ids[j]), float(ratings[j] * model.config.unit), float(c[j])) for j in order]
