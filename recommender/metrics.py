"""Accuracy (RMSE, MAE) and ranking metrics (precision@k, nDCG@k) for explicit ratings.

Ranking protocol: for every test member with at least one relevant test rating, rank every
movie known to the model that the member did not rate in train; relevant = test rating >=
``threshold`` (80% of the scale maximum: 4 on 1-5 / 0.5-5, 8 on 1-10). Precision@k = hits / k;
nDCG@k uses binary gains and the ideal ordering of min(k, relevant) hits. Both are averaged
over those members. coverage@k is the share of the ranked movies that appear in at least one
of those members' top k. Any scorer works: ``score_batch(user_ids) -> (batch x items)`` over
``item_ids``; unknown members are the scorer's business (cold start).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from .index import IdIndex


def rmse(pred, truth) -> float:
    d = np.asarray(pred, float) - np.asarray(truth, float)
    return float(np.sqrt(np.mean(d * d))) if d.size else float("nan")


def mae(pred, truth) -> float:
    d = np.asarray(pred, float) - np.asarray(truth, float)
    return float(np.mean(np.abs(d))) if d.size else float("nan")


def ranking_metrics(
    item_ids: np.ndarray,
    score_batch: Callable[[np.ndarray], np.ndarray],
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray, np.ndarray],
    threshold: float,
    k: int = 10,
    batch: int = 256,
) -> dict[str, float]:
    items = IdIndex(np.asarray(item_ids), presorted_unique=True)
    t_users, t_items, t_scores = (np.asarray(a) for a in test)
    rel = t_scores >= threshold
    ru, ri = t_users[rel], items.lookup(t_items[rel])
    ok = ri >= 0
    users = np.unique(t_users[rel])
    if users.size == 0:
        return {f"precision_at_{k}": float("nan"), f"ndcg_at_{k}": float("nan"),
                f"coverage_at_{k}": float("nan"), "n_rank_users": 0}
    uidx = IdIndex(users, presorted_unique=True)
    n_items = len(items)
    R = sp.csr_matrix((np.ones(ok.sum(), bool), (uidx.lookup(ru[ok]), ri[ok])),
                      shape=(users.size, n_items))
    n_rel = np.bincount(uidx.lookup(ru), minlength=users.size)  # includes items unseen in train
    tr_u, tr_i = uidx.lookup(train[0]), items.lookup(train[1])
    keep = (tr_u >= 0) & (tr_i >= 0)
    seen = sp.csr_matrix((np.ones(keep.sum(), bool), (tr_u[keep], tr_i[keep])),
                         shape=(users.size, n_items))
    kk = min(k, n_items)
    discounts = 1.0 / np.log2(np.arange(2, kk + 2))
    ideal = np.cumsum(discounts)
    prec, ndcg = [], []
    shown = np.zeros(n_items, dtype=bool)
    for a in range(0, users.size, batch):
        b = min(users.size, a + batch)
        S = np.asarray(score_batch(users[a:b]), dtype=np.float64).copy()
        S[seen[a:b].toarray()] = -np.inf
        top = np.argpartition(-S, kk - 1, axis=1)[:, :kk]
        order = np.argsort(-np.take_along_axis(S, top, axis=1), axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        shown[top[np.isfinite(np.take_along_axis(S, top, axis=1))]] = True
        hits = np.take_along_axis(R[a:b].toarray(), top, axis=1)
        prec.append(hits.sum(axis=1) / k)
        dcg = hits @ discounts
        idcg = ideal[np.minimum(n_rel[a:b], kk) - 1]
        ndcg.append(dcg / idcg)
    return {
        f"precision_at_{k}": float(np.mean(np.concatenate(prec))),
        f"ndcg_at_{k}": float(np.mean(np.concatenate(ndcg))),
        f"coverage_at_{k}": float(shown.mean()) if n_items else float("nan"),
        "n_rank_users": int(users.size),
    }
