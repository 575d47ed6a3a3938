"""Per-movie mean normalisation: the tutorial's dense form and the sparse, shrunk (damped) form.

The tutorial subtracts each movie's mean over the members who rated it and trains on the
residuals. With ``damping`` d > 0 the mean is pulled towards the global mean,
``(sum + d * global) / (count + d)``, so a movie with a single 10/10 does not get 10 as its mean.
"""

from __future__ import annotations

import numpy as np


def normalise_dense(ratings: np.ndarray, did_rate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tutorial normalisation of a movies x members matrix.

    Returns ``(ratings_mean, ratings_norm)``: the mean of each movie over rated entries only
    (0 for a movie nobody rated) and the rated entries minus that mean (0 elsewhere).
    """
    ratings = np.asarray(ratings, dtype=np.float64)
    mask = np.asarray(did_rate).astype(bool)
    counts = mask.sum(axis=1)
    sums = np.where(mask, ratings, 0.0).sum(axis=1)
    means = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
    norm = np.where(mask, ratings - means[:, None], 0.0)
    return means, norm


def shrunk_means(
    index: np.ndarray, values: np.ndarray, size: int, prior: float, damping: float
) -> tuple[np.ndarray, np.ndarray]:
    """Damped mean of ``values`` grouped by ``index`` (0..size-1); returns (means, counts)."""
    counts = np.bincount(index, minlength=size).astype(np.float64)
    sums = np.bincount(index, weights=values, minlength=size)
    denom = counts + damping
    means = np.divide(sums + damping * prior, denom, out=np.full(size, float(prior)),
                      where=denom > 0)
    return means, counts.astype(np.int64)
