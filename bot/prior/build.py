"""Building the taste prior from a MovieLens folder or zip: read, link, learn, store.

`build_from_path` reads the ratings (progress bar in bytes) and the movie list, links the
dataset's movies to the catalog (failing early, before minutes of learning, when nothing
links), learns the prior with `recommender.prior.build_prior` (progress bar in steps), keeps
only the linked movies unless asked to keep all, and installs it with `Storage.save_prior`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from bot.catalog.progress import Progress
from bot.domain.plural import plural
from bot.storage import Storage
from bot.storage.models import PriorMovie

from .linking import LinkReport, link_movies, make_report
from .readers import STAR_SCALE, PriorSourceError, open_dataset, read_movies, read_ratings

MOVIELENS_TERMS = (
    "MovieLens licence terms (GroupLens Research, University of Minnesota): the data may be "
    "used for research only; it may not be redistributed, used commercially without "
    "permission, or used to state or imply endorsement by the University of Minnesota or "
    "GroupLens; publications using it must cite F. Maxwell Harper and Joseph A. Konstan, "
    "\"The MovieLens Datasets: History and Context\", ACM Transactions on Interactive "
    "Intelligent Systems 5(4):19, 2015. The prior learned from it stays in your database: "
    "do not publish that file."
)


@dataclass
class BuildReport:
    """What `build_from_path` did; `lines()` is what the CLI prints."""

    source: str
    ratings: int
    users: int
    dataset_movies: int
    stored_movies: int
    blob_bytes: int
    seconds: float
    link: LinkReport
    skipped_ratings: int = 0
    kept_all: bool = False

    def lines(self) -> list[str]:
        kept = "every rated movie kept" if self.kept_all else "the linked ones"
        lines = [
            f"Built the taste prior from {self.source}: {plural(self.ratings, 'rating')} by "
            f"{plural(self.users, 'user')} on {plural(self.dataset_movies, 'movie')} in "
            f"{self.seconds:.1f} s.",
            f"Stored {plural(self.stored_movies, 'movie')} ({kept}; "
            f"{human_size(self.blob_bytes)}, float32).",
            self.link.line() + ".",
        ]
        if self.skipped_ratings:
            lines.insert(1, f"Skipped {plural(self.skipped_ratings, 'rating')} outside 0.5-5 "
                            "stars.")
        return lines


def human_size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


class _StepProgress:
    """`progress(done, total)` for build_prior, drawn with the catalog's progress bar."""

    def __init__(self, label: str, stream: TextIO | None) -> None:
        self.label = label
        self.stream = stream
        self.bar: Progress | None = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = Progress(total, self.label, unit="steps", stream=self.stream)
        self.bar.update(done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _with_counts(movies: list[PriorMovie], keys: np.ndarray,
                 counts: np.ndarray) -> list[PriorMovie]:
    """The movie list with each movie's rating count; rated keys missing from the list are
    added without a title (they can still link by MovieLens id)."""
    by_key = dict(zip(keys.tolist(), counts.tolist(), strict=True))
    out = [m._replace(n_ratings=int(by_key.pop(m.key, 0))) for m in movies]
    out += [PriorMovie(int(k), "", None, None, None, int(n)) for k, n in by_key.items()]
    return out


async def build_from_path(
    storage: Storage,
    path: Path,
    *,
    source: str | None = None,
    keep_all: bool = False,
    err: TextIO | None = None,
    **options: Any,
) -> BuildReport:
    """Build, link and install the taste prior from a MovieLens folder or zip.

    Raises PriorSourceError (one line for the user) when the path is not a usable dataset or,
    unless `keep_all`, when no catalog movie links to it. `options` go to `build_prior`.
    """
    from recommender.prior import build_prior

    started = time.monotonic()
    dataset = await asyncio.to_thread(open_dataset, Path(path))
    label = source or f"{dataset.name} ({path})"
    movies = await asyncio.to_thread(read_movies, dataset)
    size = await asyncio.to_thread(dataset.size, dataset.ratings_name)
    bar = Progress(size, f"Reading {dataset.ratings_name}", unit="bytes", stream=err)
    ratings = await asyncio.to_thread(read_ratings, dataset, bar.update)
    bar.close()
    if len(ratings) == 0:
        raise PriorSourceError(f"{path}: {dataset.ratings_name} holds no ratings")
    keys, counts = np.unique(ratings.movie_keys, return_counts=True)
    movies = _with_counts(movies, keys, counts)

    catalog = await storage.catalog_link_rows()
    found = await asyncio.to_thread(link_movies, movies, catalog,
                                    by_movielens_id=dataset.kind == "movielens")
    rated = {m.key for m in movies if m.n_ratings > 0}
    links = [link for link in found if link.key in rated]
    if not links and not keep_all:
        raise PriorSourceError(
            f"none of the {plural(len(catalog), 'catalog movie')} matches a rated movie of "
            f"{dataset.name}: import a catalog first (python -m bot catalog import/download) "
            "or keep every movie with --all-movies")

    steps = _StepProgress("Learning the prior", err)
    try:
        prior = await asyncio.to_thread(
            build_prior, ratings.user_keys, ratings.movie_keys, ratings.scores,
            progress=steps, scale=STAR_SCALE, **options)
    finally:
        steps.close()
    skipped = ratings.skipped
    del ratings
    stored = prior if keep_all else prior.restrict(np.array([link.key for link in links]))
    blob = await asyncio.to_thread(stored.to_bytes)
    users = int(prior.info.get("users", 0))
    n_ratings = int(prior.info.get("ratings", int(counts.sum())))
    await storage.save_prior(
        blob, source=label, id_kind=dataset.kind, movies=movies, stored_keys=stored.keys,
        links=links, dataset_users=users, dataset_ratings=n_ratings)
    return BuildReport(
        source=label, ratings=n_ratings, users=users, dataset_movies=len(prior),
        stored_movies=len(stored), blob_bytes=len(blob),
        seconds=time.monotonic() - started,
        link=make_report(movies, catalog, links, n_ratings), skipped_ratings=skipped,
        kept_all=keep_all)
