"""Regularised squared-error cost and its analytic gradient over observed ratings only.

Parameters are packed in one flat float64 vector for ``scipy.optimize.minimize(method="CG")``:
``[X (movies x k), Theta (members x k), b_movie (movies), b_member (members)]``.

    pred_r = b_movie[i] + b_member[u] + X[i] . Theta[u]        (for each observed rating r)
    J = 1/2 sum_r (pred_r - y_r)^2 + reg/2 (|X - X0|^2 + |Theta|^2)
        + reg_bias/2 (|b_movie|^2 + |b_member|^2)

``X0`` is the prior target of the movie factors (``x_prior``; zero without a taste prior, the
plain L2 penalty): with a prior the fit is the MAP estimate under a Gaussian prior centred on
the prior's movie factors (see ``prior.py``).

``y`` is the rating minus its movie's shrunk mean, in rating units. Every evaluation is
O(ratings x k) with bounded scratch memory:

- residuals: the factors are augmented with the biases, ``Xa = [X | b_movie | 1]`` and
  ``Ta = [Theta | 1 | b_member]``, so ``pred_r = Xa[i] . Ta[u]``. Ratings are sorted by movie
  (``RatingMatrix``) and processed in chunks of whole movies of about ``chunk`` ratings: the
  movie side is ``np.repeat`` of a contiguous block of ``Xa`` (no gather), the member side one
  row gather of ``Ta``, then one row-wise dot: an in-place product and a BLAS matrix-vector
  product with a vector of ones (22% faster than ``einsum("ij,ij->i")`` on 10^6 ratings).
  The scratch is two chunk x (k+2) buffers (a few MB), not two ratings x k arrays: the chunks
  stay in cache and the memory at fit time no longer grows by 80 bytes a rating.
- gradients: two sparse x dense products on the same structure, ``E @ Ta`` (the X and movie-bias
  gradients at once) and ``E.T @ Xa`` (Theta and member biases), E being the CSR whose data is
  the error buffer itself. No dense members x movies matrix.
- member blocks: with more members than fit ``MEMBER_BLOCK_BYTES`` of ``Ta`` rows (a cache-sized
  slice, ~22,000 members at k = 10), the ratings are ordered by member block, then movie, and
  every pass above runs block by block: the member rows each block gathers, and the gradient
  rows each block's ``E_b.T @ Xa`` writes, stay in the core's cache instead of being fetched
  from anywhere in a table of 10 MB (2x10^7 ratings of 200,000 members: the gather 0.44 ->
  0.15 s and the two products 0.46 -> 0.18 s an evaluation; issue 24 item 5). Movie-sorted
  within each block, so the movie side is still a repeat of contiguous rows. Only where it
  costs at most ``BLOCK_POINTER_BYTES`` a rating of per-block movie pointers.
"""

from __future__ import annotations

import itertools

import numpy as np
import scipy.sparse as sp

from .index import RatingMatrix

MEMBER_BLOCK_BYTES = 1 << 20  # Ta rows per member block: about one core's L2 cache
BLOCK_POINTER_BYTES = 2.0  # per rating: the most the blocks' movie pointers may cost


class Layout:
    """Slices of the packed parameter vector."""

    def __init__(self, n_movies: int, n_users: int, k: int) -> None:
        self.n_movies, self.n_users, self.k = n_movies, n_users, k
        self.sx = slice(0, n_movies * k)
        self.st = slice(self.sx.stop, self.sx.stop + n_users * k)
        self.sbi = slice(self.st.stop, self.st.stop + n_movies)
        self.sbu = slice(self.sbi.stop, self.sbi.stop + n_users)
        self.size = self.sbu.stop

    def unpack(self, params: np.ndarray, dtype=np.float32):
        p = params.astype(dtype, copy=False)
        return (
            p[self.sx].reshape(self.n_movies, self.k),
            p[self.st].reshape(self.n_users, self.k),
            p[self.sbi],
            p[self.sbu],
        )

    def pack(self, X, T, bi, bu) -> np.ndarray:
        return np.concatenate([np.ravel(X), np.ravel(T), np.ravel(bi), np.ravel(bu)]).astype(
            np.float64
        )


class MemberBlock:
    """The ratings of members ``u0 <= u < u1``, positions ``r0 <= r < r1`` of the objective's
    order, by movie: ``indptr`` (movie pointers relative to ``r0``), ``counts`` (ratings per
    movie), ``user`` (member indexes relative to ``u0``), ``chunks`` (movie ranges of about
    ``chunk`` ratings) and ``E`` (the movies x block-members CSR whose data is the block's
    slice of the error buffer)."""

    def __init__(self, u0: int, u1: int, r0: int, indptr: np.ndarray, user: np.ndarray,
                 err: np.ndarray, n_movies: int, chunk: int,
                 E: sp.csr_matrix | None = None) -> None:
        self.u0, self.u1, self.r0 = u0, u1, r0
        self.r1 = r0 + int(indptr[-1])
        self.indptr, self.user = indptr, user
        self.counts = np.diff(indptr)  # ratings per movie (the movie rows' repeats): once
        self.chunks = _movie_blocks(indptr, chunk)
        data = err[self.r0:self.r1]
        # scipy copies a view of less than half its base (``prune``): a block's matrix is
        # pointed back at the error buffer and the member column, and its transpose (made
        # once: ``E.T`` per evaluation could copy too) at the matrix's own arrays
        if E is None:
            E = sp.csr_matrix((data, user, indptr), shape=(n_movies, u1 - u0), copy=False)
            E.has_sorted_indices = True
            E.data, E.indices = data, user
        Et = E.T
        Et.data, Et.indices = E.data, E.indices
        assert data.size == 0 or (np.shares_memory(E.data, err)
                                  and np.shares_memory(Et.data, err))
        self.E, self.Et = E, Et

    @property
    def widest(self) -> int:
        ptr = self.indptr
        return max((int(ptr[j1] - ptr[j0]) for j0, j1 in self.chunks), default=0)


class Objective:
    """Callable returning ``(cost, gradient)`` for the packed parameters."""

    def __init__(self, rm: RatingMatrix, y: np.ndarray, k: int, reg: float, reg_bias: float,
                 dtype=np.float32, *, x_prior: np.ndarray | None = None,
                 chunk: int = 1 << 14, offset: np.ndarray | None = None,
                 member_block: int | None = None) -> None:
        """``offset`` (per movie): a constant added to every prediction of that movie, so
        ``y`` may be the ratings themselves and no residual array exists (it rides in the
        movie-bias column of ``Xa``, whose gradient does not depend on it).
        ``member_block``: members per block (None: ``MEMBER_BLOCK_BYTES`` of ``Ta`` rows,
        where the blocks' pointers cost at most ``BLOCK_POINTER_BYTES`` a rating; 0: one
        block). With more than one block the objective's order of the ratings (``y``,
        ``residuals``) is by block, then movie: ``block_order`` gives it."""
        self.layout = Layout(rm.n_movies, rm.n_users, k)
        self.reg, self.reg_bias = float(reg), float(reg_bias)
        self.dtype = dtype
        self.evaluations = 0
        self.x_prior = (None if x_prior is None
                        else np.ascontiguousarray(x_prior, dtype=np.float64).ravel())
        self.offset = None if offset is None else np.asarray(offset, dtype=np.float64)
        chunk = max(1, int(chunk))
        y = np.asarray(y, dtype=dtype)  # sorted like rm (by movie)
        self._err = np.empty(rm.user.size, dtype=dtype)
        size = member_block_size(rm, k, np.dtype(dtype).itemsize, member_block)
        if size >= rm.n_users:
            self.y = y
            self.member_block = rm.n_users
            self.blocks = [MemberBlock(0, rm.n_users, 0, rm.indptr, rm.user, self._err,
                                       rm.n_movies, chunk, rm.err_matrix(self._err))]
        else:
            self.member_block = size
            self.y, self.blocks = _by_member_block(rm, y, size, self._err, chunk)
        del y
        widest = max((b.widest for b in self.blocks), default=0)
        self._idx = np.empty(widest, dtype=np.intp)  # np.take is slower with int32 indexes
        self._t = np.empty((widest, k + 2), dtype=dtype)
        self._e64 = np.empty(widest, dtype=np.float64)
        self._ones = np.ones(k + 2, dtype=dtype)

    def block_order(self, rm: RatingMatrix) -> np.ndarray | None:
        """Positions in ``rm``'s order (by movie) of the objective's ratings (None: the
        same order)."""
        if len(self.blocks) == 1:
            return None
        return np.argsort(rm.user // self.member_block, kind="stable")

    def _augmented(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``Xa = [X | b_movie | 1]`` and ``Ta = [Theta | 1 | b_member]`` in the fit dtype."""
        lay, k = self.layout, self.layout.k
        Xa = np.empty((lay.n_movies, k + 2), dtype=self.dtype)
        Ta = np.empty((lay.n_users, k + 2), dtype=self.dtype)
        Xa[:, :k] = params[lay.sx].reshape(lay.n_movies, k)
        Xa[:, k] = params[lay.sbi] if self.offset is None else params[lay.sbi] + self.offset
        Xa[:, k + 1] = 1.0
        Ta[:, :k] = params[lay.st].reshape(lay.n_users, k)
        Ta[:, k] = 1.0
        Ta[:, k + 1] = params[lay.sbu]
        return Xa, Ta

    def _residuals(self, Xa: np.ndarray, Ta: np.ndarray) -> tuple[np.ndarray, float]:
        """pred - y into the error buffer, and the float64 sum of its squares."""
        err, y = self._err, self.y
        sq = 0.0
        for block in self.blocks:
            Tb = Ta[block.u0:block.u1]
            ptr, user, r0 = block.indptr, block.user, block.r0
            for j0, j1 in block.chunks:
                a, b = int(ptr[j0]), int(ptr[j1])
                if a == b:
                    continue
                c = b - a
                idx = self._idx[:c]
                np.copyto(idx, user[a:b])
                # mode "clip" (the indexes are in range by construction): "raise" buffers
                # the output and checks every index (2x10^6 ratings: 45 -> 34 ms a call)
                t = np.take(Tb, idx, axis=0, out=self._t[:c], mode="clip")
                x = np.repeat(Xa[j0:j1], block.counts[j0:j1], axis=0)
                np.multiply(x, t, out=x)
                e = np.matmul(x, self._ones, out=err[r0 + a:r0 + b])  # row sums (BLAS gemv)
                np.subtract(e, y[r0 + a:r0 + b], out=e)
                e64 = self._e64[:c]
                np.copyto(e64, e)
                sq += float(np.dot(e64, e64))
        return err, sq

    def residuals(self, params: np.ndarray) -> np.ndarray:
        """pred - y for every observed rating, in the objective's order (``block_order``; a
        view of an internal buffer)."""
        return self._residuals(*self._augmented(params))[0]

    def _products(self, Xa: np.ndarray, Ta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``E @ Ta`` (movies x (k+2)) and ``E.T @ Xa`` (members x (k+2)), block by block."""
        if len(self.blocks) == 1:
            block = self.blocks[0]
            return block.E @ Ta, block.Et @ Xa
        GX = np.zeros_like(Xa)
        GT = np.empty_like(Ta)
        for block in self.blocks:
            GX += block.E @ Ta[block.u0:block.u1]
            GT[block.u0:block.u1] = block.Et @ Xa
        return GX, GT

    def __call__(self, params: np.ndarray) -> tuple[float, np.ndarray]:
        self.evaluations += 1
        lay, k = self.layout, self.layout.k
        p64 = np.asarray(params, dtype=np.float64)
        Xa, Ta = self._augmented(p64)
        _, sq = self._residuals(Xa, Ta)
        cost = 0.5 * sq
        dx = p64[lay.sx] if self.x_prior is None else p64[lay.sx] - self.x_prior
        cost += 0.5 * self.reg * float(np.dot(dx, dx) + np.dot(p64[lay.st], p64[lay.st]))
        cost += 0.5 * self.reg_bias * float(
            np.dot(p64[lay.sbi], p64[lay.sbi]) + np.dot(p64[lay.sbu], p64[lay.sbu])
        )
        grad = np.empty(lay.size, dtype=np.float64)
        # GX: [dJ/dX | dJ/db_movie | (unused)], GT: [dJ/dTheta | (unused) | dJ/db_member]
        GX, GT = self._products(Xa, Ta)
        # the penalty's gradient written in place, the products' added from their columns:
        # no raveled copies or temporaries of 4x10^6 parameters a call (2x10^7 ratings: 3.7 s
        # of 47 in the objective), the same sums (addition commutes exactly)
        gx = grad[lay.sx].reshape(lay.n_movies, k)
        np.multiply(dx.reshape(lay.n_movies, k), self.reg, out=gx)
        gx += GX[:, :k]
        gt = grad[lay.st].reshape(lay.n_users, k)
        np.multiply(p64[lay.st].reshape(lay.n_users, k), self.reg, out=gt)
        gt += GT[:, :k]
        np.multiply(p64[lay.sbi], self.reg_bias, out=grad[lay.sbi])
        grad[lay.sbi] += GX[:, k]
        np.multiply(p64[lay.sbu], self.reg_bias, out=grad[lay.sbu])
        grad[lay.sbu] += GT[:, k + 1]
        return cost, grad


def member_block_size(rm: RatingMatrix, k: int, itemsize: int,
                      requested: int | None = None) -> int:
    """Members per block (``rm.n_users`` or more: one block). ``requested``: None = the
    cache-sized default where its pointers are cheap enough, 0 = one block."""
    n = int(rm.user.size)
    if requested is not None:
        return rm.n_users if requested <= 0 else int(requested)
    size = max(1, MEMBER_BLOCK_BYTES // ((k + 2) * itemsize))
    blocks = -(-rm.n_users // size)
    if blocks <= 1 or n >= 2**31 - 1 or blocks * (rm.n_movies + 1) * 4 > BLOCK_POINTER_BYTES * n:
        return rm.n_users
    return size


def _by_member_block(rm: RatingMatrix, y: np.ndarray, size: int, err: np.ndarray,
                     chunk: int) -> tuple[np.ndarray, list[MemberBlock]]:
    """``y`` in block order and the blocks, built one block at a time (a boolean and the
    block's positions at a time: no per-rating permutation array)."""
    user = rm.user
    out_y = np.empty_like(y)
    local = np.empty(user.size, dtype=np.int32)
    blocks: list[MemberBlock] = []
    r0 = 0
    for u0 in range(0, rm.n_users, size):
        u1 = min(u0 + size, rm.n_users)
        sel = np.flatnonzero((user >= u0) & (user < u1))
        r1 = r0 + sel.size
        out_y[r0:r1] = y[sel]
        np.subtract(user[sel], u0, out=local[r0:r1], casting="unsafe")
        movie = np.searchsorted(rm.indptr, sel, side="right") - 1
        del sel
        indptr = np.zeros(rm.n_movies + 1, dtype=np.int32)
        np.cumsum(np.bincount(movie, minlength=rm.n_movies), out=indptr[1:])
        del movie
        blocks.append(MemberBlock(u0, u1, r0, indptr, local[r0:r1], err, rm.n_movies, chunk))
        r0 = r1
    return out_y, blocks


def _movie_blocks(indptr: np.ndarray, chunk: int) -> list[tuple[int, int]]:
    """Consecutive movie ranges [j0, j1) of about ``chunk`` ratings each (a movie with more
    ratings than ``chunk`` is a block of its own)."""
    n_movies = indptr.size - 1
    if n_movies <= 0:
        return []
    total = int(indptr[-1])
    cuts = np.searchsorted(indptr, np.arange(chunk, total, chunk), side="right") - 1
    bounds = np.unique(np.concatenate(([0], cuts, [n_movies])))
    return [(int(j0), int(j1)) for j0, j1 in itertools.pairwise(bounds) if j1 > j0]
