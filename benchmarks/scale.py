"""Fit time and peak memory at fit time on synthetic low-rank ratings of growing size.

    python benchmarks/scale.py [--sizes 1e4 1e5 1e6 5e6] [--out benchmarks/out] [--seed 0]
    python benchmarks/scale.py --plain             # CFModel.fit alone (no tuning, no features)
    python benchmarks/scale.py --breakdown 1e6     # where the peak memory goes, per line

Each size runs in a fresh subprocess with BLAS pinned to one thread (env vars set before numpy
is imported), so "fit s" is one core; the fit is timed untraced, then run again under
tracemalloc for its memory (tracing slows every allocation by itself). The data: members
and movies with long-tail (Zipf-like) activity and popularity, ratings from a rank-8 model plus
noise, on the bot's 1-10 scale; member ids are random snowflake-sized integers, and the
ratings come in the order the refit worker reads them (both stores select a guild's ratings by
member id, then movie id: before 8 December they were shuffled, which timed a 4.3 s sort of
member ids at 2x10^7 that the worker never does).

By default the fit is the bot's fit path, `recommender.tuning.fit_guild` with the bot's default
settings (`RecommenderSettings`: 10 features, reg 15, 20 iterations), hold-out tuning of reg
for guilds up to `auto_regularization_max_ratings` (250,000) as the refit worker does, and the
movies' genre/decade features (`bot.service.features.movie_features`, synthetic genres and
years). No warm start, no taste prior. (The bot itself caps a guild at
`recommender.max_guild_ratings` = 2,000,000 ratings by default; the 5x10^6 row is the fit
path's own scaling.)

Reported per size: fit seconds (wall) and CPU seconds of the fit (`time.process_time`: what
one core spent, whatever else the machine runs), optimiser iterations, the peak of
Python/numpy allocations during the fit (tracemalloc: the memory at fit time), **bytes per
rating** (that peak / ratings) and the growth of the process peak RSS (ru_maxrss); then,
untraced, the refit the worker runs most for a guild that size: +1% ratings, warm-started
from the model just fitted ("warm refit s"). Targets (issue 11): <= 80 bytes per rating
and a 5x10^6-rating fit under 15 s on one core. `--breakdown N` reruns one size with a profile
hook that snapshots tracemalloc whenever the traced memory reaches a new high (at Python and C
call boundaries) and prints the live allocations of the highest snapshot grouped by the line
of `recommender/` (or `bot/`) that made them: the per-array breakdown of the peak.
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
    scores = np.clip(np.round(raw), 1, 5).astype(np.float32) * 2.0  # the bot's 1-10 scale
    # snowflake-like member ids: random 60-bit values (no dense range to exploit)
    snowflakes = np.unique(rng.integers(10**17, 10**18, size=2 * n_users, dtype=np.int64))
    ids_u = rng.permutation(snowflakes)[:n_users][users]
    movies = movies.astype(np.int64) + 1
    # in the order the refit worker reads them: both stores select a guild's ratings ordered
    # by member id, then movie id (their primary key)
    order = np.lexsort((movies, ids_u))
    return ids_u[order], movies[order], scores[order]


def synthetic_features(movie_ids):
    """The refit worker's movie features for synthetic movies (genres by id, decades)."""
    from bot.domain.models import Movie
    from bot.service.features import movie_features

    genres = ("Drama", "Comedy", "Action", "Thriller", "Romance", "Sci-Fi", "Horror")
    return movie_features(Movie(int(m), f"m{m}", 1950 + int(m) % 70,
                                (genres[int(m) % 7], genres[int(m) // 7 % 7]))
                          for m in movie_ids)


def fitter(n: int, plain: bool, seed: int, time_budget: float | None = None):
    """A function (users, movies, scores, warm_start=None) -> (model, report): the bot's fit
    path, or plain. ``time_budget``: seconds before a fit stops unconverged (default: the
    model's, 30 s)."""
    from dataclasses import replace

    from bot.config import RecommenderSettings
    from recommender import CFModel, ModelConfig
    from recommender.index import distinct_ids
    from recommender.tuning import fit_guild

    rec = RecommenderSettings()
    config = ModelConfig(features=rec.features, reg=rec.regularization,
                         maxiter=rec.max_iterations, scale=(1.0, 10.0), seed=seed)
    if time_budget is not None:
        config = replace(config, time_budget=time_budget)

    def fit(users, movies, scores, warm_start=None):
        if plain:
            model = CFModel(config)
            return model, model.fit(users, movies, scores, warm_start=warm_start)
        features = synthetic_features(distinct_ids(movies))
        return fit_guild(users, movies, scores, config, warm_start=warm_start,
                         tune_reg=n <= rec.auto_regularization_max_ratings,
                         movie_features=features)

    return fit


def child(n: int, seed: int, plain: bool, time_budget: float | None = None,
          no_warm: bool = False, no_trace: bool = False) -> None:
    import resource
    import time
    import tracemalloc

    sys.path.insert(0, str(ROOT))
    users, movies, scores = make_ratings(n, seed)
    fit = fitter(n, plain, seed, time_budget)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0, c0 = time.perf_counter(), time.process_time()
    _model, report = fit(users, movies, scores)  # timed untraced: tracing slows allocations
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak = float("nan")
    if not no_trace:
        del _model
        tracemalloc.start()
        _model, _ = fit(users, movies, scores)  # the same fit again, for its memory
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    # the refit the worker runs most for a guild this size: +1% ratings, warm from the last
    # model (the worker keeps it), reg choice reused
    import numpy as np

    warm_seconds, warm_iterations = float("nan"), 0
    if not no_warm:
        rng = np.random.default_rng(seed + 1)
        extra = max(1, n // 100)
        pick = rng.integers(0, users.size, extra)
        users2 = np.concatenate([users, users[pick]])
        movies2 = np.concatenate([movies, rng.permutation(movies)[:extra]])
        scores2 = np.concatenate([scores, scores[rng.permutation(scores.size)[:extra]]])
        t1 = time.perf_counter()
        _, warm_report = fit(users2, movies2, scores2, warm_start=_model)
        warm_seconds, warm_iterations = time.perf_counter() - t1, warm_report.iterations
    print(json.dumps({
        "warm_seconds": warm_seconds, "warm_iterations": warm_iterations,
        "n": int(report.n_ratings), "users": report.n_users, "movies": report.n_movies,
        "seconds": seconds, "cpu_seconds": cpu_seconds, "iterations": report.iterations,
        "stop": report.stop, "load": os.getloadavg()[0],
        "traced_peak_mb": peak / 2**20, "rss_growth_mb": (rss1 - rss0) / 1024,
        "input_mb": (users.nbytes + movies.nbytes + scores.nbytes) / 2**20,
    }))


def breakdown(n: int, seed: int, plain: bool, top: int = 18) -> None:
    """Where the peak goes: snapshot at each new high of traced memory, group the highest
    snapshot's live blocks by the innermost project line that allocated them."""
    import linecache
    import time
    import tracemalloc

    sys.path.insert(0, str(ROOT))
    users, movies, scores = make_ratings(n, seed)
    fit = fitter(n, plain, seed)
    tracemalloc.start(40)
    state = {"high": 0, "snap": None, "at": ""}

    def hook(frame, event, arg):
        current = tracemalloc.get_traced_memory()[0]
        if current > state["high"] * 1.02 + 2**20:
            state["high"] = current
            state["snap"] = tracemalloc.take_snapshot()
            state["at"] = f"{frame.f_code.co_filename.split(str(ROOT) + '/')[-1]}:" \
                          f"{frame.f_lineno} {frame.f_code.co_name} ({event})"

    t0 = time.perf_counter()
    sys.setprofile(hook)
    try:
        fit(users, movies, scores)
    finally:
        sys.setprofile(None)
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    snap = state["snap"]
    total = sum(st.size for st in snap.statistics("filename"))
    print(f"{n:,} ratings ({'plain CFModel.fit' if plain else 'fit_guild'}; {seconds:.1f} s "
          f"with the profile hook): traced peak {peak / 2**20:.1f} MB = {peak / n:.0f} "
          f"bytes/rating; the highest snapshot holds {total / 2**20:.1f} MB "
          f"({total / n:.0f} bytes/rating), taken at {state['at']}")
    groups: dict[str, int] = {}
    for stat in snap.statistics("traceback"):
        where = "(outside the project)"
        for fr in reversed(stat.traceback):  # innermost first
            name = fr.filename
            if "/recommender/" in name or "/bot/" in name:
                short = name.split(str(ROOT) + "/")[-1]
                text = linecache.getline(name, fr.lineno).strip()
                where = f"{short}:{fr.lineno}  {text[:70]}"
                break
        groups[where] = groups.get(where, 0) + stat.size
    print(f"{'MB':>8}{'B/rating':>10}  allocated at (innermost project line)")
    for where, size in sorted(groups.items(), key=lambda kv: -kv[1])[:top]:
        print(f"{size / 2**20:>8.1f}{size / n:>10.1f}  {where}")
    print(f"(the input columns: {(users.nbytes + movies.nbytes + scores.nbytes) / n:.0f} "
          f"bytes/rating, allocated before tracing: not counted)")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", nargs="+", type=float, default=[1e4, 1e5, 1e6, 5e6])
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--plain", action="store_true",
                   help="time CFModel.fit alone instead of the bot's fit path")
    p.add_argument("--breakdown", type=float, metavar="RATINGS",
                   help="only print where the peak memory goes for this size")
    p.add_argument("--time-budget", type=float, metavar="SECONDS",
                   help="a fit's time budget (default: the model's, 30 s; the 2x10^7 target "
                        "is a converged fit: e.g. 600)")
    p.add_argument("--no-warm", action="store_true",
                   help="skip the warm refit after +1%% (halves a big run)")
    p.add_argument("--no-trace", action="store_true",
                   help="skip the traced re-run (no bytes/rating; halves a big run)")
    p.add_argument("--child", type=int, help=argparse.SUPPRESS)
    p.add_argument("--child-breakdown", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        child(args.child, args.seed, args.plain, args.time_budget, args.no_warm,
              args.no_trace)
        return 0
    if args.child_breakdown:
        breakdown(args.child_breakdown, args.seed, args.plain)
        return 0
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    flags = (["--seed", str(args.seed)] + (["--plain"] if args.plain else [])
             + (["--time-budget", str(args.time_budget)] if args.time_budget else [])
             + (["--no-warm"] if args.no_warm else [])
             + (["--no-trace"] if args.no_trace else []))
    if args.breakdown:
        return subprocess.run([sys.executable, __file__, "--child-breakdown",
                               str(int(args.breakdown)), *flags], env=env).returncode
    rows = []
    print(f"fit path: {'CFModel.fit (plain)' if args.plain else 'recommender.tuning.fit_guild'}"
          f", one BLAS thread, each size in a fresh process")
    header = (f"{'ratings':>10}{'members':>9}{'movies':>8}{'fit s':>8}{'CPU s':>8}{'iters':>7}"
              f"{'stop':>7}{'traced peak MB':>16}{'bytes/rating':>14}{'RSS growth MB':>15}"
              f"{'warm refit s':>14}{'iters':>7}{'load':>6}")
    print(header)
    for size in args.sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(int(size)), *flags],
            env=env, capture_output=True, text=True, check=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(r)
        print(f"{r['n']:>10}{r['users']:>9}{r['movies']:>8}{r['seconds']:>8.2f}"
              f"{r['cpu_seconds']:>8.2f}{r['iterations']:>7}{r['stop']:>7}"
              f"{r['traced_peak_mb']:>16.1f}"
              f"{r['traced_peak_mb'] * 2**20 / r['n']:>14.0f}{r['rss_growth_mb']:>15.1f}"
              f"{r['warm_seconds']:>14.2f}{r['warm_iterations']:>7}{r['load']:>6.1f}",
              flush=True)
    for r in rows:
        if r["n"] >= 10_000_000:  # issue 24 item 5
            per = r["traced_peak_mb"] * 2**20 / r["n"]
            converged = r["stop"] in ("tol", "gtol")
            print(f"{r['n']:,} ratings: {r['cpu_seconds']:.1f} s CPU, stop {r['stop']} "
                  f"(target < 60 s on one core, converged: "
                  f"{'met' if r['cpu_seconds'] < 60 and converged else 'missed'}); "
                  f"{per:.0f} bytes/rating (target <= 60: {'met' if per <= 60 else 'missed'})")
        elif r["n"] >= 4_000_000:
            print(f"{r['n']:,} ratings: {r['seconds']:.1f} s (target < 15 s: "
                  f"{'met' if r['seconds'] < 15 else 'missed'}); "
                  f"{r['traced_peak_mb'] * 2**20 / r['n']:.0f} bytes/rating (target <= 80: "
                  f"{'met' if r['traced_peak_mb'] * 2**20 / r['n'] <= 80 else 'missed'})")
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
