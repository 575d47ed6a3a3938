"""CPU time of the bot's whole fit path, part by part, against Surprise SVD's fit (issue 24 item 4).

    python benchmarks/fit_cost.py                      # ml-latest-small fold 1 and 1e6 synthetic
    python benchmarks/fit_cost.py --data ml --folds 5  # every fold of ml-latest-small
    python benchmarks/fit_cost.py --data 1e6 --no-surprise

One core (BLAS pinned to one thread before numpy loads); CPU seconds of this process
(`time.process_time`), so other work on a shared machine does not count (it still slows the
caches). Per data set, the bot's fit path (`recommender.tuning.fit_guild`, as the refit worker
calls it: reg chosen by hold-out up to `auto_regularization_max_ratings`, genre/decade movie
features: from movies.csv for ml-latest-small, synthetic for the synthetic guild) runs
three ways:

- **first fit**: no previous model (a new or imported guild): the reg choice, then the final
  fit warm-started from the chosen hold-out fit;
- **grown +30%**: the previous model was fitted on 1/1.3 of the ratings: the reg is chosen
  again, starting from the previous choice, the first hold-out fit warm-started from it;
- **refit +1%**: the refit the bot runs most: 1% new ratings, the previous choice reused, the
  fit warm-started.

Parts: `features` (the worker's `bot.service.features.movie_features`), `reg choice`
(`tuning.choose_reg`: hold-out fits and their evidence), `training` (the final fit's
`train.train_factors`), `item-item` (`implicit.ItemItem.fit`, the guild's EASE and the one
`pick_lift` measures its evidence with), `prior` (with `--prior`: `CFModel.attach_prior` and
the members' ridge start from the prior's factors, wherever they run; a prior also makes
every movie it knows a model movie, which shows in training), `other` (indexing, means,
side-feature ridge, member lists, the pick evidence's ranking). Surprise `SVD` (defaults,
`random_state=0`) is timed the same way on the same ratings; the ratio is ours / SVD
(target <= 0.5).

    python benchmarks/fit_cost.py --data ml --folds 2 --prior   # with a taste prior
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

# ../shared beside the checkout (a worktree sits one level deeper)
DEFAULT_ML = next((base / "shared/data/ml-latest-small"
                   for base in (ROOT.parent, ROOT.parent.parent)
                   if (base / "shared/data/ml-latest-small").exists()),
                  ROOT.parent / "shared/data/ml-latest-small")
PARTS = ("features", "reg choice", "training", "item-item", "prior", "other")


class Meter:
    """CPU seconds spent inside wrapped functions, by part (nested calls count once, in the
    outermost part), except "carved" parts (the prior's work), which count wherever they run
    and are taken out of the part around them."""

    def __init__(self) -> None:
        self.parts: dict[str, float] = {}
        self._depth = 0
        self._carved = 0.0  # carved seconds inside the current outermost part

    def add(self, part: str, seconds: float) -> None:
        self.parts[part] = self.parts.get(part, 0.0) + seconds

    def wrap(self, owner, name: str, part: str, carve: bool = False) -> None:
        original = getattr(owner, name)
        meter = self

        def timed(*args, **kwargs):
            if carve:
                start = time.process_time()
                try:
                    return original(*args, **kwargs)
                finally:
                    spent = time.process_time() - start
                    meter.add(part, spent)
                    if meter._depth:
                        meter._carved += spent
            if meter._depth:
                return original(*args, **kwargs)
            meter._depth += 1
            meter._carved = 0.0
            start = time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                meter.add(part, time.process_time() - start - meter._carved)
                meter._carved = 0.0
                meter._depth -= 1

        setattr(owner, name, timed)


def instrument() -> Meter:
    import recommender.model as model_module
    import recommender.train as train
    import recommender.tuning as tuning
    from recommender.implicit import ItemItem
    from recommender.model import CFModel

    meter = Meter()
    meter.wrap(tuning, "choose_reg", "reg choice")
    meter.wrap(model_module, "train_factors", "training")
    # the prior's own work: attaching it, and the members' ridge start from its factors
    meter.wrap(train, "member_ridge", "prior", carve=True)
    meter.wrap(CFModel, "attach_prior", "prior", carve=True)
    fit = ItemItem.fit.__func__  # type: ignore[attr-defined]

    def itemitem_fit(cls, *args, **kwargs):
        if meter._depth:
            return fit(cls, *args, **kwargs)
        meter._depth += 1
        meter._carved = 0.0
        start = time.process_time()
        try:
            return fit(cls, *args, **kwargs)
        finally:
            meter.add("item-item", time.process_time() - start - meter._carved)
            meter._depth -= 1

    ItemItem.fit = classmethod(itemitem_fit)  # type: ignore[method-assign]
    return meter


def datasets(which: str, folds: int, ml: Path):
    """(name, users, movies, scores, config, features: the catalog's movies, "synthetic" or
    None, tune)."""
    from bot.config import RecommenderSettings
    from recommender import ModelConfig
    from recommender.data import kfold, load_ratings

    rec = RecommenderSettings()
    if which in ("ml", "both"):
        from bot.domain.models import Movie
        from bot.prior.evaluation import read_dataset_movies

        data = load_ratings(ml / "ratings.csv" if ml.is_dir() else ml, "movielens-csv")
        found = read_dataset_movies(ml)  # the catalog rows, as the worker reads them
        catalog = [Movie(m.key, m.title, m.year, found.genres.get(m.key, ()))
                   for m in found.movies]
        for f, (train, _test) in enumerate(kfold(len(data), 5, 0)[:folds]):
            part = data.take(train)
            yield (f"ml-latest-small fold {f + 1}", part.users, part.movies, part.scores,
                   ModelConfig(scale=(0.5, 5.0)), catalog, True)
    if which in ("1e6", "both"):
        from scale import make_ratings

        users, movies, scores = make_ratings(1_000_000, 0)
        config = ModelConfig(features=rec.features, reg=rec.regularization,
                             maxiter=rec.max_iterations, scale=(1.0, 10.0))
        yield ("synthetic 1e6", users, movies, scores, config, "synthetic",
               rec.auto_regularization_max_ratings >= 1_000_000)


def run_path(meter: Meter, users, movies, scores, config, features, tune, warm=None,
             prior=None):
    """The fit path once; (model, CPU seconds by part, total)."""
    from recommender.tuning import fit_guild

    meter.parts = {}
    start = time.process_time()
    feats = None
    if isinstance(features, list):  # catalog movies: the worker's genre/decade features
        from bot.service.features import movie_features

        rated = set(np.unique(movies).tolist())
        feats = movie_features(m for m in features if m.id in rated)
        meter.parts["features"] = time.process_time() - start
    elif features is not None:
        from scale import synthetic_features

        feats = synthetic_features(np.unique(movies))
        meter.parts["features"] = time.process_time() - start
    model, _report = fit_guild(users, movies, scores, config, warm_start=warm, tune_reg=tune,
                               movie_features=feats, prior=prior)
    total = time.process_time() - start
    parts = dict(meter.parts)
    parts["other"] = total - sum(parts.values())
    return model, parts, total


def surprise_cpu(users, movies, scores, scale) -> float:
    from surprise import SVD, Dataset, Reader

    trainset = Dataset(Reader(rating_scale=scale)).construct_trainset(
        [(str(u), str(m), float(s), None)
         for u, m, s in zip(users.tolist(), movies.tolist(), scores.tolist(), strict=True)])
    start = time.process_time()
    SVD(random_state=0).fit(trainset)
    return time.process_time() - start


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", choices=("ml", "1e6", "both"), default="both")
    p.add_argument("--folds", type=int, default=1, help="ml-latest-small folds (1-5)")
    p.add_argument("--ml", type=Path, default=DEFAULT_ML)
    p.add_argument("--no-surprise", action="store_true")
    p.add_argument("--prior", action="store_true",
                   help="fit with a taste prior (built once, untimed, from ml-latest-small's "
                        "ratings; every guild movie linked by its id)")
    args = p.parse_args(argv)
    meter = instrument()
    prior_source = None
    if args.prior:
        from recommender.data import load_ratings
        from recommender.prior import build_prior

        ml = load_ratings(args.ml / "ratings.csv" if args.ml.is_dir() else args.ml,
                          "movielens-csv")
        prior_source = build_prior(ml.users, ml.movies, ml.scores)
    print(f"{'data / path':<38}{'total s':>8}{'x SVD':>7}  " + "  ".join(PARTS))
    for name, users, movies, scores, config, features, tune in datasets(
            args.data, args.folds, args.ml):
        svd = (float("nan") if args.no_surprise
               else surprise_cpu(users, movies, scores, config.scale))
        n = scores.size
        prior = (None if prior_source is None
                 else prior_source.for_movies(prior_source.keys, prior_source.keys))
        rng = np.random.default_rng(1)
        small = np.flatnonzero(rng.random(n) < 1 / 1.3)  # grown by 30% since the choice
        most = np.flatnonzero(rng.random(n) >= 0.01)  # 1% new ratings
        first, parts, total = run_path(meter, users, movies, scores, config, features, tune,
                                       prior=prior)
        rows = [("first fit", parts, total)]
        before, _, _ = run_path(meter, users[small], movies[small], scores[small], config,
                                features, tune, prior=prior)
        _, parts, total = run_path(meter, users, movies, scores, config, features, tune,
                                   warm=before.snapshot(), prior=prior)
        rows.append(("grown +30%", parts, total))
        before, _, _ = run_path(meter, users[most], movies[most], scores[most], config,
                                features, tune, prior=prior)
        _, parts, total = run_path(meter, users, movies, scores, config, features, tune,
                                   warm=before.snapshot(), prior=prior)
        rows.append(("refit +1%", parts, total))
        print(f"{name}: {n:,} ratings, Surprise SVD fit {svd:.2f} s CPU, reg {first.config.reg:g}")
        for label, parts, total in rows:
            cells = "  ".join(f"{parts.get(k, 0.0):.2f}" for k in PARTS)
            print(f"  {label:<36}{total:>8.2f}{total / svd:>7.2f}  {cells}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
