"""A guild model's movie rows kept as its own rows over the shared taste prior (issue 24 item 1).

With a prior every guild model spans all the prior's movies (``ModelConfig.prior_candidates``),
yet most of its movie rows (factors ``X``, biases ``bi``, damped ``means``) are exactly what
the prior gives a movie nobody in the guild rated (``prior_defaults``). ``compact``
keeps only the guild's own rows (``PriorRows``: their positions and values, a few KB for a
small guild) and a reference to the process's one ``GuildPrior``; reading ``model.X`` (or
``bi``, ``means``) then builds the full array from the prior's arrays and the own rows, bit
for bit what the fit made, read-only, and keeps it while it is among the ``KEPT`` most
recently read (a bounded number of full copies per process, not one per guild). Assigning
``model.X`` (a fit) stores a full array again.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

import numpy as np

NAMES = ("X", "bi", "means")
KEPT = 8  # full copies kept per process (most recently read models)

_lock = threading.Lock()
_recent: deque[PriorRows] = deque()


def prior_defaults(movie_ids: np.ndarray, prior, k: int, dtype, global_mean: float,
                   damping: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, bi, means) a fit gives movies nobody in the guild rated: the prior's factors, bias
    0 and the damped mean over no ratings shrunk to the prior's baseline (``CFModel.fit``'s
    expressions, so a prior-only row matches bit for bit); unlinked movies (or no prior):
    zero factors and the guild mean."""
    nm = int(movie_ids.size)
    if prior is not None and len(prior) and (
            movie_ids.base is prior.movie_ids or np.array_equal(movie_ids, prior.movie_ids)):
        # the prior's movies, in its order (the shared index): plain copies, no gathers
        X = (prior.factors.astype(dtype) if k == prior.features
             else np.zeros((nm, k), dtype=dtype))
        target = prior.offsets.astype(np.float64)
    else:
        X = np.zeros((nm, k), dtype=dtype)
        target = np.zeros(nm)
        if prior is not None and len(prior):
            p = prior.lookup(movie_ids)
            linked = p >= 0
            if k == prior.features:
                X[linked] = prior.factors[p[linked]]
            target[linked] = prior.offsets[p[linked]]
    means = (0.0 + damping * (global_mean + target)) / (0.0 + damping + 1e-12)
    return X, np.zeros(nm, dtype=dtype), means.astype(dtype)


def _bits(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    return a.view(f"u{a.dtype.itemsize}")


def own_rows(X, bi, means, X0, bi0, m0) -> np.ndarray:
    """Rows whose factors, bias or mean differ in any bit from the defaults (``X0``...)."""
    diff = (_bits(bi) != _bits(bi0.astype(bi.dtype))) | (
        _bits(means) != _bits(m0.astype(means.dtype)))
    if X.shape[1]:
        diff |= (_bits(X) != _bits(X0.astype(X.dtype))).any(axis=1)
    return np.flatnonzero(diff)



class PriorRows:
    """One model's own movie rows over a prior: ``own`` positions and their values."""

    def __init__(self, prior, ids: np.ndarray, own: np.ndarray, rows: dict[str, np.ndarray],
                 global_mean: float, damping: float) -> None:
        self.prior, self.ids, self.own, self.rows = prior, ids, own, rows
        self.global_mean, self.damping = global_mean, damping
        self.full: dict[str, np.ndarray] | None = None

    def arrays(self) -> dict[str, np.ndarray]:
        """The full arrays (built, or kept from a recent read)."""
        with _lock:
            full = self.full
            if full is not None:
                return full
        X = self.rows["X"]
        X0, bi0, m0 = prior_defaults(self.ids, self.prior, X.shape[1], X.dtype,
                                     self.global_mean, self.damping)
        full = {"X": X0, "bi": bi0.astype(self.rows["bi"].dtype, copy=False),
                "means": m0.astype(self.rows["means"].dtype, copy=False)}
        for name, arr in full.items():
            arr[self.own] = self.rows[name]
            arr.flags.writeable = False
        with _lock:
            if self.full is None:
                self.full = full
                _recent.append(self)
                while len(_recent) > KEPT:
                    _recent.popleft().full = None
            return self.full if self.full is not None else full


class PriorBacked:
    """A model attribute (``X``, ``bi``, ``means``) that may live as ``PriorRows``."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        d = obj.__dict__
        if self.name in d:
            return d[self.name]
        rows = d.get("_prior_rows")
        if rows is None:
            raise AttributeError(self.name)
        return rows.arrays()[self.name]

    def __set__(self, obj: Any, value: Any) -> None:
        d = obj.__dict__
        rows = d.pop("_prior_rows", None)
        if rows is not None:  # the other two become full arrays again
            full = rows.arrays()
            for name in NAMES:
                d[name] = full[name].copy()
        d[self.name] = value


def compact(model) -> None:
    """Keep only the model's own movie rows when a prior is attached (else nothing changes):
    rows equal to the prior's defaults in every bit are not kept."""
    prior = getattr(model, "prior", None)
    d = model.__dict__
    if prior is None or not len(prior) or "_prior_rows" in d:
        return
    if any(name not in d for name in NAMES):
        return
    X, bi, means = d["X"], d["bi"], d["means"]
    if X.ndim != 2 or X.shape[0] != len(model.movies) or X.shape[1] != prior.features:
        return
    X0, bi0, m0 = prior_defaults(model.movies.ids, prior, X.shape[1], X.dtype,
                                 model.global_mean, model.config.mean_damping)
    own = own_rows(X, bi, means, X0, bi0, m0)
    del X0, bi0, m0
    rows = {"X": X[own].copy(), "bi": bi[own].copy(), "means": means[own].copy()}
    for name in NAMES:
        del d[name]
    d["_prior_rows"] = PriorRows(prior, model.movies.ids, own, rows, model.global_mean,
                                 model.config.mean_damping)
