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
O(ratings x k): one gather + row-wise dot, then two sparse (CSR/CSC) x dense products and two
bincounts, all on the index structure built once per fit. No dense members x movies matrix.
The gather + dot runs in chunks of ``chunk`` ratings, so the scratch memory is bounded
(a 32M-rating prior does not need two 32M x k buffers).
"""

from __future__ import annotations

import numpy as np

from .index import RatingMatrix


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


class Objective:
    """Callable returning ``(cost, gradient)`` for the packed parameters."""

    def __init__(self, rm: RatingMatrix, y: np.ndarray, k: int, reg: float, reg_bias: float,
                 dtype=np.float32, *, x_prior: np.ndarray | None = None,
                 chunk: int = 1 << 20) -> None:
        self.rm = rm
        self.y = np.asarray(y, dtype=dtype)  # sorted like rm (by movie)
        self.layout = Layout(rm.n_movies, rm.n_users, k)
        self.reg, self.reg_bias = float(reg), float(reg_bias)
        self.dtype = dtype
        self.evaluations = 0

        n = rm.movie.size
        self.x_prior = (None if x_prior is None
                        else np.ascontiguousarray(x_prior, dtype=np.float64).ravel())
        self.chunk = max(1, int(chunk))
        c = min(n, self.chunk)
        # buffers reused by every evaluation (fresh multi-MB arrays cost page faults each call)
        self._a = np.empty((c, k), dtype=dtype)
        self._b = np.empty((c, k), dtype=dtype)
        self._idx = np.empty(c, dtype=np.intp)  # np.take is ~8x slower with int32 indexes
        self._ones_u = np.ones(rm.n_users, dtype=dtype)
        self._ones_m = np.ones(rm.n_movies, dtype=dtype)
        self._err = np.empty(n, dtype=dtype)
        self._tmp = np.empty(n, dtype=dtype)
        self._movie = rm.movie  # int32: half the index memory of intp at 32M ratings
        self._user = rm.user

    def residuals(self, params: np.ndarray) -> np.ndarray:
        """pred - y for every observed rating (a view of an internal buffer)."""
        X, T, bi, bu = self.layout.unpack(params, self.dtype)
        err, tmp = self._err, self._tmp
        n = err.size
        k = self.layout.k
        for a in range(0, n, self.chunk):
            b = min(n, a + self.chunk)
            idx = self._idx[: b - a]
            np.copyto(idx, self._movie[a:b])
            np.take(bi, idx, out=err[a:b])
            if k:
                np.take(X, idx, axis=0, out=self._a[: b - a])
            np.copyto(idx, self._user[a:b])
            np.add(err[a:b], np.take(bu, idx, out=tmp[a:b]), out=err[a:b])
            if k:
                xb = self._b[: b - a]
                np.take(T, idx, axis=0, out=xb)
                np.add(err[a:b], np.einsum("ij,ij->i", self._a[: b - a], xb, out=tmp[a:b]),
                       out=err[a:b])
        np.subtract(err, self.y, out=err)
        return err

    def __call__(self, params: np.ndarray) -> tuple[float, np.ndarray]:
        self.evaluations += 1
        lay, rm = self.layout, self.rm
        X, T, _, _ = lay.unpack(params, self.dtype)
        err = self.residuals(params)
        p64 = params
        cost = 0.0
        for a in range(0, err.size, self.chunk):  # float64 sums without an n-sized copy
            e = err[a:a + self.chunk].astype(np.float64)
            cost += 0.5 * float(np.dot(e, e))
        dx = p64[lay.sx] if self.x_prior is None else p64[lay.sx] - self.x_prior
        cost += 0.5 * self.reg * float(np.dot(dx, dx) + np.dot(p64[lay.st], p64[lay.st]))
        cost += 0.5 * self.reg_bias * float(
            np.dot(p64[lay.sbi], p64[lay.sbi]) + np.dot(p64[lay.sbu], p64[lay.sbu])
        )
        grad = np.empty(lay.size, dtype=np.float64)
        E = rm.err_matrix(err)
        if lay.k:
            grad[lay.sx] = (E @ T).ravel()
            grad[lay.st] = (E.T @ X).ravel()
            grad[lay.sx] += self.reg * dx
            grad[lay.st] += self.reg * p64[lay.st]
        # per-movie / per-member sums of the errors: sparse row sums (no n-sized index casts)
        grad[lay.sbi] = E @ self._ones_u
        grad[lay.sbu] = E.T @ self._ones_m
        grad[lay.sbi] += self.reg_bias * p64[lay.sbi]
        grad[lay.sbu] += self.reg_bias * p64[lay.sbu]
        return cost, grad
