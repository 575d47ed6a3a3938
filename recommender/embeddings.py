"""The public embedding API of a fitted model: movie and member vectors with their ids.

``CFModel.embeddings()`` returns an :class:`Embeddings` copy: what pictures (the /taste map)
and any other reader of the learned taste space use instead of the model's internal arrays.
The copy is taken at once, so a later fold-in (which writes member rows) never changes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Embeddings:
    """Movie and member vectors of one fitted model (rows follow the id arrays).

    ``movie_vectors`` (movies x k) and ``member_vectors`` (members x k) are the rating
    model's factors (prediction = movie . member + biases); ``support`` is the number of
    the guild's ratings behind each movie (0 for a candidate only the taste prior knows).
    ``CFModel.rated_rows`` gives members' rated movies as rows of ``movie_ids``."""

    movie_ids: np.ndarray
    movie_vectors: np.ndarray
    support: np.ndarray
    member_ids: np.ndarray
    member_vectors: np.ndarray

    @property
    def features(self) -> int:
        return int(self.movie_vectors.shape[1]) if self.movie_vectors.ndim == 2 else 0

    def member_row(self, member_id: int) -> int:
        """The row of ``member_id`` in ``member_vectors`` (-1 if the model does not know
        them)."""
        hit = np.flatnonzero(self.member_ids == int(member_id))
        return int(hit[0]) if hit.size else -1
