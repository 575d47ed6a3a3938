"""Evaluation CLI: fit on a train file, score a test file (or k-fold one file), print JSON last.

    python -m recommender.evaluate --train u1.base --test u1.test --format ml-100k
    python -m recommender.evaluate --data ratings.csv --folds 5
    python -m recommender.evaluate --data ratings.csv --folds 5 --prior prior.npz --tune-reg

Human-readable lines first, then ONE final line of JSON with rmse, mae, precision_at_10,
ndcg_at_10, fit_seconds, n_train, n_test (means over folds with --folds). The ranking protocol
is in ``metrics.py``; relevant = test rating >= 80% of the scale maximum.

Models are fitted by the bot's fit path (``tuning.fit_guild``; ``--tune-reg`` adds the
hold-out choice of reg the bot makes for guilds up to 250,000 ratings) and ranked by
``CFModel.rank_scores``, the blend ``recommend`` uses: the figures describe what members get.
``--prior`` takes a file written by ``TastePrior.to_bytes()`` or a MovieLens folder (a prior
is then built per split from that folder's ratings minus the split's test pairs, so no test
rating leaks into it); movie ids are taken to be the prior's keys (MovieLens ids).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace

import numpy as np

from .data import FORMATS, Ratings, guess_format, kfold, load_ratings
from .metrics import mae, ranking_metrics, rmse
from .prior import GuildPrior, TastePrior, build_prior, load_movielens
from .tuning import fit_guild
from .types import ModelConfig

KEYS = ("rmse", "mae", "precision_at_10", "ndcg_at_10", "fit_seconds", "n_train", "n_test")


def relevance_threshold(scale: tuple[float, float]) -> float:
    return 0.8 * scale[1]


def evaluate_split(train: Ratings, test: Ratings, config: ModelConfig, *,
                   prior: GuildPrior | None = None, tune_reg: bool = False) -> dict:
    """Fit ``config`` on ``train`` (the bot's fit path); RMSE/MAE of ``predict`` and ranking
    metrics (``rank_scores``, the ranking ``recommend`` uses) on ``test``."""
    t0 = time.perf_counter()
    model, report = fit_guild(train.users, train.movies, train.scores, config,
                              tune_reg=tune_reg, prior=prior)
    seconds = time.perf_counter() - t0  # the whole fit path (reg tuning included)
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
        "fit_seconds": seconds,
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
    p.add_argument("--prior", help="taste prior file (TastePrior.to_bytes) or MovieLens folder")
    p.add_argument("--tune-reg", action="store_true",
                   help="choose reg by hold-out validation first, as the bot does")
    p.add_argument("--blas-threads", type=int, default=1,
                   help="BLAS threads while fitting (the bot's training.blas_threads, default 1)")
    return p


def prior_source(path: str | None):
    """A loaded TastePrior (file), the (users, movies, scores) of a folder, or None."""
    if not path:
        return None
    from pathlib import Path

    p = Path(path)
    if p.is_dir():
        return load_movielens(p)
    return TastePrior.from_bytes(p.read_bytes())


def split_prior(source, test: Ratings) -> GuildPrior | None:
    """The prior for one split: a file prior as is, or one built without the test pairs."""
    if source is None:
        return None
    if isinstance(source, TastePrior):
        prior = source
    else:
        users, movies, scores = source
        test_pairs = np.unique(test.users.astype(np.int64) * (1 << 32) + test.movies)
        keep = ~np.isin(users.astype(np.int64) * (1 << 32) + movies, test_pairs)
        prior = build_prior(users[keep], movies[keep], scores[keep])
    return prior.for_movies(prior.keys, prior.keys)


def main(argv: list[str] | None = None) -> int:
    p = build_parser()
    args = p.parse_args(argv)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with the bot's dependencies
        return _main(p, args)
    with threadpool_limits(limits=max(1, args.blas_threads)):
        return _main(p, args)


def _main(p: argparse.ArgumentParser, args: argparse.Namespace) -> int:
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
    source = prior_source(args.prior)
    if args.data:
        data = load_ratings(args.data, fmt)
        for f, (tr, te) in enumerate(kfold(len(data), args.folds, args.seed)):
            train, test = data.take(tr), data.take(te)
            r = evaluate_split(train, test, config, prior=split_prior(source, test),
                               tune_reg=args.tune_reg)
            results.append(r)
            print(_line(f"fold {f + 1}/{args.folds}", r))
        summary = mean_results(results)
        summary["folds"] = args.folds
        print(_line(f"mean of {args.folds} folds", summary))
    else:
        train, test = load_ratings(args.train, fmt), load_ratings(args.test, fmt)
        summary = evaluate_split(train, test, config, prior=split_prior(source, test),
                                 tune_reg=args.tune_reg)
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
