"""The taste map's space: the model's movie vectors (``CFModel.embeddings()``) projected on
their first two principal axes (``project``), members placed on the same axes, and stand-in
vectors from the ratings themselves when the model's are not informative (a small guild's
model may be regularised to ~0). Pure numpy/scipy; ``PictureService.taste_map`` draws it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import svds

DENSE_SVD_CELLS = 4_000_000  # movies x members up to which the stand-in SVD is dense


@dataclass(frozen=True)
class Projection:
    """Movies' coordinates on the first two principal axes of their factors."""

    coords: np.ndarray  # (n, 2)
    axes: np.ndarray  # (k, 2): the principal directions
    mean: np.ndarray  # (k,)
    explained: tuple[float, float]  # share of the variance along each axis

    def direction(self, preferences: np.ndarray) -> np.ndarray:
        """Members' preference vectors (m, k) on the same axes: a member lies toward the
        movies whose factors point their way (prediction = factors . preferences)."""
        return np.asarray(preferences, dtype=np.float64) @ self.axes


def project(factors: np.ndarray) -> Projection:
    """PCA of the movie factors (rows = movies); signs fixed so the largest loading of each
    axis is positive (the same model always gives the same picture)."""
    X = np.asarray(factors, dtype=np.float64)
    k = X.shape[1] if X.ndim == 2 else 0
    mean = X.mean(axis=0) if len(X) else np.zeros(k)
    centred = X - mean
    if len(X) < 2 or k == 0:
        axes = np.eye(max(k, 2))[:k, :2]
        return Projection(centred @ axes, axes, mean, (0.0, 0.0))
    _u, s, vt = np.linalg.svd(centred, full_matrices=False)
    axes = np.transpose(vt[:2])
    if axes.shape[1] < 2:  # one feature: a flat second axis
        axes = np.hstack([axes, np.zeros((k, 1))])
    signs = np.sign(axes[np.abs(axes).argmax(axis=0), range(2)])
    axes = axes * np.where(signs == 0, 1.0, signs)
    var = s**2
    total = float(var.sum()) or 1.0
    explained = (float(var[0] / total), float(var[1] / total) if len(var) > 1 else 0.0)
    return Projection(centred @ axes, axes, mean, explained)


def member_scale(projection: Projection, preference_vectors: np.ndarray) -> float:
    """One factor for every member's projected preferences: their median distance from the
    centre becomes the movies' median distance (both clouds share the picture)."""
    members = (np.linalg.norm(projection.direction(preference_vectors), axis=1)
               if len(preference_vectors) else np.zeros(0))
    movies = np.linalg.norm(projection.coords, axis=1)
    spread_members = float(np.median(members)) if members.size else 0.0
    spread_movies = float(np.median(movies)) if movies.size else 0.0
    return spread_movies / spread_members if spread_members > 1e-12 else 1.0


def taste_centre(coords: np.ndarray, rows: Sequence[int] | np.ndarray,
                 scores: Sequence[float] | np.ndarray) -> np.ndarray | None:
    """Where a member's taste lies on the map: the middle of the movies they rated at or
    above their own average, each weighted by 1 + how far above it (None without ratings).
    Their picks come from the movies they like, so this is where their picks are too (the
    preference vector's direction alone is one view of the rating model only)."""
    rows = np.asarray(rows, dtype=np.int64)
    values = np.asarray(scores, dtype=np.float64)
    if rows.size == 0 or rows.size != values.size:
        return None
    liked = values >= values.mean() - 1e-9
    weights = 1.0 + (values[liked] - values.mean())
    points = np.asarray(coords, dtype=np.float64)[rows[liked]]
    return np.asarray((points * weights[:, None]).sum(axis=0) / weights.sum())


def informative(factors: np.ndarray) -> bool:
    """Whether learned factors spread the movies at all: a small guild's model may be so
    regularised that every movie's factors are ~0 (its picks then come from biases and the
    item-item model), and a map of them would be one dot."""
    X = np.asarray(factors, dtype=np.float64)
    if X.ndim != 2 or len(X) < 3:
        return False
    return float(np.sqrt(((X - X.mean(axis=0)) ** 2).sum(axis=1).mean())) > 1e-3


def ratings_factors(movie_ids: np.ndarray, user_ids: np.ndarray, r_movies: np.ndarray,
                    r_users: np.ndarray, r_scores: np.ndarray,
                    k: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Stand-in factors when the model's are not `informative`: the truncated SVD of the
    guild's ratings, each minus its movie's mean (movies rated alike by the same members end
    up close). Rows follow `movie_ids` and `user_ids` (zeros where a movie or member has no
    rating); movies get V·sqrt(S), members U·sqrt(S), like a factorisation's two sides."""
    movie_ids = np.asarray(movie_ids, dtype=np.int64)
    user_ids = np.asarray(user_ids, dtype=np.int64)
    mi = _positions(movie_ids, r_movies)
    ui = _positions(user_ids, r_users)
    keep = (mi >= 0) & (ui >= 0)
    mi, ui = mi[keep], ui[keep]
    values = np.asarray(r_scores, dtype=np.float64)[keep]
    n_m, n_u = len(movie_ids), len(user_ids)
    sums = np.bincount(mi, weights=values, minlength=n_m)
    counts = np.bincount(mi, minlength=n_m)
    means = np.divide(sums, counts, out=np.zeros(n_m), where=counts > 0)
    rank = max(1, min(k, n_m, n_u))
    if n_m * n_u <= DENSE_SVD_CELLS:
        residual = np.zeros((n_m, n_u))
        residual[mi, ui] = values - means[mi]
        u, s, vt = np.linalg.svd(residual, full_matrices=False)
    else:  # big and sparse: the top singular triplets only
        rank = max(1, min(rank, min(n_m, n_u) - 1))
        sparse = sp.csr_matrix((values - means[mi], (mi, ui)), shape=(n_m, n_u))
        u, s, vt = svds(sparse, k=rank, random_state=0)
        order = np.argsort(-s)
        u, s, vt = u[:, order], s[order], vt[order]
    root = np.sqrt(s[:rank])
    return u[:, :rank] * root, np.transpose(vt[:rank]) * root


def _positions(ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Index of each of `wanted` in `ids` (-1 where absent)."""
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    wanted = np.asarray(wanted, dtype=np.int64)
    if not len(ids):
        return np.full(len(wanted), -1, dtype=np.int64)
    pos = np.minimum(np.searchsorted(sorted_ids, wanted), len(ids) - 1)
    return np.where(sorted_ids[pos] == wanted, order[pos], -1)
