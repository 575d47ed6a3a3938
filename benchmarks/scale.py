"""Fit time and peak memory of CFModel on synthetic low-rank ratings of growing size.

    python benchmarks/scale.py [--sizes 1e4 1e5 1e6 5e6] [--out benchmarks/out] [--seed 0]

Each size runs in a fresh subprocess with BLAS pinned to one thread (env vars set before numpy
is imported). The data: members and movies with long-tail (Zipf-like) activity and popularity,
ratings on 1-5 from a rank-8 model plus noise. Reported per size: fit seconds, optimiser
iterations, the peak of numpy allocations during fit (tracemalloc) and the growth of the
process peak RSS during fit (ru_maxrss). Prints a table and saves scale.png.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def make_ratings(n: int, seed: int):
    import numpy as np

    rng = np.random.default_rng(seed)
    n_users = max(500, n // 100)
    n_movies = max(2000, n // 100)
    user_w = rng.lognormal(0.0, 1.0, n_users)
    movie_w = 1.0 / (np.arange(n_movies) + 10.0) ** 1.0  # long tail: few blockbusters
    movie_w = movie_w[rng.permutation(n_movies)]
    m = int(n * 2)
    users = rng.choice(n_users, size=m, p=user_w / user_w.sum())
    movies = rng.choice(n_movies, size=m, p=movie_w / movie_w.sum())
    _, first = np.unique(users.astype(np.int64) * n_movies + movies, return_index=True)
    keep = np.sort(rng.permutation(first)[:n])
    users, movies = users[keep], movies[keep]
    k = 8
    U = rng.normal(0, 0.35, (n_users, k))
    V = rng.normal(0, 0.35, (n_movies, k))
    bu = rng.normal(0, 0.4, n_users)
    bi = rng.normal(0, 0.5, n_movies)
    raw = 3.5 + bu[users] + bi[movies] + np.einsum("ij,ij->i", U[users], V[movies])
    raw += rng.normal(0, 0.8, raw.size)
    scores = np.clip(np.round(raw), 1, 5).astype(np.float32)
    ids_u = 10**17 + users.astype(np.int64)  # snowflake-like ids
    return ids_u, movies.astype(np.int64), scores


def child(n: int, seed: int) -> None:
    import resource
    import time
    import tracemalloc

    sys.path.insert(0, str(ROOT))
    from recommender import CFModel, ModelConfig

    users, movies, scores = make_ratings(n, seed)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    t0 = time.perf_counter()
    model = CFModel(ModelConfig(scale=(1.0, 5.0), seed=seed))
    report = model.fit(users, movies, scores)
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "n": int(report.n_ratings), "users": report.n_users, "movies": report.n_movies,
        "seconds": seconds, "iterations": report.iterations,
        "traced_peak_mb": peak / 2**20, "rss_growth_mb": (rss1 - rss0) / 1024,
    }))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", nargs="+", type=float, default=[1e4, 1e5, 1e6, 5e6])
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        child(args.child, args.seed)
        return 0
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    rows = []
    header = (f"{'ratings':>10}{'members':>9}{'movies':>8}{'fit s':>8}{'iters':>7}"
              f"{'numpy peak MB':>15}{'RSS growth MB':>15}{'bytes/rating':>14}")
    print(header)
    for size in args.sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(int(size)), "--seed", str(args.seed)],
            env=env, capture_output=True, text=True, check=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(r)
        print(f"{r['n']:>10}{r['users']:>9}{r['movies']:>8}{r['seconds']:>8.2f}"
              f"{r['iterations']:>7}{r['traced_peak_mb']:>15.1f}{r['rss_growth_mb']:>15.1f}"
              f"{r['traced_peak_mb'] * 2**20 / r['n']:>14.0f}", flush=True)
    plot(rows, args.out)
    return 0


def plot(rows, out: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot")
        return
    out.mkdir(parents=True, exist_ok=True)
    n = [r["n"] for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    a.loglog(n, [r["seconds"] for r in rows], "o-")
    a.set(xlabel="ratings", ylabel="fit seconds (1 BLAS thread)", title="fit time")
    b.loglog(n, [r["traced_peak_mb"] for r in rows], "o-", label="numpy peak (tracemalloc)")
    b.loglog(n, [max(r["rss_growth_mb"], 1e-3) for r in rows], "s--", label="RSS growth")
    b.set(xlabel="ratings", ylabel="MB", title="peak memory during fit")
    b.legend()
    for ax in (a, b):
        ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    path = out / "scale.png"
    fig.savefig(path, dpi=100)
    print(f"plot: {path}")


if __name__ == "__main__":
    sys.exit(main())
