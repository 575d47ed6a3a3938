"""Taste prior: movie features learned once from a public dataset (MovieLens), used by every guild.

``build_prior(user_keys, movie_keys, scores)`` learns, keyed by the source dataset's movie ids
("keys", int64, e.g. MovieLens movieId):

- movie factors and biases with the guild model's cost, gradient and CG training
  (``objective.py`` / ``train.py``), in *rating units* (so a prior learned on MovieLens' 0.5-5
  stars applies to the bot's 1-10 scale unchanged, see ``types.py``);
- ``offsets``: each movie's baseline (damped mean + bias) minus the dataset's mean, in units;
- sparse top-k implicit item-item weights (EASE on the "rated" matrix, ``implicit.py``) and
  top-k co-rating counts, and each movie's rating count.

``TastePrior.to_bytes()`` / ``from_bytes()`` store it as one npz archive (float32, no pickle).
``restrict(keys)`` keeps only linked movies (smaller storage); ``for_movies(catalog_ids, keys)``
aligns it to a guild's catalog movie ids and returns the ``GuildPrior`` that
``CFModel.fit(..., prior=...)`` takes: movie factors are then regularised toward the prior's
factors (MAP) instead of toward zero, damped means shrink toward the prior's movie baseline,
fold-in can use ratings on movies the guild never rated, and the prior's item-item weights join
the ranking blend.

Scale: the factor training is O(ratings x k) per CG iteration with bounded scratch memory
(chunked); the EASE solve is dense over the ``ease_items`` most-rated movies only, and its
co-rating counts come from at most ``max_pairs`` (member, movie, movie) triples (a seeded
sample of members beyond that, λ scaled to match). ml-32m (32M ratings, 87k movies) builds on
2 cores in minutes; memory is dominated by the rating arrays themselves.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from .implicit import ItemItem
from .index import IdIndex
from .normalise import shrunk_means
from .persist import NPZ_LOCK
from .train import train_factors

_FORMAT = 1

Progress = Callable[[int, int], None] | None


@dataclass
class GuildPrior:
    """A taste prior aligned to one guild's catalog movie ids (sorted, unique)."""

    movie_ids: np.ndarray  # int64 catalog movie ids
    factors: np.ndarray  # float32 (n, k), rating units
    offsets: np.ndarray  # float32 (n,), movie baseline - dataset mean, rating units
    counts: np.ndarray  # float32 (n,), ratings in the source dataset
    implicit: ItemItem  # item-item weights among these movies

    @property
    def features(self) -> int:
        return int(self.factors.shape[1])

    def __len__(self) -> int:
        return int(self.movie_ids.size)

    def lookup(self, movie_ids) -> np.ndarray:
        """Row of each catalog movie id in this prior, -1 where not linked."""
        ids = np.atleast_1d(np.asarray(movie_ids, dtype=np.int64))
        if self.movie_ids.size == 0:
            return np.full(ids.shape, -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.movie_ids, ids), self.movie_ids.size - 1)
        return np.where(self.movie_ids[pos] == ids, pos, -1).astype(np.int64)

    # ------------------------------------------------------------------ shared, read-only
    # One GuildPrior is loaded per process and attached to every guild model: what a guild
    # model needs of it over the prior's movies is built here once and shared (read-only
    # views, never per-guild copies; benchmarks/prior_memory.py, issue 24 item 1).
    def _shared(self, name: str, build: Callable[[], Any]) -> Any:
        cache = self.__dict__.setdefault("_shared_cache", {})
        if name not in cache:
            value = build()
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
            cache[name] = value
        return cache[name]

    def index(self) -> IdIndex:
        """The IdIndex of the prior's catalog ids, shared by every guild model whose movies
        are exactly the prior's (never mutated: a model's movie index is fixed per fit)."""
        def build() -> IdIndex:
            ids = self.movie_ids.view()
            ids.flags.writeable = False
            index = IdIndex(ids, presorted_unique=True)
            for arr in vars(index).values():
                if isinstance(arr, np.ndarray):
                    arr.flags.writeable = False
            return index

        return cast(IdIndex, self._shared("index", build))

    def rows(self) -> np.ndarray:
        """0..n-1 (int64, read-only): the prior row of each movie of such a model."""
        return cast(np.ndarray, self._shared("rows", lambda: np.arange(len(self))))

    def counts64(self) -> np.ndarray:
        """``counts`` as float64 (read-only): such a model's prior evidence per movie."""
        return cast(np.ndarray, self._shared("counts64",
                                             lambda: self.counts.astype(np.float64)))

    def weights_into(self, p_row: np.ndarray) -> Any:
        """The prior's item-item weights into a model's linked movies (rows ``p_row[p_row >=
        0]``, in that order): the prior's own matrix, shared, when those are all the prior's
        movies in order (every model fitted with prior candidates), else a column copy."""
        cols = p_row[p_row >= 0]
        if cols.size == len(self) and np.array_equal(cols, self.rows()):
            return self.implicit.W
        return self.implicit.W[:, cols].tocsr()

    def fingerprint(self) -> str:
        """A short hash of the linked ids and factors (which prior a guild model was fit to)."""
        fp = getattr(self, "_fingerprint", None)
        if fp is None:
            import hashlib

            h = hashlib.sha256(self.movie_ids.astype(np.int64).tobytes())
            h.update(np.ascontiguousarray(self.factors, dtype=np.float32).tobytes())
            fp = self._fingerprint = h.hexdigest()[:16]
        return fp

    def arrays(self, prefix: str = "prior_") -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {f"{prefix}movie_ids": self.movie_ids.astype(np.int64),
               f"{prefix}factors": self.factors.astype(np.float32),
               f"{prefix}offsets": self.offsets.astype(np.float32),
               f"{prefix}counts": self.counts.astype(np.float32)}
        out.update(self.implicit.arrays(f"{prefix}ii_"))
        return out

    @classmethod
    def from_arrays(cls, z, prefix: str = "prior_") -> GuildPrior:
        ids = np.asarray(z[f"{prefix}movie_ids"], dtype=np.int64)
        return cls(ids, np.asarray(z[f"{prefix}factors"]), np.asarray(z[f"{prefix}offsets"]),
                   np.asarray(z[f"{prefix}counts"]),
                   ItemItem.from_arrays(z, f"{prefix}ii_", ids.size))


@dataclass
class TastePrior:
    """Movie features learned from a public dataset, keyed by that dataset's movie ids."""

    keys: np.ndarray  # int64, sorted unique
    factors: np.ndarray  # float32 (n, k)
    offsets: np.ndarray  # float32 (n,)
    counts: np.ndarray  # float32 (n,)
    implicit: ItemItem
    global_mean: float  # dataset mean in rating units
    scale: tuple[float, float]
    info: dict

    def __len__(self) -> int:
        return int(self.keys.size)

    @property
    def features(self) -> int:
        return int(self.factors.shape[1])

    # ------------------------------------------------------------------ persistence
    def to_bytes(self) -> bytes:
        """One npz archive: float32 arrays, int64 keys, JSON metadata; no pickle."""
        buf = io.BytesIO()
        arrays = {"format": np.array(_FORMAT), "keys": self.keys.astype(np.int64),
                  "factors": self.factors.astype(np.float32),
                  "offsets": self.offsets.astype(np.float32),
                  "counts": self.counts.astype(np.float32),
                  "global_mean": np.array(self.global_mean),
                  "scale": np.array(self.scale, dtype=np.float64),
                  "info": np.array(json.dumps(self.info))}
        arrays.update(self.implicit.arrays("ii_"))
        np.savez_compressed(buf, **cast(dict[str, Any], arrays))
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> TastePrior:
        """Load ``to_bytes`` output; raises ValueError on anything else."""
        try:
            with NPZ_LOCK, np.load(io.BytesIO(blob), allow_pickle=False) as z:
                if int(z["format"]) != _FORMAT:
                    raise ValueError(f"unsupported taste prior format {int(z['format'])}")
                keys = np.asarray(z["keys"], dtype=np.int64)
                return cls(keys, z["factors"], z["offsets"], z["counts"],
                           ItemItem.from_arrays(z, "ii_", keys.size),
                           float(z["global_mean"]),
                           (float(z["scale"][0]), float(z["scale"][1])),
                           json.loads(str(z["info"])))
        except (KeyError, OSError, EOFError) as exc:
            raise ValueError(f"not a taste prior: {exc}") from exc

    # ------------------------------------------------------------------ selection
    def _take(self, idx: np.ndarray) -> tuple:
        return (self.factors[idx], self.offsets[idx], self.counts[idx], self.implicit.take(idx))

    def restrict(self, keys) -> TastePrior:
        """Only the movies whose key is in ``keys`` (e.g. the ones linked to the catalog)."""
        want = np.unique(np.asarray(keys, dtype=np.int64))
        pos = IdIndex(self.keys, presorted_unique=True).lookup(want)
        idx = pos[pos >= 0]
        f, o, c, ii = self._take(idx)
        info = dict(self.info, restricted_to=int(idx.size))
        return TastePrior(self.keys[idx], f, o, c, ii, self.global_mean, self.scale, info)

    def for_movies(self, catalog_ids, keys) -> GuildPrior:
        """Align to catalog movie ids: ``catalog_ids[a]`` is linked to prior key ``keys[a]``.

        Pairs whose key the prior lacks are dropped; a catalog id listed twice keeps its first
        linked key. The result is sorted by catalog id.
        """
        cat = np.asarray(catalog_ids, dtype=np.int64).ravel()
        ks = np.asarray(keys, dtype=np.int64).ravel()
        if cat.size != ks.size:
            raise ValueError("catalog_ids and keys must have the same length")
        pos = IdIndex(self.keys, presorted_unique=True).lookup(ks)
        ok = pos >= 0
        cat, pos = cat[ok], pos[ok]
        _, first = np.unique(cat, return_index=True)  # sorted unique catalog ids
        cat, pos = cat[first], pos[first]
        f, o, c, ii = self._take(pos)
        return GuildPrior(cat, np.ascontiguousarray(f, dtype=np.float32),
                          o.astype(np.float32), c.astype(np.float32), ii)


def build_prior(user_keys, movie_keys, scores, *, progress: Progress = None,
                features: int = 10, reg: float = 15.0, reg_bias: float = 10.0,
                mean_damping: float = 10.0, scale: tuple[float, float] | None = None,
                round_iters: int = 20, tol: float = 1e-4, max_iterations: int = 150,
                time_budget: float = 600.0, ease_lambda: float = 400.0, ease_items: int = 4000,
                topk: int = 50, max_pairs: float = 3e9, seed: int = 0,
                dtype: str = "float32") -> TastePrior:
    """Learn a taste prior from (user key, movie key, score) triples of a public dataset.

    ``scale`` defaults to the data's (min, max) score. ``progress(done, total)`` is called
    as the build advances (total is fixed up front; done reaches total at the end).
    Later duplicates of a (user, movie) pair win.
    """
    users = np.asarray(user_keys, dtype=np.int64).ravel()
    movies = np.asarray(movie_keys, dtype=np.int64).ravel()
    vals = np.asarray(scores, dtype=np.float32).ravel()
    if not (users.size == movies.size == vals.size):
        raise ValueError("user_keys, movie_keys and scores must have the same length")
    if users.size == 0:
        raise ValueError("no ratings")
    ok = np.isfinite(vals)
    if not ok.all():
        users, movies, vals = users[ok], movies[ok], vals[ok]
    total = max_iterations + 4
    report = progress or (lambda done, tot: None)
    report(0, total)

    user_ids, ui = np.unique(users, return_inverse=True)
    del users
    movie_keys_u, mi = np.unique(movies, return_inverse=True)
    del movies
    nu, nm = user_ids.size, movie_keys_u.size
    del user_ids
    ui = ui.astype(np.int32)
    mi = mi.astype(np.int32)
    code = ui.astype(np.int64) * nm + mi
    code.sort()
    if np.any(code[1:] == code[:-1]):
        from .index import dedupe_last

        del code
        keep = dedupe_last(ui.astype(np.int64) * nm + mi)
        ui, mi, vals = ui[keep], mi[keep], vals[keep]
    else:
        del code
    lo, hi = scale if scale is not None else (float(vals.min()), float(vals.max()))
    if not hi > lo:
        hi = lo + 1.0
    unit = (hi - lo) / 4.5
    y = (np.clip(vals, lo, hi) / unit).astype(np.float64)
    del vals
    gmean = float(y.mean())
    means, counts = shrunk_means(mi, y, nm, gmean, mean_damping)
    y -= means[mi]
    report(1, total)

    handed = [y]
    del y
    sol = train_factors(ui, mi, handed, nu, nm, k=features, reg=reg, reg_bias=reg_bias, seed=seed,
                        dtype=dtype, round_iters=round_iters, tol=tol,
                        max_iterations=max_iterations, time_budget=time_budget,
                        callback=lambda it: report(min(1 + it, total - 3), total))
    report(total - 3, total)

    # EASE on a sample of members bounded by max_pairs co-rating triples
    n_u = np.bincount(ui, minlength=nu).astype(np.float64)
    pairs = float((n_u * n_u).sum())
    frac = 1.0
    if pairs > max_pairs:
        rng = np.random.default_rng(seed)
        chosen = rng.permutation(nu)
        cum = np.cumsum(n_u[chosen] ** 2)
        chosen = chosen[: max(1, int(np.searchsorted(cum, max_pairs)))]
        keep_u = np.zeros(nu, dtype=bool)
        keep_u[chosen] = True
        sel = keep_u[ui]
        ii_users, ii_items = ui[sel], mi[sel]
        frac = float(sel.mean())
    else:
        ii_users, ii_items = ui, mi
    stage = [total - 3]

    def ease_progress(_name: str) -> None:
        stage[0] += 1
        report(stage[0], total)

    implicit = ItemItem.fit(ii_users, ii_items, nu, nm, lam=ease_lambda * frac,
                            max_items=ease_items, topk=topk, progress=ease_progress)
    implicit.with_counts(counts.astype(np.float64))
    offsets = (means + sol.bi - gmean).astype(np.float32)
    info = {"ratings": int(ui.size), "users": nu, "movies": nm, "features": features,
            "reg": reg, "reg_bias": reg_bias, "mean_damping": mean_damping,
            "iterations": sol.iterations, "stop": sol.stop, "ease_lambda": ease_lambda,
            "ease_items": ease_items, "topk": topk, "ease_user_fraction": frac}
    report(total, total)
    return TastePrior(movie_keys_u, sol.X.astype(np.float32), offsets,
                      counts.astype(np.float32), implicit, gmean, (float(lo), float(hi)), info)


def load_movielens(path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(user keys, movie keys, scores) from a MovieLens folder (ratings.csv or ML-100K u.data)
    or a ratings file; research and benchmark helper (the bot has its own importer)."""
    from pathlib import Path

    from .data import load_ratings

    p = Path(path)
    if p.is_dir():
        p = p / "ratings.csv" if (p / "ratings.csv").exists() else p / "u.data"
    r = load_ratings(p)
    return r.users, r.movies, r.scores
