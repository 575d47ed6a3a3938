"""Similar movies of a fitted model: "more like this" with a calibrated similarity
(``CFModel.similar``), shrunk toward the movies' genres where the guild's evidence is thin."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .taste import taste_features

if TYPE_CHECKING:
    from .model import CFModel

_MIN_FEATURE_NORM = 1e-6  # feature vectors shorter than this count as "not learned"
GENRE_SHARE = 0.5
"""The most the movies' genres alone may say (a similarity of 50% for identical genres): what
a pair with few co-raters is shrunk toward, instead of toward nothing."""


def similar_movies(model: CFModel, movie_id, n: int = 10,
                   candidates=None) -> list[tuple[int, float]]:
    """Movies most like ``movie_id``, with a calibrated similarity in [0, 1)
    (``similar_with_evidence`` without the evidence column)."""
    return [(m, sim) for m, sim, _share in similar_with_evidence(model, movie_id, n, candidates)]


def similar_with_evidence(model: CFModel, movie_id, n: int = 10,
                          candidates=None) -> list[tuple[int, float, float]]:
    """Movies most like ``movie_id`` as (movie id, similarity in [0, 1), the ratings' share
    of it: 1 without genres).

    Evidence is the number of members who rated both (guild co-raters, plus the taste
    prior's when given). The ratings' similarity is mean(max(0, feature cosine), co-rating
    cosine), with the co-rating cosine n / sqrt(c_i c_j) over the pooled rating counts (the
    feature cosine is left out when the fit learned no features); it counts with share
    s = n / (n + similar_shrink), and the rest, 1 - s, goes to the movies' genres
    (``GENRE_SHARE`` x the cosine of their genre rows, the model's ``taste_features``; none
    without them, as in a fit given no movie features: the similarity then shrinks toward
    zero). In a small server, whose pairs have a few co-raters, the same genres come first
    rather than whatever two or three members happened to rate together (the console demo's
    "movies like Spirited Away" were Love Actually and The Dark Knight). Only movies with
    min support, at least 2 co-raters and a similarity >= ``similar_min`` are returned: an
    empty list means "not enough ratings yet", never noise.
    """
    model._check()
    cfg = model.config
    i = model.movies.get(movie_id)
    if i < 0:
        return []
    nm = len(model.movies)
    ii = model._implicit()
    n_co = np.zeros(nm)
    col = ii.co[:, [i]].toarray().ravel() if ii.co.nnz else np.zeros(nm)
    row = ii.co[[i], :].toarray().ravel() if ii.co.nnz else np.zeros(nm)
    n_co += np.maximum(col, row)
    counts = model.support_counts.astype(np.float64).copy()
    if model.prior is not None and model._p_row[i] >= 0:
        linked = model._p_row >= 0
        pc = model.prior.implicit.co
        pi = int(model._p_row[i])
        pcol = np.maximum(pc[:, [pi]].toarray().ravel(), pc[[pi], :].toarray().ravel())
        n_co[linked] += pcol[model._p_row[linked]]
        counts[linked] += model.prior.counts[model._p_row[linked]]
    if counts[i] < 2:
        return []
    cos_imp = n_co / np.sqrt(np.maximum(counts * counts[i], 1.0))
    X = model.X.astype(np.float64)
    norms = np.linalg.norm(X, axis=1) if X.shape[1] else np.zeros(nm)
    placed = norms > max(_MIN_FEATURE_NORM, 1e-3 * float(norms.max(initial=0.0)))
    if placed[i]:
        cos_f = np.where(placed, X @ X[i] / (np.where(placed, norms, 1.0) * norms[i]), 0.0)
        sim = 0.5 * (np.maximum(cos_f, 0.0) + cos_imp)
    else:
        sim = cos_imp
    share = n_co / (n_co + cfg.similar_shrink)
    sim = sim * share
    genres = _genre_cosine(model, i)
    if genres is not None:
        sim += (1.0 - share) * GENRE_SHARE * genres
    else:
        share = np.ones(nm)  # no genres: all of what is left is the ratings' (shrunk)
    ok = (model.evidence() >= model.min_support) & (n_co >= 2) & (sim >= cfg.similar_min)
    ok[i] = False
    if candidates is not None:
        cmask = np.zeros_like(ok)
        ci = model.movies.lookup(np.fromiter(candidates, dtype=np.int64))
        cmask[ci[ci >= 0]] = True
        ok &= cmask
    idx = np.flatnonzero(ok)
    idx = idx[np.lexsort((model.movies.ids[idx], -sim[idx]))][: max(0, int(n))]
    return [(int(model.movies.ids[j]), float(sim[j]), float(share[j])) for j in idx]


def _genre_cosine(model: CFModel, i: int) -> np.ndarray | None:
    """Cosine of every movie's genre row with movie index i's (the model's side features,
    ``taste.taste_features``); None without them or when movie i has none."""
    F = taste_features(model)
    if F is None:
        return None
    own = F[i]  # the model's CSR as it is (a few genres a movie): no copy of the matrix
    if own.nnz == 0:
        return None
    norms = np.sqrt(np.asarray(F.power(2).sum(axis=1), dtype=np.float64).ravel())
    dots = np.asarray((F @ own.T).toarray(), dtype=np.float64).ravel()
    return np.divide(dots, norms * float(norms[i]), out=np.zeros_like(dots), where=norms > 0)
