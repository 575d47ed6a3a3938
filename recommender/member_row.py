"""Fold-in as a value: a member's row (preferences, bias and rated lists) solved from their
current ratings without touching the model (``member_row``), and written into it apart
(``apply_row``, what ``CFModel.fold_in`` does).

The solve is ``foldin.solve_member`` with the movies' factors fixed. Ratings on movies the model
does not know count too: with a taste prior, linked movies enter with the prior's factors and
baseline; otherwise they inform the member's bias (rating minus the guild mean).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from . import foldin
from .features import align_features

if TYPE_CHECKING:
    from .model import CFModel


@dataclass(frozen=True)
class MemberRow:
    """One member's row of a model, solved from their complete current ratings."""

    user_id: int
    movies: np.ndarray  # model movie indexes of the rated movies the model knows
    ratings: np.ndarray  # their ratings, rating units
    extra_ids: np.ndarray  # catalog ids of rated movies the model does not know
    extra_ratings: np.ndarray  # their ratings, rating units
    preferences: np.ndarray  # theta: (k,)
    bias: float
    extra_taste: np.ndarray | None = None  # the taste layer's rows of the extra movies


def extra_design(model: CFModel, ids: np.ndarray,
                 vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(feature rows, targets) of ratings on movies the model does not know: the prior's
    factors and baseline when linked, else a zero row (bias only)."""
    k = model.X.shape[1]
    rows = np.zeros((ids.size, k))
    base = np.full(ids.size, model.global_mean)
    if model.prior is not None and ids.size:
        p = model.prior.lookup(ids)
        hit = p >= 0
        if k == model.prior.features:
            rows[hit] = model.prior.factors[p[hit]]
        base[hit] += model.prior.offsets[p[hit]]
    return rows, vals - base


def extra_rows(model: CFModel, ids: np.ndarray, movie_features) -> np.ndarray | None:
    """The taste layer's rows (len(ids) x d, ``taste.py``) of movies the model does not
    know, from side features ``(movie ids, matrix)`` laid out like the fit's
    (``features.align_features``; zeros where missing); None with the layer off or no
    features given."""
    d = model.taste_width()
    if d == 0 or movie_features is None or ids.size == 0:
        return None
    rows = align_features(np.asarray(ids, dtype=np.int64), movie_features)
    return None if rows is None or rows.shape[1] < d else rows[:, :d]


def member_row(model: CFModel, user_id, movie_ids, scores,
               extra_features=None) -> MemberRow:
    """The member's row for ratings ``movie_ids``/``scores`` (their complete current ratings;
    the last of duplicates wins), the model unchanged. ``extra_features``: side features
    ``(movie ids, matrix)`` of rated movies the model does not know, laid out like the fit's
    (their genres count in the member's taste, ``taste.py``)."""
    cfg = model.config
    ids = np.asarray(movie_ids, dtype=np.int64).ravel()
    vals = np.clip(np.asarray(scores, dtype=np.float64).ravel(), *cfg.scale) / cfg.unit
    if ids.size:
        _, last = np.unique(ids[::-1], return_index=True)
        keep = np.sort(ids.size - 1 - last)
        ids, vals = ids[keep], vals[keep]
    mi_all = model.movies.lookup(ids)
    ok = mi_all >= 0
    mi, kvals = mi_all[ok], vals[ok]
    ex_ids, ex_vals = ids[~ok], vals[~ok]
    rows_x, t_x = extra_design(model, ex_ids, ex_vals)
    Xr = np.vstack([model.X[mi].astype(np.float64), rows_x])
    t = np.concatenate([model._targets(mi, kvals), t_x])
    if t.size == 0:
        theta, b = np.zeros(model.X.shape[1]), 0.0
    else:
        theta, b = foldin.solve_member(Xr, t, cfg.reg, cfg.reg_bias)
    return MemberRow(int(user_id), mi, kvals, ex_ids, ex_vals, np.asarray(theta), float(b),
                     extra_rows(model, ex_ids, extra_features))


def apply_row(model: CFModel, row: MemberRow) -> None:
    """Write ``row`` into the model: a new member gets a row, a known member's is replaced;
    the movies' support counts follow the member's rated set."""
    mi = row.movies
    u = model.users.get(row.user_id)
    if u < 0:
        u = model.users.append(row.user_id)
        model.T = np.vstack([model.T, np.zeros((1, model.T.shape[1]), model.T.dtype)])
        model.bu = np.append(model.bu, model.bu.dtype.type(0))
        model._r_ptr = np.append(model._r_ptr, model._r_ptr[-1])
        np.add.at(model.support_counts, mi, 1)
    elif model._lists_known or u in model._overrides:
        np.subtract.at(model.support_counts, model._rated(u)[0], 1)
        np.add.at(model.support_counts, mi, 1)
    # else: a model loaded without rating lists already counts this member's (saved)
    # ratings in support_counts; they stay until the next fit rather than count twice.
    model._overrides[u] = (mi, row.ratings)
    model._extra[u] = (row.extra_ids, row.extra_ratings)
    if row.extra_taste is not None:
        model._extra_taste[u] = row.extra_taste
    else:
        model._extra_taste.pop(u, None)
    model.T[u] = row.preferences
    model.bu[u] = row.bias
