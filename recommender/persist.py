"""Model persistence: every array in one ``np.savez`` archive (no pickle), config as JSON text.

Format 2 stores the factors, biases, means, support counts and the rating lists of members
folded in since the fit, but not every member's training ratings (most of the bytes at scale:
13 of 15 MB for a million ratings): a loaded model learns a member's current ratings at their
next fold-in, which the bot does before serving them. Format 1 archives (with every list) load.

Format 3 adds the implicit item-item model (sparse top-k weights and co-rating counts) and
folded-in members' ratings on movies the model does not know. The taste prior is NOT stored in
each guild's blob (it is the same for every guild and would add megabytes to each): only its
fingerprint is. ``CFModel.from_bytes(blob, prior=guild_prior)`` attaches the caller's
``GuildPrior`` again (the service keeps one in memory); without it a model fitted with a prior
still loads and serves, ranking without the prior part until the next fit. Formats 1-2 still
load: they rank by the rating model alone until the next fit. Each blend part writes and
reads its own arrays (``blend.Part.state`` / ``restore``: the item-item part's ``ii_*`` and
``pick_evidence``), so a new part needs no edit here.

Nor are the prior's movie rows (issue 24 item 1: with an 87k-movie prior they were 4.2 of a
small guild's 7.6 MB): a movie whose factors, bias and mean are exactly what the attached
prior gives a movie nobody in the guild rated (``prior_defaults``: the prior's factors, bias 0,
the mean shrunk to the prior's baseline, as ``CFModel.fit`` sets them) is not written; ``p_own``
lists the rows that are (the guild's own movies), and a load rebuilds the others from the
prior it is given (bit for bit when it is the same prior; without a prior: zero factors and
the guild mean, like a movie nobody rated, until the next fit).
"""

from __future__ import annotations

import io
import json
import threading
from typing import Any, cast

import numpy as np
import scipy.sparse as sp

from .index import IdIndex
from .prior_rows import compact, own_rows, prior_defaults
from .types import FitReport, ModelConfig

_FORMAT = 3


def dump(model) -> bytes:
    folded = np.array(sorted(model._overrides), dtype=np.int64)
    lists = [model._overrides[int(u)] for u in folded]
    ptr = np.zeros(folded.size + 1, dtype=np.int64)
    np.cumsum([m.size for m, _ in lists], out=ptr[1:])
    rep = model.report
    ex_users = np.array(sorted(model._extra), dtype=np.int64)
    ex_lists = [model._extra[int(u)] for u in ex_users]
    ex_ptr = np.zeros(ex_users.size + 1, dtype=np.int64)
    np.cumsum([m.size for m, _ in ex_lists], out=ex_ptr[1:])
    extra: dict[str, Any] = {"e_users": ex_users, "e_ptr": ex_ptr,
             "e_movies": (np.concatenate([m for m, _ in ex_lists]) if ex_lists
                          else np.zeros(0, np.int64)),
             "e_vals": np.concatenate([v for _, v in ex_lists]) if ex_lists else np.zeros(0)}
    for part in model.blend.parts:  # each part's own learned arrays (the item-item model)
        extra.update(part.state(model))
    extra["tuned_on"] = np.array(int(getattr(model, "tuned_on", None) or 0))
    F = getattr(model, "taste_features", None)
    if F is not None:  # the member taste layer's side features (taste.py), as CSR
        extra.update(tf_data=F.data, tf_indices=F.indices, tf_indptr=F.indptr,
                     tf_width=np.array(F.shape[1]))
    if model.prior is not None:
        extra["prior_fingerprint"] = np.array(model.prior.fingerprint())
    X, bi, means = model.X, model.bi, model.means
    if model.prior is not None and len(model.movies):
        X0, bi0, m0 = prior_defaults(model.movies.ids, model.prior, X.shape[1], X.dtype,
                                     model.global_mean, model.config.mean_damping)
        own = own_rows(X, bi, means, X0, bi0, m0)
        del X0, bi0, m0
        extra["p_own"] = own
        X, bi, means = X[own], bi[own], means[own]
    arrays = dict(
        format=np.array(_FORMAT),
        config=np.array(model.config_json()),
        report=np.array(json.dumps(rep.__dict__ if rep else None)),
        user_ids=model.users.ids, movie_ids=model.movies.ids,
        X=X, T=model.T, bi=bi, bu=model.bu, means=means,
        support=model.support_counts, global_mean=np.array(model.global_mean),
        folded=folded, f_ptr=ptr,
        f_movies=np.concatenate([m for m, _ in lists]) if lists else np.zeros(0, np.int64),
        f_vals=np.concatenate([v for _, v in lists]) if lists else np.zeros(0),
        **extra,
    )
    buf = io.BytesIO()
    np.savez(buf, **cast(dict[str, Any], encode(arrays)))
    return buf.getvalue()


# Long movie-sized columns are mostly structure (with a prior every guild model spans all the
# prior's movies): sorted ids and CSR row pointers go as differences, mostly-zero columns as
# (positions, values); both exact, decoded by ``Archive`` (issue 24 item 1).
_ENCODE_MIN = 1024


def _small_uint(values: np.ndarray) -> np.ndarray:
    top = int(values.max()) if values.size else 0
    for dt in (np.uint8, np.uint16, np.uint32):
        if top <= np.iinfo(dt).max:
            return values.astype(dt)
    return values


def encode(arrays: dict[str, np.ndarray], deltas: bool = True) -> dict[str, np.ndarray]:
    """``arrays`` with each long 1-D numeric column stored smaller, exactly: a sorted integer
    column (ids, row pointers) as its first value and differences (``name~d0``, ``name~d``),
    a mostly-zero column as its non-zero positions and values (``name~n``, ``name~i``,
    ``name~v``); the differences are encoded again."""
    out: dict[str, np.ndarray] = {}
    for name, a in arrays.items():
        a = np.asarray(a)
        if a.ndim != 1 or a.size < _ENCODE_MIN or a.dtype.kind not in "iuf":
            out[name] = a
        elif deltas and a.dtype.kind in "iu" and np.all(a[1:] >= a[:-1]):
            out[f"{name}~d0"] = a[:1]
            out.update(encode({f"{name}~d": _small_uint(np.diff(a))}, deltas=False))
        elif np.count_nonzero(bits := a.view(f"u{a.dtype.itemsize}")) * 4 < a.size:
            nz = np.flatnonzero(bits)  # by bits: a -0.0 is kept as it is
            out[f"{name}~n"] = np.array(a.size)
            out[f"{name}~i"] = _small_uint(nz)
            out[f"{name}~v"] = a[nz]
        else:
            out[name] = a
    return out


class Archive:
    """An ``np.load`` archive read through ``encode``'s encodings: the logical names in
    ``files``, each array decoded on access."""

    def __init__(self, z) -> None:
        self._z = z
        names = []
        for f in z.files:
            if "~" not in f:
                names.append(f)
            elif f.endswith(("~d0", "~n")) and "~" not in f.rsplit("~", 1)[0]:
                names.append(f.rsplit("~", 1)[0])
        self.files = names

    def __contains__(self, name: str) -> bool:
        return name in self.files

    def __getitem__(self, name: str) -> np.ndarray:
        return self._get(name, set(self._z.files))

    def _get(self, name: str, stored: set[str]) -> np.ndarray:
        if name in stored:
            return self._z[name]
        if f"{name}~d0" in stored:
            first = self._z[f"{name}~d0"]
            d = self._get(f"{name}~d", stored)
            out = np.empty(d.size + 1, dtype=first.dtype)
            out[0] = first[0]
            np.cumsum(d, dtype=first.dtype, out=out[1:])
            out[1:] += first[0]
            return out
        if f"{name}~n" in stored:
            v = self._z[f"{name}~v"]
            out = np.zeros(int(self._z[f"{name}~n"]), dtype=v.dtype)
            out[self._z[f"{name}~i"]] = v
            return out
        raise KeyError(name)


# numpy parses each .npy header with ast.literal_eval, which is not thread-safe on CPython 3.11
# ("SystemError: AST constructor recursion depth mismatch" when two threads load at once,
# gh-106905; seen in benchmarks/many_guilds.py): loads of archives are serialised.
NPZ_LOCK = threading.Lock()


def load(cls, blob: bytes, prior=None):
    with NPZ_LOCK:
        return _load(cls, blob, prior)


def _load(cls, blob: bytes, prior=None):
    with np.load(io.BytesIO(blob), allow_pickle=False) as raw:
        z = Archive(raw)
        version = int(z["format"])
        if version not in (1, 2, 3):
            raise ValueError(f"unsupported model format {version}")
        cfg = json.loads(str(z["config"]))
        cfg["scale"] = tuple(cfg["scale"])
        known = set(ModelConfig.__dataclass_fields__)
        cfg = {key: v for key, v in cfg.items() if key in known}
        model = cls(ModelConfig(**cfg))
        rep = json.loads(str(z["report"]))
        model.report = FitReport(**rep) if rep else None
        model.users = IdIndex(z["user_ids"], presorted_unique=True)
        model.movies = IdIndex(z["movie_ids"], presorted_unique=True)
        model.X, model.T, model.bi, model.bu = z["X"], z["T"], z["bi"], z["bu"]
        model.means, model.support_counts = z["means"], z["support"]
        model.global_mean = float(z["global_mean"])
        if "p_own" in z.files:  # the prior's rows were left out: rebuilt from the prior
            own = z["p_own"]
            X, bi, means = prior_defaults(model.movies.ids, prior, model.X.shape[1],
                                          model.X.dtype, model.global_mean,
                                          model.config.mean_damping)
            X[own], bi[own], means[own] = model.X, model.bi, model.means
            model.X, model.bi, model.means = X, bi, means
        model._overrides = {}
        if version == 1:
            model._r_ptr, model._r_movies, model._r_vals = z["r_ptr"], z["r_movies"], z["r_vals"]
            model._lists_known = True
        else:
            model._r_ptr = np.zeros(len(model.users) + 1, dtype=np.int64)
            model._r_movies, model._r_vals = np.zeros(0, np.int64), np.zeros(0)
            model._lists_known = False
            ptr, movies, vals = z["f_ptr"], z["f_movies"], z["f_vals"]
            for k, u in enumerate(z["folded"]):
                model._overrides[int(u)] = (movies[ptr[k]:ptr[k + 1]], vals[ptr[k]:ptr[k + 1]])
        model._extra = {}
        model._extra_taste = {}  # re-read at the member's next fold-in (taste.py)
        model.prior = None
        nm = len(model.movies)
        model._p_row = np.full(nm, -1, dtype=np.int64)
        model._prior_cols = None
        if version >= 3:
            ptr, movies, vals = z["e_ptr"], z["e_movies"], z["e_vals"]
            for k, u in enumerate(z["e_users"]):
                model._extra[int(u)] = (movies[ptr[k]:ptr[k + 1]], vals[ptr[k]:ptr[k + 1]])
            for part in model.blend.parts:
                part.restore(model, z, nm)
            model.tuned_on = (int(z["tuned_on"]) or None) if "tuned_on" in z.files else None
            model.taste_features = (
                sp.csr_matrix((z["tf_data"].astype(np.float32),
                               z["tf_indices"].astype(np.int32),
                               z["tf_indptr"].astype(np.int64)),
                              shape=(len(model.movies), int(z["tf_width"])))
                if "tf_data" in z.files else None)
            model.fitted_prior = (str(z["prior_fingerprint"]) if "prior_fingerprint" in z.files
                                  else None)
        else:
            for part in model.blend.parts:
                part.restore(model, None, nm)
            model.fitted_prior = None
    if prior is not None:
        model.attach_prior(prior)
        compact(model)
    model._fitted = True
    return model
