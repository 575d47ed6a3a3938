"""Our CFModel vs scikit-surprise SVD, SVD++ and BaselineOnly, MostPop and plain EASE, on the
same 5 folds of ml-latest-small.

    python benchmarks/vs_surprise.py [--data DIR] [--folds 5] [--seed 0] [--ablation]
                                     [--svdpp-folds 1]

Prints one table (RMSE, MAE, precision@10, nDCG@10, fit seconds; means over folds) and the
ratios ours/SVD and ours/MostPop. Every model is scored by the same code
(``recommender.metrics``): RMSE/MAE of the plain predictions, ranking over all movies unseen in
train. "ours (bot fit path)" is ``tuning.fit_guild(tune_reg=True)``, what the bot runs for a
guild of this size (regularisation choice included); its fit seconds are the ones to compare
with SVD's. "ours (bot refit, +1% ratings)" times the fit the bot runs most: a warm refit after
a few new ratings, which reuses the recent reg choice (``tuning.RETUNE_FRACTION``).
SVD++ is slow (about 30 s a fold): it runs on the first ``--svdpp-folds`` folds only (its row
says how many). ``--ablation`` adds rows that switch off each addition to the tutorial model,
so each one shows what it earns.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recommender import ModelConfig
from recommender.data import Ratings, kfold, load_ratings
from recommender.evaluate import evaluate_split, relevance_threshold
from recommender.implicit import ItemItem
from recommender.index import IdIndex
from recommender.metrics import mae, ranking_metrics, rmse

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared/data/ml-latest-small"
SCALE = (0.5, 5.0)


def surprise_split(algo_name: str, train: Ratings, test: Ratings, seed: int) -> dict:
    from surprise import SVD, BaselineOnly, Dataset, Reader

    reader = Reader(rating_scale=SCALE)
    ds = Dataset(reader)
    raw = [(str(u), str(i), float(r), None)
           for u, i, r in zip(train.users.tolist(), train.movies.tolist(), train.scores.tolist(),
                              strict=True)]
    trainset = ds.construct_trainset(raw)
    algo = SVD(random_state=seed) if algo_name == "SVD" else BaselineOnly(verbose=False)
    t0 = time.perf_counter()
    algo.fit(trainset)
    seconds = time.perf_counter() - t0
    testset = [(str(u), str(i), float(r)) for u, i, r in
               zip(test.users.tolist(), test.movies.tolist(), test.scores.tolist(), strict=True)]
    preds = algo.test(testset)
    est = np.array([p.est for p in preds])

    item_raw = np.array([int(trainset.to_raw_iid(i)) for i in range(trainset.n_items)])
    order = np.argsort(item_raw)
    item_ids = item_raw[order]
    bi = np.asarray(algo.bi)[order]
    qi = np.asarray(algo.qi)[order] if algo_name == "SVD" else None
    mu = trainset.global_mean

    def score_batch(users):
        out = np.empty((len(users), item_ids.size))
        for row, u in enumerate(users):
            try:
                inner = trainset.to_inner_uid(str(int(u)))
            except ValueError:
                out[row] = mu + bi
                continue
            s = mu + algo.bu[inner] + bi
            if qi is not None:
                s = s + qi @ algo.pu[inner]
            out[row] = s
        return out

    ranking = ranking_metrics(item_ids, score_batch, (train.users, train.movies),
                              (test.users, test.movies, test.scores), relevance_threshold(SCALE))
    return {"rmse": rmse(est, test.scores), "mae": mae(est, test.scores),
            "precision_at_10": ranking["precision_at_10"], "ndcg_at_10": ranking["ndcg_at_10"],
            "fit_seconds": seconds}


def refit_split(train: Ratings, test: Ratings, base: ModelConfig) -> dict:
    """The bot's usual fit: a warm refit after 1% more ratings (the reg choice is reused)."""
    from recommender.tuning import fit_guild

    keep = np.random.default_rng(1).random(len(train)) >= 0.01
    before = train.take(np.flatnonzero(keep))
    previous, _ = fit_guild(before.users, before.movies, before.scores, base, tune_reg=True)
    t0 = time.perf_counter()
    model, _ = fit_guild(train.users, train.movies, train.scores, base, tune_reg=True,
                         warm_start=previous.snapshot())
    seconds = time.perf_counter() - t0
    pred = model.predict(test.users, test.movies)
    ranking = ranking_metrics(model.movies.ids, lambda us: model.rank_scores(
        model.users.lookup(us)), (train.users, train.movies),
        (test.users, test.movies, test.scores), relevance_threshold(SCALE))
    return {"rmse": rmse(pred, test.scores), "mae": mae(pred, test.scores),
            "precision_at_10": ranking["precision_at_10"], "ndcg_at_10": ranking["ndcg_at_10"],
            "fit_seconds": seconds}


def mostpop_split(train: Ratings, test: Ratings) -> dict:
    """The most-rated movies in train that the member has not rated."""
    items, counts = np.unique(train.movies, return_counts=True)
    t0 = time.perf_counter()
    ranking = ranking_metrics(items, lambda us: np.repeat(counts[None, :].astype(float),
                                                          len(us), 0),
                              (train.users, train.movies), (test.users, test.movies, test.scores),
                              relevance_threshold(SCALE))
    return {"rmse": float("nan"), "mae": float("nan"),
            "precision_at_10": ranking["precision_at_10"], "ndcg_at_10": ranking["ndcg_at_10"],
            "fit_seconds": time.perf_counter() - t0}


def ease_split(train: Ratings, test: Ratings) -> dict:
    """Plain EASE (binary rated matrix, our default λ and item cap), ranked by x_u B."""
    cfg = ModelConfig()
    t0 = time.perf_counter()
    users, items = IdIndex(train.users), IdIndex(train.movies)
    ui, mi = users.lookup(train.users), items.lookup(train.movies)
    ii = ItemItem.fit(ui, mi, len(users), len(items), lam=cfg.ease_lambda,
                      max_items=cfg.ease_items, topk=cfg.ease_topk)
    seconds = time.perf_counter() - t0
    import scipy.sparse as sp

    X = sp.csr_matrix((np.ones(ui.size, np.float32), (ui, mi)), shape=(len(users), len(items)))

    def score_batch(us):
        return ii.scores(X[users.lookup(us)])

    ranking = ranking_metrics(items.ids, score_batch, (train.users, train.movies),
                              (test.users, test.movies, test.scores), relevance_threshold(SCALE))
    return {"rmse": float("nan"), "mae": float("nan"),
            "precision_at_10": ranking["precision_at_10"], "ndcg_at_10": ranking["ndcg_at_10"],
            "fit_seconds": seconds}


def svdpp_split(train: Ratings, test: Ratings, seed: int) -> dict:
    from guilds import surprise_scorer

    item_ids, score_batch, seconds = surprise_scorer(
        "SVD++", (train.users, train.movies, train.scores), seed, scale=SCALE)
    algo = score_batch.algo
    est = np.array([algo.predict(str(u), str(i)).est for u, i in
                    zip(test.users.tolist(), test.movies.tolist(), strict=True)])
    ranking = ranking_metrics(item_ids, score_batch, (train.users, train.movies),
                              (test.users, test.movies, test.scores), relevance_threshold(SCALE))
    return {"rmse": rmse(est, test.scores), "mae": mae(est, test.scores),
            "precision_at_10": ranking["precision_at_10"], "ndcg_at_10": ranking["ndcg_at_10"],
            "fit_seconds": seconds}


def ours_variants(base: ModelConfig, ablation: bool) -> dict[str, ModelConfig]:
    out = {"ours (CFModel)": base}
    if ablation:
        tutorial = replace(base, reg_bias=1e9, mean_damping=0.0, confidence=0.0, min_support=1)
        out["tutorial model (plain means, no biases)"] = tutorial
        out["  + member/movie biases"] = replace(tutorial, reg_bias=base.reg_bias)
        out["  + shrunk means"] = replace(tutorial, reg_bias=base.reg_bias,
                                          mean_damping=base.mean_damping)
        out["  + min support (auto)"] = replace(base, confidence=0.0)
        out["  + support penalty (= ours)"] = base
        out["ours without min support"] = replace(base, min_support=1)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA,
                   help="ml-latest-small folder or its ratings.csv")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--ablation", action="store_true")
    p.add_argument("--no-surprise", action="store_true")
    p.add_argument("--svdpp-folds", type=int, default=1,
                   help="folds SVD++ runs on (0 = none; it takes about a minute a fold)")
    p.add_argument("--features", type=int)
    p.add_argument("--reg", type=float)
    p.add_argument("--maxiter", type=int)
    args = p.parse_args(argv)
    path = args.data / "ratings.csv" if args.data.is_dir() else args.data
    data = load_ratings(path, "movielens-csv")
    base = replace(ModelConfig(), scale=SCALE, seed=args.seed)
    for key in ("features", "reg", "maxiter"):
        if getattr(args, key) is not None:
            base = replace(base, **{key: getattr(args, key)})
    print(f"data={path} ratings={len(data)} folds={args.folds} seed={args.seed}")
    print(f"ours: features={base.features} reg={base.reg:g} reg_bias={base.reg_bias:g} "
          f"maxiter={base.maxiter} mean_damping={base.mean_damping:g} "
          f"confidence={base.confidence:g} min_support=auto")
    folds = kfold(len(data), args.folds, args.seed)
    rows: dict[str, list[dict]] = {}
    variants = ours_variants(base, args.ablation)
    for f, (tr, te) in enumerate(folds):
        train, test = data.take(tr), data.take(te)
        for name, cfg in variants.items():
            rows.setdefault(name, []).append(evaluate_split(train, test, cfg))
        rows.setdefault("ours (bot fit path)", []).append(
            evaluate_split(train, test, base, tune_reg=True))
        rows.setdefault("ours (bot refit, +1% ratings)", []).append(
            refit_split(train, test, base))
        rows.setdefault("MostPop", []).append(mostpop_split(train, test))
        rows.setdefault("EASE (implicit only)", []).append(ease_split(train, test))
        if not args.no_surprise:
            for name in ("SVD", "BaselineOnly"):
                rows.setdefault(f"surprise {name}", []).append(
                    surprise_split(name, train, test, args.seed))
            if f < args.svdpp_folds:
                rows.setdefault(f"surprise SVD++ ({args.svdpp_folds} fold)", []).append(
                    svdpp_split(train, test, args.seed))
        print(f"fold {f + 1}/{args.folds} done", flush=True)

    keys = ("rmse", "mae", "precision_at_10", "ndcg_at_10", "fit_seconds")
    means = {name: {k: float(np.mean([r[k] for r in rs])) for k in keys}
             for name, rs in rows.items()}
    width = max(len(n) for n in means) + 2
    print()
    print(f"{'model':<{width}}{'RMSE':>8}{'MAE':>8}{'P@10':>8}{'nDCG@10':>9}{'fit s':>8}")
    for name, m in means.items():
        print(f"{name:<{width}}{m['rmse']:>8.4f}{m['mae']:>8.4f}{m['precision_at_10']:>8.4f}"
              f"{m['ndcg_at_10']:>9.4f}{m['fit_seconds']:>8.3f}")
    ours, pop = means["ours (CFModel)"], means["MostPop"]
    print()
    print(f"ours/MostPop: P@10 {ours['precision_at_10'] / pop['precision_at_10']:.2f}x "
          f"(target >= 1.8x), nDCG@10 {ours['ndcg_at_10'] / pop['ndcg_at_10']:.2f}x; "
          "per fold: " + " ".join(
              f"{a['precision_at_10'] / b['precision_at_10']:.2f}x"
              for a, b in zip(rows["ours (CFModel)"], rows["MostPop"], strict=True)))
    if "surprise SVD" in means:
        svd, bot = means["surprise SVD"], means["ours (bot fit path)"]
        refit = means["ours (bot refit, +1% ratings)"]
        print(f"ours/SVD: RMSE {ours['rmse'] / svd['rmse']:.3f} "
              f"(diff {ours['rmse'] - svd['rmse']:+.4f}; target <= -0.02), "
              f"P@10 {ours['precision_at_10'] / svd['precision_at_10']:.2f}x (target >= 2x), "
              f"nDCG@10 {ours['ndcg_at_10'] / svd['ndcg_at_10']:.2f}x, "
              f"fit time {ours['fit_seconds'] / svd['fit_seconds']:.2f}x; bot fit path "
              f"(reg tuning included) {bot['fit_seconds'] / svd['fit_seconds']:.2f}x "
              f"(target <= 0.5x), bot refit {refit['fit_seconds'] / svd['fit_seconds']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
