"""Id maps and the sparse rating structure built once per fit and reused by every cost call."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


class IdIndex:
    """Maps arbitrary int64 ids to dense indexes 0..n-1 (binary search over a sorted copy).

    A fit indexes ids in sorted order; ``append`` adds an id at the end (fold-in of a new
    member) without renumbering the others.
    """

    def __init__(self, ids: np.ndarray, *, presorted_unique: bool = False) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        self.ids = ids if presorted_unique else np.unique(ids)
        self._reindex()

    def _reindex(self) -> None:
        self._sorter = np.argsort(self.ids, kind="stable")
        self._sorted = self.ids[self._sorter]

    def __len__(self) -> int:
        return int(self.ids.size)

    def append(self, id_: int) -> int:
        self.ids = np.append(self.ids, np.int64(id_))
        self._reindex()
        return self.ids.size - 1

    def lookup(self, ids) -> np.ndarray:
        """Dense index of each id, -1 where unknown."""
        ids = np.atleast_1d(np.asarray(ids, dtype=np.int64))
        if self.ids.size == 0:
            return np.full(ids.shape, -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self._sorted, ids), self.ids.size - 1)
        return np.where(self._sorted[pos] == ids, self._sorter[pos], -1).astype(np.int64)

    def get(self, id_) -> int:
        return int(self.lookup([id_])[0])


def dedupe_last(keys: np.ndarray) -> np.ndarray:
    """Sorted indexes of the last occurrence of each key (e.g. a (user, movie) pair code)."""
    _, first_of_reversed = np.unique(keys[::-1], return_index=True)
    return np.sort(keys.size - 1 - first_of_reversed)


class RatingMatrix:
    """Observed ratings sorted by movie, plus a movies x users CSR whose data is overwritten.

    ``err_matrix(err)`` reuses one CSR object: X-gradient is ``E @ Theta`` and the Theta-gradient
    ``E.T @ X`` (a CSC view, no copy), both O(ratings x k).
    """

    def __init__(self, movie_idx: np.ndarray, user_idx: np.ndarray, n_movies: int,
                 n_users: int, dtype=np.float32) -> None:
        order = np.lexsort((user_idx, movie_idx))
        self.order: np.ndarray | None = order
        self.movie = movie_idx[order].astype(np.int32)
        self.user = user_idx[order].astype(np.int32)
        self.n_movies = n_movies
        self.n_users = n_users
        indptr = np.zeros(n_movies + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.movie, minlength=n_movies), out=indptr[1:])
        self._E = sp.csr_matrix(
            (np.zeros(self.movie.size, dtype=dtype), self.user, indptr),
            shape=(n_movies, n_users),
        )
        self._E.has_sorted_indices = True

    def err_matrix(self, err: np.ndarray) -> sp.csr_matrix:
        self._E.data = err
        return self._E
