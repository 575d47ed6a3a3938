"""Side features of movies for the model: genres and release year as numbers.

A movie with one rating is not a blank: the model places it by what it is (genres from the
MovieLens vocabulary of `bot.domain.genres`, and its decade). The matrix is tiny (movies x 31)
and built once per fit from the catalog rows the guild's ratings touch.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from bot.domain.genres import MOVIELENS_GENRES
from bot.domain.models import Movie

FIRST_DECADE = 1920  # earlier years share the first bucket
LAST_DECADE = 2020  # later years share the last bucket
_DECADES = tuple(range(FIRST_DECADE, LAST_DECADE + 1, 10))
_GENRE_COLUMN = {g.casefold(): i for i, g in enumerate(MOVIELENS_GENRES)}
WIDTH = len(MOVIELENS_GENRES) + len(_DECADES)


def movie_features(movies: Iterable[Movie]) -> tuple[np.ndarray, np.ndarray]:
    """(movie ids int64[n], float32[n, WIDTH]): genre one-hots (each row's genres share a
    weight of 1) and a one-hot decade; a movie without genres or year has zeros there."""
    rows = list(movies)
    ids = np.fromiter((m.id for m in rows), dtype=np.int64, count=len(rows))
    matrix = np.zeros((len(rows), WIDTH), dtype=np.float32)
    for r, movie in enumerate(rows):
        cols = [_GENRE_COLUMN[g.casefold()] for g in movie.genres if g.casefold() in _GENRE_COLUMN]
        if cols:
            matrix[r, cols] = 1.0 / len(cols)
        if movie.year is not None:
            decade = min(max(movie.year // 10 * 10, FIRST_DECADE), LAST_DECADE)
            matrix[r, len(MOVIELENS_GENRES) + _DECADES.index(decade)] = 1.0
    return ids, matrix
