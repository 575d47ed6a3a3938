"""Evaluation CLI: fit on a train file, score a test file (or k-fold one file), print JSON last.

    python -m recommender.evaluate --train u1.base --test u1.test --format ml-100k
    python -m recommender.evaluate --data ratings.csv --folds 5
    python -m recommender.evaluate --data ratings.csv --folds 5 --prior prior.npz --tune-reg

    python -m recommender.evaluate --data ml-100k/u.data --folds 5 --prior ml-latest-small
    python -m recommender.evaluate --data ratings.csv --folds 5 --baselines

Human-readable lines first, then ONE final line of JSON with rmse, mae, precision_at_10,
ndcg_at_10, fit_seconds, n_train, n_test, coverage_at_10, reg and, with a prior,
prior_strength (means over folds with --folds; reg and prior_strength, the fit path's
choices, listed per fold;
with --baselines also ``<name>_precision_at_10`` / ``_ndcg_at_10`` / ``_coverage_at_10`` for
mostpop, ease (and ``ease_lambda``), itemknn and, when the ``implicit`` package is installed,
als, ranked on the same split: see ``baselines.py``). The ranking protocol is in
``metrics.py``; relevant = test rating >= 80% of the scale maximum; coverage@10 is the share
of the ranked movies in anyone's top 10.

Models are fitted by the bot's fit path (``tuning.fit_guild``; ``--tune-reg`` adds the
hold-out choice of reg the bot makes for guilds up to 250,000 ratings) and ranked by
``CFModel.rank_scores``, the blend ``recommend`` uses: the figures describe what members get.
``--prior`` takes a file written by ``TastePrior.to_bytes()`` or a MovieLens folder (a prior
is then built per split from that folder's ratings, minus the split's test pairs when it is
the evaluated dataset itself, so no test rating leaks into it; the fit path's held-out choices,
reg and the prior's strength, then get one built without their held-out pairs too, so they are
not scored on ratings the prior saw: ``holdout_prior``). The evaluated movies are linked
to the prior's as the bot links its catalog (``bot/prior/evaluation.py``: MovieLens, IMDb and
TMDB ids, then title and year; ML-100K ids are not MovieLens ids), which needs the movie lists
(movies.csv or u.item beside the ratings; a prior file names its dataset with
``--prior-movies``). The fit gets the worker's genre/decade features when the evaluated
folder has its movie list (``--no-features``: without).
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
                   prior: GuildPrior | None = None, tune_reg: bool = False,
                   movie_features=None, baselines: bool = False,
                   tuning_prior=None) -> dict:
    """Fit ``config`` on ``train`` (the bot's fit path); RMSE/MAE of ``predict`` and ranking
    metrics (``rank_scores``, the ranking ``recommend`` uses) on ``test``; with
    ``baselines`` the baselines' ranking metrics on the same split. ``tuning_prior``: the
    fit path's ``holdout_prior`` (``holdout_prior`` here)."""
    building = [0.0]  # seconds spent building the held-out choices' prior (not the bot's)

    def timed_prior(users, movies):
        b0 = time.perf_counter()
        try:
            return tuning_prior(users, movies)
        finally:
            building[0] += time.perf_counter() - b0

    t0 = time.perf_counter()
    model, report = fit_guild(train.users, train.movies, train.scores, config,
                              tune_reg=tune_reg, prior=prior, movie_features=movie_features,
                              holdout_prior=timed_prior if tuning_prior is not None else None)
    # the whole fit path (reg and prior strength choices included)
    seconds = time.perf_counter() - t0 - building[0]
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
        "coverage_at_10": ranking["coverage_at_10"],
        "reg": model.config.reg,
        **({"prior_strength": model.config.prior_strength} if prior is not None else {}),
        **(baseline_metrics(train, test, relevance_threshold(config.scale)) if baselines
           else {}),
    }


def baseline_metrics(train: Ratings, test: Ratings, threshold: float) -> dict:
    """precision/nDCG/coverage@10 of each baseline (``baselines.py``) on this split."""
    from . import baselines as b

    out: dict = {}
    lam, _ = b.tune_ease(train.users, train.movies, train.scores, threshold)
    out["ease_lambda"] = lam
    scorers = {"mostpop": b.fit_mostpop(train.users, train.movies),
               "ease": b.fit_ease(train.users, train.movies, lam),
               "itemknn": b.fit_itemknn(train.users, train.movies)}
    als = b.fit_als(train.users, train.movies)
    if als is not None:
        scorers["als"] = als
    for name, (items, score) in scorers.items():
        r = ranking_metrics(items, score, (train.users, train.movies),
                            (test.users, test.movies, test.scores), threshold)
        for key in ("precision_at_10", "ndcg_at_10", "coverage_at_10"):
            out[f"{name}_{key}"] = r[key]
    return out


PER_FOLD = ("ease_lambda", "reg", "prior_strength")  # listed per fold, not averaged


def mean_results(results: list[dict]) -> dict:
    out: dict = {key: float(np.mean([r[key] for r in results])) for key in results[0]
                 if key not in PER_FOLD}
    for key in PER_FOLD:
        if key in results[0]:
            out[key] = [r[key] for r in results]
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
    p.add_argument("--prior-movies", metavar="DIR",
                   help="the MovieLens folder a --prior file was built from (its movie list, "
                        "to link by ids and titles)")
    p.add_argument("--no-features", action="store_true",
                   help="fit without the genre/decade features the bot's worker uses")
    p.add_argument("--baselines", action="store_true",
                   help="also rank MostPop, EASE (lambda tuned on an inner split), ItemKNN and "
                        "implicit ALS (if installed) on the same split")
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


def _folder(path: str) -> str:
    from pathlib import Path

    p = Path(path).resolve()
    return str(p if p.is_dir() else p.parent)


def prior_links(evaluated_path: str, prior_path: str, prior_movies: str | None = None):
    """(evaluated movie ids, prior keys, same dataset?) linked as the bot links its catalog;
    prints what was linked. SystemExit with a one-line reason when a movie list is missing."""
    from bot.prior.evaluation import link_datasets, read_dataset_movies
    from bot.prior.readers import PriorSourceError

    try:
        evaluated = read_dataset_movies(evaluated_path)
        prior = read_dataset_movies(prior_movies or prior_path)
    except PriorSourceError as exc:
        raise SystemExit(f"--prior needs both movie lists to link movies: {exc}") from None
    ids, keys, methods = link_datasets(evaluated, prior)
    same = _folder(evaluated_path) == _folder(prior_movies or prior_path)
    print(f"prior links: {ids.size} of {len(evaluated.movies)} movies "
          f"({', '.join(f'{n} by {m}' for m, n in sorted(methods.items()))})")
    return ids, keys, same


def split_prior(source, test: Ratings, links=None, held=None) -> GuildPrior | None:
    """The prior for one split: a file prior as is, or one built from a folder's ratings
    (without the split's test pairs when the folder is the evaluated dataset, nor ``held``,
    (member ids, movie ids) of more pairs to leave out). ``links``: (evaluated movie ids,
    prior keys, same dataset) from ``prior_links``; without, the ids are taken to be the
    prior's keys."""
    if source is None:
        return None
    ids, keys, same = links if links is not None else (None, None, True)
    if isinstance(source, TastePrior):
        prior = source
    else:
        users, movies, scores = source
        if same:  # the evaluated dataset: its test pairs never reach the prior
            t_users, t_movies = test.users.astype(np.int64), test.movies.astype(np.int64)
            if held is not None:
                t_users = np.concatenate([t_users, np.asarray(held[0], dtype=np.int64)])
                t_movies = np.concatenate([t_movies, np.asarray(held[1], dtype=np.int64)])
            if ids is not None and keys is not None:
                to_key = dict(zip(ids.tolist(), keys.tolist(), strict=True))
                t_movies = np.array([to_key.get(int(m), -1) for m in t_movies], dtype=np.int64)
            test_pairs = np.unique(t_users * (1 << 32) + t_movies)
            keep = ~np.isin(users.astype(np.int64) * (1 << 32) + movies, test_pairs)
            users, movies, scores = users[keep], movies[keep], scores[keep]
        prior = build_prior(users, movies, scores)
    if ids is None:
        return prior.for_movies(prior.keys, prior.keys)
    return prior.for_movies(ids, keys)


def holdout_prior(source, test: Ratings, links=None):
    """For ``fit_guild(holdout_prior=...)``: builds the split's prior without the fit path's
    held-out pairs too, when the prior is built from the evaluated dataset (its choices would
    otherwise be scored on ratings the prior saw); None for a prior from elsewhere."""
    if source is None or isinstance(source, TastePrior):
        return None
    if links is not None and not links[2]:
        return None
    return lambda users, movies: split_prior(source, test, links, held=(users, movies))


def evaluated_features(path: str, enabled: bool):
    """The worker's genre/decade features of the evaluated movies (None without a movie
    list beside the ratings, or when disabled)."""
    if not enabled:
        return None
    from bot.prior.evaluation import features_of, read_dataset_movies
    from bot.prior.readers import PriorSourceError

    try:
        return features_of(read_dataset_movies(path))
    except PriorSourceError:
        print("no movie list beside the ratings: fitting without genre/decade features")
        return None


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
    links = prior_links(first, args.prior, args.prior_movies) if args.prior else None
    features = evaluated_features(first, not args.no_features)
    if args.data:
        data = load_ratings(args.data, fmt)
        for f, (tr, te) in enumerate(kfold(len(data), args.folds, args.seed)):
            train, test = data.take(tr), data.take(te)
            r = evaluate_split(train, test, config, prior=split_prior(source, test, links),
                               tune_reg=args.tune_reg, movie_features=features,
                               baselines=args.baselines,
                               tuning_prior=holdout_prior(source, test, links))
            results.append(r)
            print(_line(f"fold {f + 1}/{args.folds}", r))
        summary = mean_results(results)
        summary["folds"] = args.folds
        print(_line(f"mean of {args.folds} folds", summary))
    else:
        train, test = load_ratings(args.train, fmt), load_ratings(args.test, fmt)
        summary = evaluate_split(train, test, config, prior=split_prior(source, test, links),
                                 tune_reg=args.tune_reg, movie_features=features,
                                 baselines=args.baselines,
                                 tuning_prior=holdout_prior(source, test, links))
        print(_line("result", summary))
    summary["format"] = fmt
    print(json.dumps(summary))
    return 0


def _line(label: str, r: dict) -> str:
    chosen = f"reg={r['reg']} " if "reg" in r else ""
    if "prior_strength" in r:
        chosen += f"prior_strength={r['prior_strength']} "
    text = (f"{label}: rmse={r['rmse']:.4f} mae={r['mae']:.4f} "
            f"p@10={r['precision_at_10']:.4f} ndcg@10={r['ndcg_at_10']:.4f} "
            f"cov@10={r['coverage_at_10']:.3f} {chosen}"
            f"fit={r['fit_seconds']:.2f}s iters={r['iterations']} "
            f"train={r['n_train']} test={r['n_test']}")
    for name in ("mostpop", "ease", "itemknn", "als"):
        if f"{name}_precision_at_10" in r:
            text += (f"; {name} p@10={r[f'{name}_precision_at_10']:.4f} "
                     f"cov@10={r[f'{name}_coverage_at_10']:.3f}")
    return text


if __name__ == "__main__":
    sys.exit(main())
