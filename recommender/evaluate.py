"""Evaluation CLI: fit on a train file, score a test file (or k-fold one file), print JSON last.

    python -m recommender.evaluate --train u1.base --test u1.test --format ml-100k
    python -m recommender.evaluate --data ratings.csv --folds 5

Human-readable lines first, then ONE final line of JSON with rmse, mae, precision_at_10,
ndcg_at_10, fit_seconds, n_train, n_test (means over folds with --folds). The ranking protocol
is in ``metrics.py``; relevant = test rating >= 80% of the scale maximum.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace

import numpy as np

from .data import FORMATS, Ratings, guess_format, kfold, load_ratings
from .metrics import mae, ranking_metrics, rmse
from .model import CFModel
from .types import ModelConfig

KEYS = ("rmse", "mae", "precision_at_10", "ndcg_at_10", "fit_seconds", "n_train", "n_test")


def relevance_threshold(scale: tuple[float, float]) -> float:
    return 0.8 * scale[1]


def evaluate_split(train: Ratings, test: Ratings, config: ModelConfig) -> dict:
    """Fit ``config`` on ``train``; RMSE/MAE of ``predict`` and ranking metrics on ``test``."""
    model = CFModel(config)
    report = model.fit(train.users, train.movies, train.scores)
    pred = model.predict(test.users, test.movies)
    ranking = ranking_metrics(
        model.movies.ids,
        lambda users: model.rank_scores(model.users.lookup(users)),
        (train.users, train.movies),
        (test.users, test.movies, test.scores),
        relevance_threshold(config.scale),
    )
    return {
        "rmse": rmse(pred, test.scores),
        "mae": mae(pred, test.scores),
        "precision_at_10": ranking["precision_at_10"],
        "ndcg_at_10": ranking["ndcg_at_10"],
        "fit_seconds": report.seconds,
        "n_train": len(train),
        "n_test": len(test),
        "iterations": report.iterations,
    }


def mean_results(results: list[dict]) -> dict:
    out = {key: float(np.mean([r[key] for r in results])) for key in results[0]}
    for key in ("n_train", "n_test", "iterations"):
        out[key] = round(out[key])
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m recommender.evaluate", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", help="training ratings file")
    p.add_argument("--test", help="test ratings file")
    p.add_argument("--data", help="one ratings file to split with --folds")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--format", choices=sorted(FORMATS), help="default: from the file suffix")
    p.add_argument("--scale-min", type=float)
    p.add_argument("--scale-max", type=float)
    d = ModelConfig()
    p.add_argument("--features", type=int, default=d.features)
    p.add_argument("--reg", type=float, default=d.reg)
    p.add_argument("--reg-bias", type=float, default=d.reg_bias)
    p.add_argument("--maxiter", type=int, default=d.maxiter)
    p.add_argument("--seed", type=int, default=d.seed)
    return p


def main(argv: list[str] | None = None) -> int:
    p = build_parser()
    args = p.parse_args(argv)
    if not args.data and not (args.train and args.test):
        p.error("give --train and --test, or --data with --folds")
    first = args.data or args.train
    fmt = args.format or guess_format(first)
    lo, hi = FORMATS[fmt]
    scale = (args.scale_min if args.scale_min is not None else lo,
             args.scale_max if args.scale_max is not None else hi)
    config = replace(ModelConfig(), features=args.features, reg=args.reg, reg_bias=args.reg_bias,
                     maxiter=args.maxiter, seed=args.seed, scale=scale)
    print(f"format={fmt} scale={scale[0]:g}-{scale[1]:g} features={config.features} "
          f"reg={config.reg:g} reg_bias={config.reg_bias:g} maxiter={config.maxiter} "
          f"seed={config.seed}")
    results = []
    if args.data:
        data = load_ratings(args.data, fmt)
        for f, (tr, te) in enumerate(kfold(len(data), args.folds, args.seed)):
            r = evaluate_split(data.take(tr), data.take(te), config)
            results.append(r)
            print(_line(f"fold {f + 1}/{args.folds}", r))
        summary = mean_results(results)
        summary["folds"] = args.folds
        print(_line(f"mean of {args.folds} folds", summary))
    else:
        summary = evaluate_split(load_ratings(args.train, fmt), load_ratings(args.test, fmt),
                                 config)
        print(_line("result", summary))
    summary["format"] = fmt
    print(json.dumps(summary))
    return 0


def _line(label: str, r: dict) -> str:
    return (f"{label}: rmse={r['rmse']:.4f} mae={r['mae']:.4f} "
            f"p@10={r['precision_at_10']:.4f} ndcg@10={r['ndcg_at_10']:.4f} "
            f"fit={r['fit_seconds']:.2f}s iters={r['iterations']} "
            f"train={r['n_train']} test={r['n_test']}")


if __name__ == "__main__":
    sys.exit(main())
