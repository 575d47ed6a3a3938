"""Implicit item-item model: EASE (Steck, WWW 2019) on the binary "rated" matrix, kept sparse.

Which movies a member chose to rate is itself strong signal ("will pick"). With ``X`` the
members x movies 0/1 matrix and ``G = XᵀX`` (co-rating counts),

    P = (G + λI)⁻¹,   B = I - P / diag(P)   (column-wise, so diag(B) = 0)

and a member's "will pick" score for every movie is ``x_u B``: a sum, over the movies they
rated, of learned item-item weights. ``λ`` is absolute (as in the paper): tuned on
ml-latest-small, one value (400) suited both 30-member guilds (co-rating counts of 1-10, where
it makes B close to shrunk co-occurrence) and the full 610-member dataset.

The dense solve runs on the ``max_items`` most-rated movies (1,000-5,000 movies: well under a
second to a minute); the others get no weights. Only the ``topk`` largest weights (by magnitude)
into each movie are kept, as a sparse matrix ``W`` (``W[j, i]`` = what having rated j adds to
i), so memory is O(movies x topk) however big the catalog. The same pass keeps the ``topk``
largest co-rating counts per movie (``co``) for the calibrated ``similar``.

Reasons come for free: the rated movie j with the largest ``W[j, i]`` is the one that
contributes most to pick i.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from .index import is_nondecreasing


def binary_matrix(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int,
                  dtype=np.float32) -> sp.csr_matrix:
    """0/1 CSR matrix with a 1 at each (row, col); duplicate pairs count once."""
    m = sp.csr_matrix((np.ones(rows.size, dtype=dtype), (rows, cols)), shape=(n_rows, n_cols))
    m.sum_duplicates()
    m.data[:] = 1
    return m


def _top_k_columns(M: np.ndarray, sel: np.ndarray, k: int, n: int,
                   by_abs: bool = True, block: int = 512) -> sp.csr_matrix:
    """Keep the k largest entries (by magnitude) of each column of the dense square ``M``
    whose rows/columns are the movie indexes ``sel``; returns an n x n CSR (zeros dropped).
    Columns are processed in blocks, so the scratch memory is O(N x block)."""
    N = M.shape[0]
    k = min(k, N)
    if N == 0 or k == 0:
        return sp.csr_matrix((n, n), dtype=np.float32)
    rows_l, cols_l, vals_l = [], [], []
    for a in range(0, N, block):
        b = min(N, a + block)
        sub = np.ascontiguousarray(M[:, a:b].T)  # one row per column: contiguous partitions
        key = np.abs(sub) if by_abs else sub
        idx = (np.argpartition(-key, k - 1, axis=1)[:, :k] if k < N
               else np.tile(np.arange(N)[None, :], (b - a, 1)))
        vals = np.take_along_axis(sub, idx, axis=1).astype(np.float32)
        rows_l.append(idx.ravel())
        cols_l.append(np.repeat(np.arange(a, b), k))
        vals_l.append(vals.ravel())
    rows, cols, vals = (np.concatenate(x) for x in (rows_l, cols_l, vals_l))
    keep = vals != 0
    W = sp.csr_matrix((vals[keep], (sel[rows[keep]], sel[cols[keep]])), shape=(n, n))
    W.sort_indices()
    return W


DENSE_GRAM_BYTES = 64 << 20  # the dense path's block (movies x members float32) at most
DENSE_GRAM_RATIO = 100.0  # dense when sel² x members <= this x the sparse product's work
# (one core: the sparse product costs ~2.5 ns per unit of work, the dense one ~14 ps per unit:
# dense was faster up to ~190x the work; ml-latest-small is at 41x, a synthetic 1e6 guild at
# 165x, 136 ms sparse / 117 ms dense)


def gram(users: np.ndarray, items: np.ndarray, n_users: int, sel: np.ndarray,
         n_items: int, *, distinct: bool = False, drop: np.ndarray | None = None) -> np.ndarray:
    """Dense co-rating counts among the movies ``sel`` (float32, sel x sel).

    Distinct pairs already sorted by movie (what ``CFModel.fit`` hands over) make the
    selected movies' rows of the movies x members matrix directly: int32 member indexes of
    the selected ratings, no COO copy and no sort (issue 24 item 5: EASE held the fit's
    memory peak at 2x10^7 ratings). ``drop``: positions of pairs left out (only with sorted
    distinct pairs).

    The product is a BLAS ``D Dᵀ`` of the dense 0/1 movies x members matrix when that
    matrix is small (``DENSE_GRAM_BYTES``) and the dense work (sel² x members) is at most
    ``DENSE_GRAM_RATIO`` times the sparse product's (the sum over members of their selected
    ratings squared): ml-latest-small's 1,000 x 610 gram 29-43 -> 7.5-10 ms CPU (issue 24
    item 4); otherwise a sparse product (large guilds: no members x movies dense matrix)."""
    sel = np.asarray(sel, dtype=np.int64)
    if distinct and is_nondecreasing(items):
        chosen = np.zeros(n_items, dtype=bool)
        chosen[sel] = True
        mask = chosen[items]
        counts = np.bincount(items, minlength=n_items)
        if drop is not None and drop.size:
            mask[drop] = False
            counts -= np.bincount(items[drop], minlength=n_items)
        counts = counts[sel]
        idx = users[mask].astype(np.int32, copy=False)
        del mask
        indptr = np.zeros(sel.size + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        dense = _dense_pays(idx, sel.size, n_users)
        Ms = sp.csr_matrix((np.ones(idx.size, dtype=np.float32), idx, indptr),
                           shape=(sel.size, n_users))
        del idx
        if dense:
            return _dense_gram(Ms)
        return (Ms @ Ms.T).toarray()  # float32: counts are exact up to 2**24
    pos = np.full(n_items, -1, dtype=np.int64)
    pos[sel] = np.arange(sel.size)
    p = pos[items]
    ok = p >= 0
    dense = _dense_pays(users[ok], sel.size, n_users)
    Xs = binary_matrix(users[ok], p[ok], n_users, sel.size)
    if dense:
        return _dense_gram(Xs.T.tocsr())
    return (Xs.T @ Xs).toarray()  # float32: counts are exact up to 2**24


def _dense_gram(Ms: sp.csr_matrix) -> np.ndarray:
    """``Ms Msᵀ`` (dense, float32) of a 0/1 movies x members CSR by BLAS ``ssyrk`` into
    one result, over blocks of at most as many members as movies (the dense block is never
    larger than the result itself)."""
    from scipy.linalg import blas

    n, n_users = Ms.shape
    step = max(1, min(n, DENSE_GRAM_BYTES // max(4 * n, 1)))
    if n_users <= step:  # one block: numpy's own syrk and mirror (7 ms vs 11 at 1,000 x 610)
        D = Ms.toarray()
        return D @ D.T
    G = np.zeros((n, n), dtype=np.float32, order="F")
    for a in range(0, n_users, step):
        block = Ms[:, a:a + step]  # a column slice of the CSR: no CSC copy
        D = block.toarray()
        del block
        # Dᵀ is Fortran-ordered (no copy): upper triangle += (Dᵀ)ᵀ Dᵀ = D Dᵀ
        G = blas.ssyrk(1.0, D.T, beta=1.0, c=G, trans=1, overwrite_c=1)
        del D
    G += np.triu(G, 1).T  # the lower triangle from the upper
    return G.T  # symmetric: the C-ordered view


def _dense_pays(members: np.ndarray, n_sel: int, n_users: int) -> bool:
    """Whether the dense gram is small enough and cheaper than the sparse one (the members'
    selected ratings ``members``, one entry per pair)."""
    if members.size == 0:
        return False
    per_member = np.bincount(members, minlength=n_users).astype(np.float64)
    return float(n_sel) ** 2 * n_users <= DENSE_GRAM_RATIO * float(per_member @ per_member)


def _spd_inverse(G: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive definite matrix in float32 (Cholesky: potrf + potri,
    about 6x faster than a float64 general inverse; G + λI is well conditioned)."""
    from scipy.linalg import cho_factor, lapack

    c, _ = cho_factor(np.asarray(G, dtype=np.float32), lower=False, overwrite_a=True,
                      check_finite=False)
    inv, info = lapack.spotri(c, lower=0, overwrite_c=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"spotri failed ({info})")
    upper = np.triu(inv, 1)
    inv = np.triu(inv)  # spotri leaves the lower triangle as it was
    inv += upper.T  # mirror the upper triangle (12 -> 4 ms at 1,000 movies: no fancy index)
    return inv


def selection(counts: np.ndarray, max_items: int) -> np.ndarray:
    """The movies an EASE solves for: the ``max_items`` most-rated (ties by index), sorted."""
    rated = np.flatnonzero(counts > 0)
    order = np.lexsort((rated, -counts[rated]))
    return np.sort(rated[order[:max_items]])


class GramShare:
    """A block of one EASE's co-rating counts handed to another: ``want`` (movie indexes,
    sorted) names the block; after the fit ``block`` holds the counts among them, or None
    when they were not all among the fit's movies. The guild's "will pick" EASE and the one
    ``pick_lift`` measures its evidence with count co-ratings over the same ratings but a
    few held out: the second takes its counts from the first's instead of a pass over every
    rating (2x10^7 ratings: one of two 3 s gram products, issue 24 item 5)."""

    def __init__(self, want: np.ndarray) -> None:
        self.want = np.asarray(want, dtype=np.int64)
        self.block: np.ndarray | None = None

    def take(self, sel: np.ndarray, G: np.ndarray) -> None:
        pos = np.searchsorted(sel, self.want)
        if self.want.size and pos.max() < sel.size and np.array_equal(sel[pos], self.want):
            self.block = G[np.ix_(pos, pos)]  # fancy indexing: a copy


class ItemItem:
    """Sparse item-item weights ``W`` and co-rating counts ``co`` over n movies."""

    def __init__(self, W: sp.csr_matrix, co: sp.csr_matrix, counts: np.ndarray) -> None:
        self.W = W.tocsr().astype(np.float32)
        self.co = co.tocsr().astype(np.float32)
        self.counts = np.asarray(counts, dtype=np.float32)  # counts: exact in float32, stored so
        self._Wc: sp.csc_matrix | None = None

    @property
    def n(self) -> int:
        return int(self.W.shape[0])

    @classmethod
    def empty(cls, n: int) -> ItemItem:
        z = sp.csr_matrix((n, n), dtype=np.float32)
        return cls(z, z, np.zeros(n))

    @classmethod
    def fit(cls, users: np.ndarray, items: np.ndarray, n_users: int, n_items: int, *,
            lam: float = 400.0, max_items: int = 3000, topk: int = 100,
            progress: Callable[[str], None] | None = None, distinct: bool = False,
            similar: bool = True, drop: np.ndarray | None = None,
            share: GramShare | None = None, given: np.ndarray | None = None) -> ItemItem:
        """EASE on the ``max_items`` most-rated movies; (user, item) duplicates count once
        (``distinct=True``: the caller guarantees there are none, and no copy is made).
        ``similar=False`` skips the co-rating counts (``co`` stays empty: a model only
        ranked, as ``pick_lift``'s). ``drop``: positions of pairs left out (a hold-out,
        without copying the others). ``share``: a block of this fit's co-rating counts to
        copy out for another EASE (``GramShare``); ``given``: the co-rating counts among the
        selected movies (``selection``), computed by the caller instead."""
        users = np.asarray(users)
        items = np.asarray(items)
        if drop is not None and drop.size and not (distinct and is_nondecreasing(items)):
            keep = np.ones(users.size, dtype=bool)
            keep[drop] = False
            users, items, drop = users[keep], items[keep], None
        if users.size and not distinct:
            users = users.astype(np.int64)
            items = items.astype(np.int64)
            code = np.unique(users * max(n_items, 1) + items)
            users, items = code // max(n_items, 1), code % max(n_items, 1)
        counts = np.bincount(items, minlength=n_items).astype(np.float64)
        if drop is not None:
            counts -= np.bincount(items[drop], minlength=n_items)
        sel = selection(counts, max_items)
        if sel.size < 2:
            return cls.empty(n_items).with_counts(counts)
        G = (np.array(given, dtype=np.float32) if given is not None
             else gram(users, items, n_users, sel, n_items, distinct=distinct, drop=drop))
        if share is not None:
            share.take(sel, G)
        if progress:
            progress("gram")
        if similar:
            co = G.copy()
            np.fill_diagonal(co, 0.0)
            co_k = _top_k_columns(co, sel, topk, n_items, by_abs=False)
            del co
        else:
            co_k = sp.csr_matrix((n_items, n_items), dtype=np.float32)
        lam = max(float(lam), 1e-3)
        G[np.diag_indices_from(G)] += lam
        P = _spd_inverse(G)
        del G
        P /= -np.diag(P)[None, :]  # B = I - P / diag(P), in place
        np.fill_diagonal(P, 0.0)
        B = P
        if progress:
            progress("solve")
        W = _top_k_columns(B, sel, topk, n_items)
        return cls(W, co_k, counts)

    def with_counts(self, counts: np.ndarray) -> ItemItem:
        self.counts = np.asarray(counts, dtype=np.float32)
        return self

    def scores(self, R: sp.spmatrix) -> np.ndarray:
        """"Will pick" scores (batch x n) for rated-sets ``R`` (batch x n, 0/1)."""
        return np.asarray((sp.csr_matrix(R, dtype=np.float32) @ self.W).toarray(),
                          dtype=np.float64)

    def weights_into(self, sources: np.ndarray, target: int) -> np.ndarray:
        """``W[j, target]`` for each source movie j (what rating j adds to ``target``)."""
        if self._Wc is None:
            self._Wc = self.W.tocsc()
            self._Wc.sort_indices()
        col = self._Wc[:, [int(target)]]
        dense = np.zeros(self.n)
        dense[col.indices] = col.data
        return dense[np.asarray(sources, dtype=np.int64)]

    def take(self, idx: np.ndarray) -> ItemItem:
        """The sub-model over movies ``idx`` (in that order; -1 = a movie with no weights)."""
        idx = np.asarray(idx, dtype=np.int64)
        ok = idx >= 0
        m = idx.size
        # selection matrix S (n x m): S[idx[a], a] = 1; sub = Sᵀ W S
        S = sp.csr_matrix((np.ones(int(ok.sum()), np.float32),
                           (idx[ok], np.flatnonzero(ok))), shape=(self.n, m))
        counts = np.zeros(m)
        counts[ok] = self.counts[idx[ok]]
        return ItemItem((S.T @ self.W @ S).tocsr(), (S.T @ self.co @ S).tocsr(), counts)

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """Flat arrays for an npz archive (float32 / int32, no pickle)."""
        out: dict[str, np.ndarray] = {}
        for name, m in (("W", self.W), ("co", self.co)):
            out[f"{prefix}{name}_data"] = m.data.astype(np.float32)
            out[f"{prefix}{name}_indices"] = m.indices.astype(np.int32)
            out[f"{prefix}{name}_indptr"] = m.indptr.astype(np.int64)
        out[f"{prefix}counts"] = self.counts.astype(np.float32)
        return out

    @classmethod
    def from_arrays(cls, z, prefix: str, n: int) -> ItemItem:
        mats = []
        for name in ("W", "co"):
            mats.append(sp.csr_matrix(
                (z[f"{prefix}{name}_data"], z[f"{prefix}{name}_indices"],
                 z[f"{prefix}{name}_indptr"]), shape=(n, n)))
        return cls(mats[0], mats[1], z[f"{prefix}counts"])


class LiftSample:
    """``pick_lift``'s hold-out: ``members`` (at most ``max_members`` sampled, sorted),
    ``row_of`` (member index -> row among them, -1 elsewhere), and the positions of their
    ratings held out (``held``) and kept (``stay``), one uniform draw per rating."""

    def __init__(self, members: np.ndarray, row_of: np.ndarray, held: np.ndarray,
                 stay: np.ndarray) -> None:
        self.members, self.row_of, self.held, self.stay = members, row_of, held, stay

    @classmethod
    def draw(cls, users: np.ndarray, n_users: int, *, seed: int = 0, holdout: float = 0.2,
             max_members: int = 300) -> LiftSample:
        rng = np.random.default_rng(seed)
        members = np.flatnonzero(np.bincount(users, minlength=n_users))
        if members.size > max_members:
            members = np.sort(rng.choice(members, size=max_members, replace=False))
        row_of = np.full(n_users, -1, dtype=np.int64)
        row_of[members] = np.arange(members.size)
        sampled = np.zeros(n_users, dtype=bool)
        sampled[members] = True
        mine = np.flatnonzero(sampled[users])  # the sampled members' ratings
        out = np.zeros(mine.size, dtype=bool)
        step = 1 << 16  # one uniform per rating, drawn in chunks (the same stream as one draw)
        for a in range(0, users.size, step):
            draw = rng.random(min(step, users.size - a))
            lo, hi = np.searchsorted(mine, [a, a + draw.size])
            out[lo:hi] = draw[mine[lo:hi] - a] < holdout
        return cls(members, row_of, mine[out], mine[~out])

    def selection(self, items: np.ndarray, n_items: int, max_items: int) -> np.ndarray:
        """The movies ``pick_lift``'s EASE solves for (the most rated, held-out left out)."""
        counts = (np.bincount(items, minlength=n_items)
                  - np.bincount(items[self.held], minlength=n_items))
        return selection(counts, max_items)

    def gram_change(self, users: np.ndarray, items: np.ndarray, sel: np.ndarray,
                    n_items: int) -> np.ndarray:
        """What holding the ratings out takes from the co-rating counts among ``sel``: the
        sampled members' counts with all their ratings minus with the kept ones."""
        pos = np.full(n_items, -1, dtype=np.int64)
        pos[sel] = np.arange(sel.size)
        change = np.zeros((sel.size, sel.size), dtype=np.float32)
        for sign, which in ((1.0, np.concatenate([self.held, self.stay])), (-1.0, self.stay)):
            p = pos[items[which]]
            ok = p >= 0
            M = binary_matrix(self.row_of[users[which][ok]], p[ok], self.members.size,
                              sel.size)
            change += sign * np.asarray((M.T @ M).toarray(), dtype=np.float32)
        return change


def pick_lift(users: np.ndarray, items: np.ndarray, n_users: int, n_items: int, *,
              lam: float, max_items: int, topk: int, seed: int = 0, k: int = 10,
              holdout: float = 0.2, max_members: int = 300, min_held: int = 30,
              batch: int = 32, sample: LiftSample | None = None,
              share: GramShare | None = None) -> float | None:
    """How much better than chance the "will pick" model finds what members rate: EASE fitted
    with ``holdout`` of the ratings (of at most ``max_members`` sampled members) left out;
    each of those members' unrated movies ranked by it; the lift is the held-out movies found
    in their top ``k`` over the number a random order finds (1 = no better than chance, as
    when members rate at random; ml-latest-small guilds of 10+ members: 5 and more). None
    when fewer than ``min_held`` ratings can be held out (too little to say). Cost: one more
    EASE solve, and ``max_members`` sparse rows times the weights, ``batch`` at a time.
    ``users``/``items`` are distinct pairs (``CFModel.fit``'s). Memory: the sampled members'
    ratings are found with one boolean a rating, the EASE leaves the held-out ones out by
    position (``drop``: no copy of the others when they come sorted by movie, as from
    ``CFModel.fit``), and only the sampled members' rows are ever built as matrices.
    ``sample``: the hold-out drawn beforehand (``LiftSample.draw`` with the same arguments);
    ``share``: the guild's own EASE's co-rating counts among ``lift_selection``'s movies
    (``GramShare``), from which this EASE's are the sampled members' change: the same
    counts, exactly (integers in float32), without a pass over every rating."""
    users = np.asarray(users)
    items = np.asarray(items)
    if sample is None:
        sample = LiftSample.draw(users, n_users, seed=seed, holdout=holdout,
                                 max_members=max_members)
    members, row_of, held, stay = sample.members, sample.row_of, sample.held, sample.stay
    if held.size < min_held:
        return None
    given = None
    if (share is not None and share.block is not None
            and np.array_equal(sample.selection(items, n_items, max_items), share.want)):
        given = share.block - sample.gram_change(users, items, share.want, n_items)
    model = ItemItem.fit(users, items, n_users, n_items, lam=lam, max_items=max_items,
                         topk=topk, distinct=True, similar=False, drop=held, given=given)
    # movies anyone here rated, the held-out ratings left out
    guild = (np.bincount(items, minlength=n_items)
             - np.bincount(items[held], minlength=n_items)) > 0
    if not model.W.nnz:
        return None
    kept = binary_matrix(row_of[users[stay]], items[stay], members.size, n_items)
    tests = binary_matrix(row_of[users[held]], items[held], members.size, n_items)
    tests = tests.multiply(guild[None, :]).tocsr()
    found = expected = 0.0
    outside = np.flatnonzero(~guild)
    n_guild = int(guild.sum())
    W = model.W.astype(np.float32, copy=False)
    for a in range(0, members.size, batch):
        rows = kept[a:a + batch]
        # minus the scores, float32 (the weights' own precision: the same order as float64)
        neg = np.asarray((rows @ W).toarray(), dtype=np.float32)
        np.negative(neg, out=neg)
        neg[:, outside] = np.inf
        neg[rows.nonzero()] = np.inf  # what the member rated is not ranked
        pool = n_guild - np.diff(rows.indptr)  # the guild's movies the member has not rated
        n_test = np.asarray(tests[a:a + batch].sum(axis=1)).ravel()
        ok = (pool > k) & (n_test > 0)
        if not ok.any():
            continue
        top = np.argpartition(neg[ok], k - 1, axis=1)[:, :k]
        hits = np.take_along_axis(tests[a:a + batch][ok].toarray(), top, axis=1)
        found += float(hits.sum())
        expected += float((k * n_test[ok] / pool[ok]).sum())
    return float(found / expected) if expected > 0 else None


def zscore_rows(S: np.ndarray) -> np.ndarray:
    """Each row minus its mean, divided by its standard deviation (rows of zeros stay 0)."""
    S = np.asarray(S, dtype=np.float64)
    mu = S.mean(axis=1, keepdims=True)
    sd = S.std(axis=1, keepdims=True)
    return np.divide(S - mu, sd, out=np.zeros_like(S), where=sd > 1e-12)
