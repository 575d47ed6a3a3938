"""Size limits on one guild's model, so a single huge guild cannot exhaust memory.

Two caps from the config: the number of ratings a fit may use (the ratings of the least-rated
movies go first: they carry the least signal and are never recommended under the minimum-support
rule) and the model's cell count, (members + movies) x features (features are reduced to fit;
below two features the guild is refused). Every trim or refusal is logged in one line.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from bot.domain.plural import plural
from recommender import count_distinct

log = logging.getLogger(__name__)

MIN_FEATURES = 2


@dataclass(frozen=True)
class LimitedRatings:
    user_ids: np.ndarray
    movie_ids: np.ndarray
    scores: np.ndarray
    features: int


def apply_size_limits(guild_id: int, user_ids: np.ndarray, movie_ids: np.ndarray,
                      scores: np.ndarray, *, features: int, max_ratings: int,
                      max_cells: int) -> LimitedRatings | None:
    """The ratings and feature count to fit with, or None when the guild is refused."""
    n = len(scores)
    if n > max_ratings:
        movies, inverse, counts = np.unique(movie_ids, return_inverse=True, return_counts=True)
        order = np.argsort(-counts, kind="stable")
        kept = order[np.cumsum(counts[order]) <= max_ratings]
        if kept.size == 0:  # one movie alone is over the limit: keep part of it
            kept = order[:1]
        keep_movie = np.zeros(len(movies), dtype=bool)
        keep_movie[kept] = True
        mask = keep_movie[inverse]
        user_ids, movie_ids, scores = (a[mask][:max_ratings] for a in (user_ids, movie_ids, scores))
        log.warning("guild=%s trimmed: %s over the limit of %d; fitting %s of its %s",
                    guild_id, plural(n, "rating"), max_ratings, plural(len(scores), "rating"),
                    plural(len(kept), "most-rated movie"))
    # members read in order, catalog ids of a small range: no hash of every rating
    rows = count_distinct(user_ids) + count_distinct(movie_ids)
    if rows * features > max_cells:
        reduced = max_cells // max(rows, 1)
        if reduced < MIN_FEATURES:
            log.error("guild=%s refused: %d members+movies need more than the model limit of %d "
                      "cells even at %d features", guild_id, rows, max_cells, MIN_FEATURES)
            return None
        log.warning("guild=%s features reduced from %d to %d to stay under %d model cells",
                    guild_id, features, reduced, max_cells)
        features = int(reduced)
    return LimitedRatings(user_ids, movie_ids, scores, features)
