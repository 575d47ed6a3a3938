"""The member's own taste in the rating model's predictions: per-member genre offsets.

On a small server the rating model learns almost no taste factors (the ridge optimum of a few
hundred ratings is zero factors, ``tuning.py``), so without a taste prior its predictions are
each movie's baseline plus the member's bias: a member who loved four animated films and
disliked three crime films is predicted to like a crime classic as much as anyone. This layer
puts their taste back, from their first ratings, through the movies' side features (the genre
columns of the rows ``features.align_features`` aligns for the fit, ``ModelConfig.taste_columns``:
not the decade, kept on the model as ``CFModel.taste_features``):

    pred(u, i) = rating model(u, i) + f_i . g_u
    g_u = argmin_g sum_j (r_uj - f_j . g)^2 + taste_reg |g|^2

``r_uj`` is the member's residual on rated movie j (rating minus the rating model's prediction
with their current factors and bias) and ``f_j`` the movie's side features; a small ridge
shrunk toward 0 (``ModelConfig.taste_reg``, chosen on held-out guild simulations: the shown
number is an honest prediction on the member's own scale). The offsets are solved on demand
from the member's ratings (a d x d solve, d = the side features' width), so they follow every
fold-in and are never stored. Ratings on movies the model does not know (rated since the last
fit) count with their genres when the fold-in is given them (``CFModel.member_row``'s
``extra_features``: the service reads them from the catalog), else they inform the member's
bias only (``member_row.py``).

The personal part of a prediction stays linear in the member's fold-in targets ``t``
(``foldin.py``): with ``[theta, b] = A^-1 Z^T t`` the residuals are ``(I - H) t``,
``H = Z A^-1 Z^T``, so the offset at movie i is ``f_i B^-1 F_r^T (I - H) t`` with
``B = F_r^T F_r + taste_reg I``; ``weights`` gives that row per target, which is how reasons
split a pick carried by genre taste into the member's own ratings (``reasons.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from .member_row import extra_design

if TYPE_CHECKING:
    from .model import CFModel


def taste_features(model: CFModel) -> sp.csr_matrix | None:
    """The model's side-feature rows (movies x d, CSR) when the layer is on, else None."""
    F = getattr(model, "taste_features", None)
    reg = float(model.config.taste_reg)
    if F is None or F.shape[1] == 0 or not np.isfinite(reg) or reg <= 0:
        return None
    if F.shape[0] != len(model.movies):
        return None
    return F


def keep_features(F: np.ndarray | None, columns: int) -> sp.csr_matrix | None:
    """What a fit keeps of its aligned side features (``features.align_features``) for the
    layer: the first ``columns`` of them (``ModelConfig.taste_columns``; 0: all) as a float32
    CSR (a few non-zeros a movie), or None without features."""
    if F is None or F.shape[1] == 0:
        return None
    if 0 < columns < F.shape[1]:
        F = F[:, :columns]
    return sp.csr_matrix(np.asarray(F, dtype=np.float32))


def solve(Fr: np.ndarray, resid: np.ndarray, reg: float) -> np.ndarray:
    """argmin_g |resid - Fr g|^2 + reg |g|^2."""
    B = Fr.T @ Fr
    B[np.diag_indices_from(B)] += reg
    return np.linalg.solve(B, Fr.T @ resid)


def design(model: CFModel, mi: np.ndarray, vals: np.ndarray, ex_ids: np.ndarray,
           ex_vals: np.ndarray, ex_rows: np.ndarray | None
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(factor rows, fold-in targets, layer rows) of a member's ratings: model movies ``mi``
    first, then movies the model does not know (``member_row.extra_design``; their layer rows
    ``ex_rows``, zeros when unknown)."""
    rows_x, t_x = extra_design(model, ex_ids, ex_vals)
    F = taste_features(model)
    d = 0 if F is None else F.shape[1]
    Fr = np.zeros((mi.size + ex_ids.size, d))
    if F is not None and mi.size:
        Fr[:mi.size] = F[mi].toarray()
    if ex_rows is not None and ex_rows.shape == (ex_ids.size, d):
        Fr[mi.size:] = ex_rows
    Xr = np.vstack([model.X[mi].astype(np.float64), rows_x])
    t = np.concatenate([model._targets(mi, vals), t_x])
    return Xr, t, Fr


def member_offsets(model: CFModel, Xr: np.ndarray, t: np.ndarray, Fr: np.ndarray,
                   theta: np.ndarray, bias: float) -> np.ndarray:
    """g (d,) of a member with rated rows ``design`` gives and rating-model row
    ``theta``/``bias``: the ridge on their residuals (zeros with no ratings)."""
    if t.size == 0:
        return np.zeros(Fr.shape[1])
    resid = t - bias
    if Xr.shape[1]:
        resid = resid - Xr @ np.asarray(theta, dtype=np.float64)
    return solve(Fr, resid, float(model.config.taste_reg))


def row_offsets(model: CFModel, row) -> np.ndarray | None:
    """g of a ``member_row.MemberRow`` (None with the layer off)."""
    if taste_features(model) is None:
        return None
    Xr, t, Fr = design(model, row.movies, row.ratings, row.extra_ids, row.extra_ratings,
                       row.extra_taste)
    return member_offsets(model, Xr, t, Fr, row.preferences, row.bias)


def offsets(model: CFModel, u: np.ndarray) -> np.ndarray | None:
    """G (batch x d) of member indexes ``u`` (zero rows for -1); None with the layer off."""
    F = taste_features(model)
    if F is None:
        return None
    G = np.zeros((u.size, F.shape[1]))
    empty = (np.zeros(0, np.int64), np.zeros(0))
    for r, x in enumerate(u.tolist()):
        if x >= 0:
            mi, vals = model._rated(x)
            ex_ids, ex_vals = model._extra.get(x, empty)
            Xr, t, Fr = design(model, mi, vals, ex_ids, ex_vals,
                               model._extra_taste.get(x))
            G[r] = member_offsets(model, Xr, t, Fr, model.T[x], float(model.bu[x]))
    return G


def lift(model: CFModel, u: np.ndarray) -> np.ndarray | None:
    """What the layer adds to the prediction of every movie (batch x movies, units) for
    member indexes ``u``; None with the layer off."""
    G = offsets(model, u)
    if G is None:
        return None
    F = taste_features(model)
    assert F is not None
    return np.asarray((F @ G.T).T)


def pair_lift(model: CFModel, u: np.ndarray, i: np.ndarray) -> np.ndarray | None:
    """What the layer adds to each (member index, movie index) pair (-1: nothing)."""
    F = taste_features(model)
    if F is None:
        return None
    out = np.zeros(u.shape, dtype=np.float64)
    both = (u >= 0) & (i >= 0)
    if both.any():
        members, inv = np.unique(u[both], return_inverse=True)
        G = offsets(model, members)
        assert G is not None
        out[both] = np.asarray(F[i[both]].multiply(G[inv.ravel()]).sum(axis=1)).ravel()
    return out


def weights(model: CFModel, Z: np.ndarray, A: np.ndarray, Fr: np.ndarray,
            targets: np.ndarray) -> np.ndarray | None:
    """M (len(targets) + 1, rows of Z): the layer's offset at each target (model movie
    indexes), and at the average movie (last row), as a linear map of the member's fold-in
    targets ``t`` (``foldin.py``; ``Z``/``A`` the ridge design and matrix of their rated rows,
    ``Fr`` those rows' layer rows, ``design``). None with the layer off."""
    F = taste_features(model)
    if F is None:
        return None
    n = Z.shape[0]
    H = Z @ np.linalg.solve(A, Z.T)
    B = Fr.T @ Fr
    B[np.diag_indices_from(B)] += float(model.config.taste_reg)
    P = np.linalg.solve(B, Fr.T @ (np.eye(n) - H))  # g = P t
    rows = np.vstack([F[np.asarray(targets, dtype=np.int64)].toarray(),
                      np.asarray(F.mean(axis=0))])
    return rows @ P
