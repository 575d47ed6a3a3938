"""Rating file loaders (MovieLens 100K tab-separated, MovieLens CSV) and k-fold splits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

FORMATS = {"ml-100k": (1.0, 5.0), "movielens-csv": (0.5, 5.0)}


@dataclass(frozen=True)
class Ratings:
    users: np.ndarray  # int64
    movies: np.ndarray  # int64
    scores: np.ndarray  # float64

    def __len__(self) -> int:
        return int(self.users.size)

    def take(self, idx: np.ndarray) -> Ratings:
        return Ratings(self.users[idx], self.movies[idx], self.scores[idx])


def guess_format(path: str | Path) -> str:
    return "movielens-csv" if str(path).lower().endswith(".csv") else "ml-100k"


def load_ratings(path: str | Path, fmt: str | None = None) -> Ratings:
    """Load ``user item rating [timestamp]`` rows; ``fmt`` defaults from the file suffix."""
    fmt = fmt or guess_format(path)
    if fmt == "ml-100k":
        arr = np.loadtxt(path, delimiter="\t", usecols=(0, 1, 2), ndmin=2)
    elif fmt == "movielens-csv":
        arr = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(0, 1, 2), ndmin=2)
    else:
        raise ValueError(f"unknown format {fmt!r}; expected one of {sorted(FORMATS)}")
    return Ratings(arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64), arr[:, 2].astype(float))


def kfold(n: int, folds: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Random k-fold split of ``n`` ratings: list of (train indexes, test indexes)."""
    if folds < 2:
        raise ValueError("folds must be >= 2")
    perm = np.random.default_rng(seed).permutation(n)
    parts = np.array_split(perm, folds)
    return [
        (np.sort(np.concatenate(parts[:f] + parts[f + 1:])), np.sort(parts[f]))
        for f in range(folds)
    ]
