"""Per-guild memory of a guild model with and without the taste prior (issue 24 item 1).

Counts the bytes of the numpy/scipy arrays one guild's ``CFModel`` holds (after a fit and one
``/recommend``-style ranking, so lazily built caches are counted too) and the size of its saved
blob, for a small guild (default 10 members, 300 ratings), without a prior, with a prior built
from a MovieLens folder (``--data``) and with a synthetic prior of ``--movies`` movies (the
downloadable prior knows ~87k). Arrays that share memory with the process's one ``GuildPrior``
are counted apart ("shared"): they cost nothing per guild. Scaled figure: owned bytes x
``--guilds``.

    python benchmarks/prior_memory.py                       # ml-latest-small prior + 87k synthetic
    python benchmarks/prior_memory.py --movies 87000 --guilds 10000 --no-data
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recommender import CFModel
from recommender.implicit import ItemItem
from recommender.prior import TastePrior, build_prior, load_movielens

DATA = (Path(__file__).resolve().parents[1].parent / "shared/data/ml-latest-small")
if not DATA.exists():  # a worktree under /work/wt
    DATA = Path("/work/shared/data/ml-latest-small")


def arrays_of(obj, seen: set[int] | None = None, out: list | None = None) -> list[np.ndarray]:
    """Every numpy array reachable from ``obj`` (attributes, dicts, lists, sparse matrices)."""
    seen = set() if seen is None else seen
    out = [] if out is None else out
    if id(obj) in seen or obj is None or isinstance(obj, (str, bytes, int, float, bool)):
        return out
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        out.append(obj)
    elif sp.issparse(obj):
        for name in ("data", "indices", "indptr", "row", "col"):
            if hasattr(obj, name):
                arrays_of(getattr(obj, name), seen, out)
    elif isinstance(obj, dict):
        for v in obj.values():
            arrays_of(v, seen, out)
    elif isinstance(obj, (list, tuple, set)):
        for v in obj:
            arrays_of(v, seen, out)
    elif hasattr(obj, "__dict__") and type(obj).__module__.startswith("recommender"):
        for k, v in vars(obj).items():
            if k != "full":  # prior_rows.PriorRows' full arrays: a bounded per-process cache
                arrays_of(v, seen, out)
    return out


def _root(a: np.ndarray) -> np.ndarray:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def model_bytes(model: CFModel, shared_with=None) -> dict[str, int]:
    """Bytes of the distinct buffers the model holds: ``owned`` (its own) and ``shared`` (in
    memory also held by ``shared_with``, e.g. the process's GuildPrior)."""
    prior = vars(model).get("prior")
    arrs = arrays_of({k: v for k, v in vars(model).items() if k != "prior"})
    base = arrays_of(shared_with) if shared_with is not None else []
    base += arrays_of(prior) if prior is not None else []
    roots: dict[int, np.ndarray] = {}
    for a in arrs:
        r = _root(a)
        roots[id(r)] = r
    owned = shared = 0
    for r in roots.values():
        if any(np.shares_memory(r, b) for b in base if b.size and r.size):
            shared += r.nbytes
        else:
            owned += r.nbytes
    return {"owned": owned, "shared": shared}


def synthetic_prior(n: int, k: int = 10, ease_items: int = 4000, topk: int = 50,
                    seed: int = 0) -> TastePrior:
    """A prior of ``n`` movies shaped like ``build_prior``'s (factors, baselines, counts, EASE
    weights and co-counts among the ``ease_items`` most-rated movies, ``topk`` per movie)."""
    rng = np.random.default_rng(seed)
    counts = np.sort(rng.zipf(1.6, n).astype(np.float32))[::-1].copy()
    m = min(ease_items, n)
    rows = np.repeat(np.arange(m), min(topk, m))
    cols = rng.integers(0, m, rows.size)
    W = sp.csr_matrix((rng.normal(0, 0.01, rows.size).astype(np.float32), (rows, cols)),
                      shape=(n, n))
    co = sp.csr_matrix((rng.integers(1, 50, rows.size).astype(np.float32), (rows, cols)),
                       shape=(n, n))
    ii = ItemItem(W, co, counts.astype(np.float64))
    return TastePrior(np.arange(1, n + 1, dtype=np.int64),
                      rng.normal(0, 0.3, (n, k)).astype(np.float32),
                      rng.normal(0, 0.3, n).astype(np.float32), counts, ii, 3.5, (0.5, 5.0),
                      {"synthetic": n})


def small_guild(movie_ids: np.ndarray, members: int, ratings: int, seed: int = 0):
    """``ratings`` ratings by ``members`` members on popular movies (the first 2,000 ids)."""
    rng = np.random.default_rng(seed)
    pool = movie_ids[: min(2000, movie_ids.size)]
    per = max(1, ratings // members)
    users, movies = [], []
    for m in range(members):
        users.append(np.full(per, 10**17 + m))
        movies.append(rng.choice(pool, per, replace=False))
    u, i = np.concatenate(users), np.concatenate(movies)
    return u, i, rng.integers(1, 11, u.size).astype(np.float32)


def measure(prior: TastePrior | None, u, i, s, label: str) -> dict:
    gp = None if prior is None else prior.for_movies(prior.keys, prior.keys)
    model = CFModel()
    model.fit(u, i, s, prior=gp)
    model.recommend(int(u[0]), 10)  # lazily built ranking caches count too
    blob = model.to_bytes()
    loaded = CFModel.from_bytes(blob, prior=gp)
    loaded.recommend(int(u[0]), 10)
    fit_b = model_bytes(model, gp)
    load_b = model_bytes(loaded, gp)
    return {"prior": label, "prior_movies": 0 if prior is None else len(prior),
            "model_movies": len(model.movies), "owned_bytes": fit_b["owned"],
            "shared_bytes": fit_b["shared"], "loaded_owned_bytes": load_b["owned"],
            "blob_bytes": len(blob),
            "prior_arrays_bytes": 0 if gp is None else sum(a.nbytes for a in arrays_of(gp))}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(DATA), help="MovieLens folder for a real prior")
    ap.add_argument("--no-data", action="store_true", help="skip the MovieLens prior")
    ap.add_argument("--movies", type=int, default=87000, help="synthetic prior size (0: none)")
    ap.add_argument("--members", type=int, default=10)
    ap.add_argument("--ratings", type=int, default=300)
    ap.add_argument("--guilds", type=int, default=10000, help="guilds for the scaled figure")
    ap.add_argument("--unlinked", type=int, default=0,
                    help="ratings on movies the prior lacks (a catalog movie MovieLens lacks)")
    a = ap.parse_args(argv)
    priors: list[tuple[str, TastePrior | None]] = [("none", None)]
    if not a.no_data:
        priors.append(("movielens", build_prior(*load_movielens(a.data), max_iterations=40)))
    if a.movies:
        priors.append(("synthetic", synthetic_prior(a.movies)))
    for label, prior in priors:
        ids = (np.arange(1, 2001, dtype=np.int64) if prior is None else
               prior.keys[np.argsort(-prior.counts, kind="stable")])
        u, i, s = small_guild(ids, a.members, a.ratings)
        if a.unlinked:  # the first members rate movies beyond every prior key
            u[: a.unlinked] = u[0]
            i[: a.unlinked] = 10**7 + np.arange(a.unlinked)
        row = measure(prior, u, i, s, label)
        row["per_guild_mb"] = round(row["owned_bytes"] / 1e6, 3)
        row["guilds"], row["unlinked"] = a.guilds, a.unlinked
        row["scaled_gb"] = round(row["owned_bytes"] * a.guilds / 1e9, 2)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
