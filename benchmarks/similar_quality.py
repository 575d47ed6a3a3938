"""Is "/similar" right? Its lists scored by people outside the server (held out).

    python benchmarks/similar_quality.py [--data DIR] [--sizes 10 30 100 200] [--draws 3]
                                         [--seed 1]

Guilds are drawn from ml-latest-small as in ``guilds.py`` (``sample_guild``: 10-100 ratings a
member, 80% of them the guild's) and fitted by the bot's fit path (``tuning.fit_guild``, the
worker's genre/decade features of the movies rated in the guild). For every movie with at least
``--min-raters`` raters in the guild, its ten most similar movies (``CFModel.similar``) are
scored by the users NOT in the guild: for a pair (i, j), among outsiders who rated i at 4+ of 5
stars and rated j, the share who rated j 4+ ("liked j too"), and that share over j's overall
4+ share among outsiders who rated j ("lift": above 1 when liking i says something about j).
Means over the lists' pairs with at least ``--min-outsiders`` such outsiders; "scored" is the
share of listed pairs that had enough of them.

Columns, side by side on the same guilds and fits: ``genres + ratings`` (the bot: a pair's
similarity from few co-raters shrinks toward the two movies' genre cosine,
``recommender.similar.GENRE_SHARE``), ``ratings only`` (``GENRE_SHARE`` 0: shrunk toward
nothing, as before 2026-12-07), and ``same genres`` (the movies with the highest genre cosine
among the same candidates, ties by guild ratings): what genres alone give.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from guilds import DEFAULT_DATA, SCALE, sample_guild

import recommender.similar as similar
from recommender import ModelConfig
from recommender.data import load_ratings
from recommender.evaluate import evaluated_features
from recommender.tuning import fit_guild

LIKED = 4.0  # of 5 stars


def outsider_tables(users, movies, scores, members):
    """Per movie, the outsiders who rated it and who liked it (sets of user ids)."""
    out = ~np.isin(users, members)
    rated: dict[int, set[int]] = {}
    liked: dict[int, set[int]] = {}
    for u, m, s in zip(users[out].tolist(), movies[out].tolist(), scores[out].tolist(),
                       strict=True):
        rated.setdefault(m, set()).add(u)
        if s >= LIKED:
            liked.setdefault(m, set()).add(u)
    return rated, liked


def pair_score(i: int, j: int, rated, liked, min_outsiders: int) -> tuple[float, float] | None:
    """(share of i's outside fans who rated j and liked it, that share / j's base rate)."""
    fans = liked.get(i, set()) & rated.get(j, set())
    if len(fans) < min_outsiders:
        return None
    both = len(fans & liked.get(j, set()))
    base = len(liked.get(j, set())) / max(1, len(rated.get(j, set())))
    share = both / len(fans)
    return share, (share / base if base > 0 else float("nan"))


def genre_list(model, movie_id: int, n: int) -> list[int]:
    """The same candidates as ``similar`` (co-rated at least twice, min support) ranked by
    genre cosine alone, ties by guild ratings."""
    full = model.similar(movie_id, n=len(model.movies))
    if not full:
        return []
    i = model.movies.get(movie_id)
    cos = similar._genre_cosine(model, i)
    if cos is None:
        return []
    ids = np.array([m for m, _ in full])
    idx = model.movies.lookup(ids)
    order = np.lexsort((-model.support_counts[idx], -cos[idx]))
    return [int(m) for m in ids[order][:n]]


def run(args) -> None:
    data = load_ratings(args.data / "ratings.csv", "movielens-csv")
    users, movies, scores = data.users, data.movies, data.scores
    feats = evaluated_features(str(args.data / "ratings.csv"), True)
    rng = np.random.default_rng(args.seed)
    print(f"data={args.data} sizes={args.sizes} draws={args.draws} seed={args.seed} "
          f"min raters={args.min_raters} min outsiders={args.min_outsiders}")
    for size in args.sizes:
        sums: dict[str, list[tuple[float, float, int, int]]] = {}
        for _draw in range(args.draws):
            members, train, _test = sample_guild(users, movies, scores, size, rng)
            here = np.isin(feats[0], train[1])
            model, _ = fit_guild(*train, ModelConfig(scale=SCALE), tune_reg=True,
                                 movie_features=(feats[0][here], feats[1][here]))
            rated, liked = outsider_tables(users, movies, scores, members)
            ids, counts = np.unique(train[1], return_counts=True)
            queries = ids[counts >= args.min_raters]
            lists: dict[str, list[tuple[int, list[int]]]] = {
                "genres + ratings": [], "ratings only": [], "same genres": []}
            saved = similar.GENRE_SHARE
            for q in queries.tolist():
                lists["genres + ratings"].append((q, [m for m, _ in model.similar(q, n=10)]))
                similar.GENRE_SHARE = 0.0
                try:
                    lists["ratings only"].append((q, [m for m, _ in model.similar(q, n=10)]))
                finally:
                    similar.GENRE_SHARE = saved
                lists["same genres"].append((q, genre_list(model, q, 10)))
            for name, found in lists.items():
                shares, lifts, scored, listed = [], [], 0, 0
                for q, near in found:
                    for j in near:
                        listed += 1
                        got = pair_score(q, j, rated, liked, args.min_outsiders)
                        if got is None:
                            continue
                        scored += 1
                        shares.append(got[0])
                        if np.isfinite(got[1]):
                            lifts.append(got[1])
                sums.setdefault(name, []).append(
                    (float(np.mean(shares)) if shares else float("nan"),
                     float(np.mean(lifts)) if lifts else float("nan"), scored, listed))
        print(f"\n{size} members ({args.draws} draws)")
        print(f"{'list':<18} {'liked j too':>12} {'lift':>12} {'pairs scored':>14}")
        for name, rows in sums.items():
            share = np.nanmean([r[0] for r in rows])
            lift = np.nanmean([r[1] for r in rows])
            scored = sum(r[2] for r in rows)
            listed = sum(r[3] for r in rows)
            lo = np.nanmin([r[1] for r in rows])
            hi = np.nanmax([r[1] for r in rows])
            print(f"{name:<18} {share:>12.3f} {lift:>6.2f} [{lo:.2f}-{hi:.2f}] "
                  f"{scored:>6}/{listed:<6}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--sizes", type=int, nargs="*", default=[10, 30, 100, 200])
    p.add_argument("--draws", type=int, default=3)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--min-raters", type=int, default=3,
                   help="query movies: rated by at least this many guild members")
    p.add_argument("--min-outsiders", type=int, default=5,
                   help="a pair is scored when this many outside fans of i rated j")
    args = p.parse_args(argv)
    if not (args.data / "ratings.csv").exists():
        print(f"no ratings.csv in {args.data}: nothing to measure")
        return 0
    run(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
