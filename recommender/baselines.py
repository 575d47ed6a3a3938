"""Top-N baselines ranked on the same split as the bot's model (``evaluate --baselines``).

Each ``fit_*`` takes training (member, movie) pairs and returns ``(item ids, score_batch)`` for
``metrics.ranking_metrics``:

- **MostPop**: the training data's most-rated movies;
- **EASE** (Steck 2019) on the binary "rated" matrix, λ chosen on an inner split of the
  training ratings (10% of each member's ratings held out, best precision@10 over a grid);
- **ItemKNN**: cosine similarity of the binary columns, the ``k`` most similar neighbours of
  each movie kept, a member's score the sum over the movies they rated;
- **implicit ALS** (the ``implicit`` package, when installed): 16 factors, confidence
  ``1 + 10 x rated``.

EASE and ItemKNN solve over the ``max_items`` most-rated movies (others score 0), as the bot's
own item-item model does.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from .implicit import ItemItem, binary_matrix
from .index import IdIndex
from .metrics import ranking_metrics

Scorer = tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]
EASE_GRID = (50.0, 100.0, 200.0, 400.0, 800.0, 1600.0)


def _index(users: np.ndarray, movies: np.ndarray) -> tuple[IdIndex, IdIndex, sp.csr_matrix]:
    ui, u = IdIndex.indexed(np.asarray(users, dtype=np.int64))
    mi, m = IdIndex.indexed(np.asarray(movies, dtype=np.int64))
    return ui, mi, binary_matrix(u, m, len(ui), len(mi))


def _rows(ui: IdIndex, X: sp.csr_matrix, users: np.ndarray) -> sp.csr_matrix:
    """Rated rows of ``users`` (an empty row for members unknown to training)."""
    r = ui.lookup(users)
    out = sp.lil_matrix((r.size, X.shape[1]), dtype=np.float32)
    known = np.flatnonzero(r >= 0)
    if known.size:
        out[known] = X[r[known]]
    return out.tocsr()


def fit_mostpop(users, movies) -> Scorer:
    items, counts = np.unique(np.asarray(movies, dtype=np.int64), return_counts=True)
    pop = counts.astype(np.float64)
    return items, lambda us: np.repeat(pop[None, :], len(us), axis=0)


def fit_ease(users, movies, lam: float, max_items: int = 3000) -> Scorer:
    ui, mi, X = _index(users, movies)
    coo = X.tocoo()
    ii = ItemItem.fit(coo.row, coo.col, len(ui), len(mi), lam=lam, max_items=max_items,
                      topk=max_items, distinct=True)
    return mi.ids, lambda us: ii.scores(_rows(ui, X, np.asarray(us)))


def inner_split(users, movies, scores, holdout: float = 0.1, seed: int = 0):
    """(train, test) triples: ``holdout`` of each member's ratings (at least one, never all)."""
    users = np.asarray(users)
    n = users.size
    _, inv, counts = np.unique(users, return_inverse=True, return_counts=True)
    order = np.lexsort((np.random.default_rng(seed).random(n), inv))
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - starts[inv[order]]
    n_u = counts[inv]
    test = (rank < np.maximum(1, np.round(holdout * n_u))) & (n_u > 1)
    movies, scores = np.asarray(movies), np.asarray(scores)
    return ((users[~test], movies[~test], scores[~test]),
            (users[test], movies[test], scores[test]))


def tune_ease(users, movies, scores, threshold: float, grid=EASE_GRID,
              max_items: int = 3000) -> tuple[float, dict[float, float]]:
    """λ with the best precision@10 on an inner split of the training ratings."""
    (tu, tm, _), test = inner_split(users, movies, scores)
    found: dict[float, float] = {}
    for lam in grid:
        items, score = fit_ease(tu, tm, lam, max_items)
        found[float(lam)] = ranking_metrics(items, score, (tu, tm), test,
                                            threshold)["precision_at_10"]
    best = max(found, key=lambda lam: (found[lam], lam))
    return best, found


def fit_itemknn(users, movies, k: int = 400, max_items: int = 3000) -> Scorer:
    ui, mi, X = _index(users, movies)
    counts = np.asarray(X.sum(axis=0)).ravel()
    sel = np.sort(np.argsort(-counts, kind="stable")[:max_items])
    Xs = X[:, sel].astype(np.float64)
    G = (Xs.T @ Xs).toarray()
    norms = np.sqrt(np.maximum(np.diag(G), 1e-12))
    S = G / norms[:, None] / norms[None, :]
    np.fill_diagonal(S, 0.0)
    kk = min(k, S.shape[0])
    if kk < S.shape[0]:  # keep each column's k largest similarities
        cut = np.partition(S, S.shape[0] - kk, axis=0)[S.shape[0] - kk]
        S[cut[None, :] > S] = 0.0
    # the kept neighbours as a sparse movies x movies matrix (others have none)
    nz = np.nonzero(S)
    W = sp.csr_matrix((S[nz].astype(np.float32), (sel[nz[0]], sel[nz[1]])),
                      shape=(len(mi), len(mi)))
    return mi.ids, lambda us: np.asarray((_rows(ui, X, np.asarray(us)) @ W).toarray(),
                                         dtype=np.float64)


def fit_als(users, movies, factors: int = 16, alpha: float = 10.0, seed: int = 0,
            ) -> Scorer | None:
    """implicit's ALS, or None when the package is not installed."""
    try:
        from implicit.als import AlternatingLeastSquares  # type: ignore[import-not-found]
    except ImportError:
        return None
    ui, mi, X = _index(users, movies)
    model = AlternatingLeastSquares(factors=factors, regularization=0.05, iterations=15,
                                    random_state=seed)
    model.fit((X * alpha).tocsr().astype(np.float32), show_progress=False)
    U = np.asarray(model.user_factors)
    V = np.asarray(model.item_factors)

    def score(us: np.ndarray) -> np.ndarray:
        r = ui.lookup(np.asarray(us))
        out = np.zeros((r.size, V.shape[0]))
        known = r >= 0
        out[known] = U[r[known]] @ V.T
        return out

    return mi.ids, score
