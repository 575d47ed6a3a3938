"""The hold-out split the fit path's choices are measured on (``tuning.choose_reg``,
``prior_strength.choose_prior_strength``): one seeded split, the same for every choice of a
fit, so their hold-out fits can be shared and a caller can rebuild what must not see it (e.g.
``evaluate --prior`` builds the choices' prior without the held-out pairs)."""

from __future__ import annotations

import numpy as np


def holdout_split(users: np.ndarray, movies: np.ndarray, seed: int,
                  holdout: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """(train mask, test mask) over the ratings: a seeded ``holdout`` share is held out; only
    held-out pairs whose member and movie both stay in training are scored (the others are in
    neither part)."""
    users = np.asarray(users)
    movies = np.asarray(movies)
    rng = np.random.default_rng(seed)
    test = rng.random(users.size) < holdout
    train = ~test
    seen = np.isin(users, users[train]) & np.isin(movies, movies[train])
    return train, test & seen
