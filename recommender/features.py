"""Side features of movies (genre one-hots, year buckets) in a fit: rows aligned to the model's
movies, and the weighted ridge solve that turns them into baselines and factor-space places for
movies with few ratings (``CFModel.fit``)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .index import IdIndex


def align_features(movie_ids: np.ndarray, movie_features) -> np.ndarray | None:
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


def ridge(F: np.ndarray, Y: np.ndarray, weights: np.ndarray, alpha: float) -> np.ndarray:
    """argmin_W sum_i weights_i |Y_i - F_i W|^2 + alpha |W|^2."""
    Fw = F * weights[:, None]
    A = F.T @ Fw + alpha * np.eye(F.shape[1])
    return np.linalg.solve(A, Fw.T @ Y)




def feature_targets(F: np.ndarray | None, mi: np.ndarray, vals: np.ndarray, counts: np.ndarray,
                    global_mean: float, feature_reg: float) -> np.ndarray:
    """Where each movie's damped mean is shrunk to, from its side features: the ridge fit of
    the movies' mean offsets from the global mean (zeros without features or ratings)."""
    nm = counts.size
    target = np.zeros(nm)
    if F is not None and F.shape[1] and vals.size:
        sums = np.bincount(mi, weights=vals - global_mean, minlength=nm)
        raw = np.divide(sums, counts, out=np.zeros(nm), where=counts > 0)
        w = ridge(F, raw, counts, feature_reg)
        target = F @ w
    return target


def place_cold_movies(X: np.ndarray, F: np.ndarray, counts: np.ndarray, share: np.ndarray,
                      reg: float, feature_reg: float) -> np.ndarray:
    """Cold movies get a place in the factor space from their side features: the projection
    F A (A: ridge fit of well-supported movies' factors) weighted like a prior mean,
    reg / (support + reg), times ``share``: each movie's part of its prior place that is the
    side features' (1 for a movie the taste prior does not know, 0 for one that keeps the
    prior's place, 1 - the prior's pull between; a boolean array: the movies linked to the
    prior, share 0)."""
    share = np.asarray(share)
    if share.dtype == bool:
        share = (~share).astype(np.float64)
    well = counts >= 5
    if well.sum() > F.shape[1]:
        A = ridge(F[well], X[well], np.ones(int(well.sum())), feature_reg)
        shrink = (share * reg / (counts + reg))[:, None]
        X = X + shrink * (F @ A)
    return X
