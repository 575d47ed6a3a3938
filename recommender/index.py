"""Id maps and the sparse rating structure built once per fit and reused by every cost call."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


class IdIndex:
    """Maps arbitrary int64 ids to dense indexes 0..n-1 (binary search over a sorted copy).

    A fit indexes ids in sorted order; ``append`` adds an id at the end (fold-in of a new
    member) without renumbering the others. Ids that span a small range (catalog movie ids)
    are looked up in a direct table instead: O(1) per id, ~15x faster than the binary search
    on millions of ratings; snowflake ids (members) keep the binary search.
    """

    TABLE_SLACK = 4  # a direct table is used when max - min < TABLE_SLACK x ids + 4096

    def __init__(self, ids: np.ndarray, *, presorted_unique: bool = False) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        self.ids = ids if presorted_unique else distinct_ids(ids)
        self._reindex()

    @classmethod
    def indexed(cls, values: np.ndarray, dtype=np.int64) -> tuple[IdIndex, np.ndarray]:
        """The index of the distinct ``values`` and each value's dense index (``dtype``;
        int32 halves the positions a fit holds, issue 24 item 5), in one pass: a fit's member
        and movie columns. Snowflakes go through one argsort (0.24 s for 5x10^6 values,
        against 0.59 s for a hash unique then a binary search per value)."""
        values = np.asarray(values, dtype=np.int64)
        dt = np.dtype(dtype) if values.size < np.iinfo(dtype).max else np.dtype(np.int64)
        lo = _small_range(values) if values.size else None
        if values.size == 0 or lo is not None:
            index = cls(values if lo is None else _present(values, lo), presorted_unique=True)
            table = index._table
            if table is None or values.size == 0:
                return index, index.lookup(values).astype(dt, copy=False)
            positions = np.empty(values.size, dtype=dt)
            step = 1 << 20  # every value is in the table: no bounds pass, bounded temporaries
            for a in range(0, values.size, step):
                np.take(table, values[a:a + step] - index._lo, out=positions[a:a + step],
                        mode="clip")
            return index, positions
        if is_nondecreasing(values):
            # the refit worker's member column: both stores read a guild's ratings ordered by
            # member id (their primary key's order): no sort, nor its order and sorted copy
            # (16 bytes a value; shuffled, 2x10^7 snowflakes took 4.3 s to arg-sort)
            first = np.empty(values.size, dtype=bool)
            first[0] = True
            np.not_equal(values[1:], values[:-1], out=first[1:])
            index = cls(values[first], presorted_unique=True)
            positions = np.cumsum(first, dtype=dt)
            positions -= 1
            return index, positions
        order = np.argsort(values)
        ordered = values[order]
        first = np.empty(ordered.size, dtype=bool)
        first[0] = True
        np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
        index = cls(ordered[first], presorted_unique=True)
        del ordered
        rank = np.cumsum(first, dtype=dt)
        del first
        rank -= 1
        positions = np.empty_like(rank)
        positions[order] = rank
        return index, positions

    def _reindex(self) -> None:
        # sorted ids (every fit's index) keep no permutation: 8 bytes an id less
        self._identity = bool(np.all(self.ids[1:] > self.ids[:-1]))
        self._sorter = (np.zeros(0, dtype=np.intp) if self._identity
                        else np.argsort(self.ids, kind="stable"))
        self._sorted = self.ids if self._identity else self.ids[self._sorter]
        self._table: np.ndarray | None = None
        if self.ids.size:
            lo, hi = int(self._sorted[0]), int(self._sorted[-1])
            if lo >= 0 and hi - lo < self.TABLE_SLACK * self.ids.size + 4096:
                self._lo = lo
                self._table = np.full(hi - lo + 1, -1, dtype=np.int64)
                self._table[self.ids - lo] = np.arange(self.ids.size)

    def __len__(self) -> int:
        return int(self.ids.size)

    def append(self, id_: int) -> int:
        self.ids = np.append(self.ids, np.int64(id_))
        self._reindex()
        return self.ids.size - 1

    def lookup(self, ids) -> np.ndarray:
        """Dense index of each id, -1 where unknown (int64; no n-sized temporaries beyond it)."""
        ids = np.atleast_1d(np.asarray(ids, dtype=np.int64))
        if self.ids.size == 0:
            return np.full(ids.shape, -1, dtype=np.int64)
        if self._table is not None:
            off = ids - self._lo
            outside = (off < 0) | (off >= self._table.size)
            off[outside] = 0
            out = self._table[off]
            out[outside] = -1
            return out
        pos = np.searchsorted(self._sorted, ids)
        np.minimum(pos, self.ids.size - 1, out=pos)
        miss = self._sorted[pos] != ids
        if not self._identity:
            np.take(self._sorter, pos, out=pos)
        pos[miss] = -1
        return pos

    def get(self, id_) -> int:
        return int(self.lookup([id_])[0])


def _small_range(ids: np.ndarray) -> int | None:
    """The smallest id when the ids are non-negative and span no more values than there are
    ids (catalog movie ids): then distinct ids come from a bincount; else None."""
    lo, hi = int(ids.min()), int(ids.max())
    return lo if lo >= 0 and hi - lo < max(ids.size, 4096) else None


def distinct_ids(ids) -> np.ndarray:
    """Sorted distinct int64 ids: a bincount over a small range (~20x faster than
    ``np.unique``'s hash on millions of catalog ids: the refit worker's movie column, 2x10^7
    ratings 3.9 -> 0.07 s), ``np.unique`` otherwise."""
    ids = np.asarray(ids, dtype=np.int64).ravel()
    lo = _small_range(ids) if ids.size else None
    return np.unique(ids) if lo is None else _present(ids, lo)


def count_distinct(ids) -> int:
    """How many distinct ids: one pass over ids in order (a store's member column), a bincount
    over a small range (catalog movie ids), ``np.unique`` otherwise."""
    ids = np.asarray(ids, dtype=np.int64).ravel()
    if ids.size == 0:
        return 0
    if is_nondecreasing(ids):
        step, changes = 1 << 20, 0
        for a in range(0, ids.size - 1, step):
            b = min(ids.size - 1, a + step)
            changes += int(np.count_nonzero(ids[a + 1:b + 1] != ids[a:b]))
        return 1 + changes
    return int(distinct_ids(ids).size)


def is_nondecreasing(values: np.ndarray, step: int = 1 << 20) -> bool:
    """Whether ``values`` never decrease (checked in bounded chunks: no n-sized temporary)."""
    for a in range(0, max(values.size - 1, 0), step):
        chunk = values[a:a + step + 1]
        if np.any(chunk[1:] < chunk[:-1]):
            return False
    return True


def _present(ids: np.ndarray, lo: int) -> np.ndarray:
    """Sorted distinct ids of a small range starting at ``lo`` (one bincount)."""
    return np.flatnonzero(np.bincount(ids - lo)).astype(np.int64) + lo


def last_by_key(keys: np.ndarray) -> np.ndarray:
    """Index of the last occurrence of each distinct key, in increasing key order.

    An unstable argsort plus a per-group maximum: ~15x faster than ``np.unique`` on 5x10^6
    int64 keys (numpy 2's hash-based unique is slow when nearly every key is distinct).
    """
    keys = np.asarray(keys)
    if keys.size == 0:
        return np.zeros(0, dtype=np.intp)
    packed = _last_by_packed_key(keys)
    if packed is not None:
        return packed
    order = np.argsort(keys)
    sk = keys[order]
    starts = np.flatnonzero(sk[1:] != sk[:-1])
    del sk
    if starts.size == keys.size - 1:  # all distinct: the common case
        return order
    starts += 1
    return np.maximum.reduceat(order, np.concatenate(([0], starts)))


def dedupe_last(keys: np.ndarray) -> np.ndarray:
    """Sorted indexes of the last occurrence of each key (e.g. a (user, movie) pair code)."""
    return np.sort(last_by_key(keys))


class RatingMatrix:
    """Observed ratings sorted by movie (then member), plus a movies x members CSR whose data
    is the objective's error buffer.

    ``err_matrix(err)`` is a CSR whose data is ``err``: the factor gradients are
    ``E @ Theta`` and ``E.T @ X`` (a CSC view, no copy), both O(ratings x k). Input already in
    that order (``CFModel.fit`` sorts while it removes duplicates) is used as is, with no copy
    of the index arrays: ``order`` is then None; otherwise ``order`` sorts per-rating arrays
    into this order (``arrange``). Index arrays are int32 (both CSR index arrays share one
    dtype, so scipy never copies them).
    """

    def __init__(self, movie_idx: np.ndarray, user_idx: np.ndarray, n_movies: int,
                 n_users: int) -> None:
        movie_idx = np.asarray(movie_idx)
        user_idx = np.asarray(user_idx)
        if _is_sorted(movie_idx, user_idx):
            self.order: np.ndarray | None = None
            self.user = user_idx.astype(np.int32, copy=False)
        else:
            order = np.lexsort((user_idx, movie_idx))
            self.order = order
            self.user = user_idx[order].astype(np.int32, copy=False)
        self.n_movies = n_movies
        self.n_users = n_users
        # the movie of each rating is implied by indptr: no reference kept (the caller may
        # free its movie column while training, issue 24 item 5)
        self.counts = np.bincount(movie_idx, minlength=n_movies)
        big = self.user.size >= 2**31 - 1
        indptr = np.zeros(n_movies + 1, dtype=np.int64 if big else np.int32)
        np.cumsum(self.counts, out=indptr[1:])
        self.indptr = indptr
        self._indices = self.user.astype(np.int64) if big else self.user

    def arrange(self, values: np.ndarray) -> np.ndarray:
        """Per-rating values (in the input order) in this matrix's order."""
        return values if self.order is None else values[self.order]

    def err_matrix(self, err: np.ndarray) -> sp.csr_matrix:
        """A CSR over this structure whose data is ``err`` itself (shared, not copied): the
        caller keeps it and rewrites ``err`` in place between products."""
        E = sp.csr_matrix((err, self._indices, self.indptr), shape=(self.n_movies, self.n_users),
                          copy=False)
        E.has_sorted_indices = True
        assert np.shares_memory(E.data, err)
        return E


def _is_sorted(movie_idx: np.ndarray, user_idx: np.ndarray) -> bool:
    """Whether ratings are ordered by movie, then member (checked in bounded chunks)."""
    n = movie_idx.size
    step = 1 << 20
    for a in range(0, max(n - 1, 0), step):
        b = min(n, a + step + 1)
        m, u = movie_idx[a:b], user_idx[a:b]
        dm = np.diff(m)
        if np.any(dm < 0) or np.any((dm == 0) & (np.diff(u) < 0)):
            return False
    return True


def _sorted_packed(keys: np.ndarray) -> tuple[np.ndarray, int] | None:
    """Non-negative integer keys shifted left by the bits of a position, the position in the
    low bits, sorted (one sort of values: equal keys stay in input order), and those bits;
    None when the keys are not such integers or key and position do not fit in 63 bits. A
    plain sort of int64 is ~2x faster than an argsort (2x10^7 keys: 1.8 against 3.7 s)."""
    if keys.size == 0 or keys.dtype.kind not in "iu":
        return None
    bits = max(1, int(keys.size - 1).bit_length())
    if int(keys.min()) < 0 or int(keys.max()).bit_length() + bits > 63:
        return None
    packed = keys.astype(np.int64)  # a copy: shifted in place below
    np.left_shift(packed, bits, out=packed)
    packed |= np.arange(keys.size, dtype=np.int64)
    packed.sort()
    return packed, bits


def stable_order(keys: np.ndarray) -> np.ndarray:
    """``np.argsort(keys, kind="stable")``, by one sort of packed (key, position) values where
    they fit (``_sorted_packed``; 2x10^7 member indexes: 2.5 -> 2.1 s)."""
    keys = np.asarray(keys)
    found = _sorted_packed(keys)
    if found is None:
        return np.argsort(keys, kind="stable")
    packed, bits = found
    np.bitwise_and(packed, np.int64((1 << bits) - 1), out=packed)
    return packed.astype(np.intp, copy=False)


def _last_by_packed_key(keys: np.ndarray) -> np.ndarray | None:
    """``last_by_key`` by ``_sorted_packed`` (the last of a run of equal keys is their last
    occurrence); None where the packing does not fit (the argsort then)."""
    found = _sorted_packed(keys)
    if found is None:
        return None
    packed, bits = found
    order = np.bitwise_and(packed, np.int64((1 << bits) - 1)).astype(np.intp, copy=False)
    np.right_shift(packed, bits, out=packed)  # the keys, sorted
    last = np.empty(keys.size, dtype=bool)
    np.not_equal(packed[1:], packed[:-1], out=last[:-1])
    last[-1] = True
    del packed
    if last.all():  # all distinct: the common case
        return order
    return order[last]
