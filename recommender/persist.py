"""Model persistence: every array in one ``np.savez`` archive (no pickle), config as JSON text."""

from __future__ import annotations

import io
import json

import numpy as np

from .index import IdIndex
from .types import FitReport, ModelConfig

_FORMAT = 1


def dump(model) -> bytes:
    n_users = len(model.users)
    rows = [model._rated(u) for u in range(n_users)]
    ptr = np.zeros(n_users + 1, dtype=np.int64)
    np.cumsum([r[0].size for r in rows], out=ptr[1:])
    r_movies = np.concatenate([r[0] for r in rows]) if rows else np.zeros(0, np.int64)
    r_vals = np.concatenate([r[1] for r in rows]) if rows else np.zeros(0)
    rep = model.report
    buf = io.BytesIO()
    np.savez(
        buf,
        format=np.array(_FORMAT),
        config=np.array(model.config_json()),
        report=np.array(json.dumps(rep.__dict__ if rep else None)),
        user_ids=model.users.ids, movie_ids=model.movies.ids,
        X=model.X, T=model.T, bi=model.bi, bu=model.bu, means=model.means,
        support=model.support_counts, global_mean=np.array(model.global_mean),
        r_ptr=ptr, r_movies=r_movies.astype(np.int64), r_vals=r_vals.astype(np.float64),
    )
    return buf.getvalue()


def load(cls, blob: bytes):
    with np.load(io.BytesIO(blob), allow_pickle=False) as z:
        if int(z["format"]) != _FORMAT:
            raise ValueError(f"unsupported model format {int(z['format'])}")
        cfg = json.loads(str(z["config"]))
        cfg["scale"] = tuple(cfg["scale"])
        model = cls(ModelConfig(**cfg))
        rep = json.loads(str(z["report"]))
        model.report = FitReport(**rep) if rep else None
        model.users = IdIndex(z["user_ids"], presorted_unique=True)
        model.movies = IdIndex(z["movie_ids"], presorted_unique=True)
        model.X, model.T, model.bi, model.bu = z["X"], z["T"], z["bi"], z["bu"]
        model.means, model.support_counts = z["means"], z["support"]
        model.global_mean = float(z["global_mean"])
        model._r_ptr, model._r_movies, model._r_vals = z["r_ptr"], z["r_movies"], z["r_vals"]
    model._overrides = {}
    model._fitted = True
    return model
