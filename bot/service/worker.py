"""The refit job: one guild's whole refit, run in a worker thread or a worker process.

`run_refit(job)` does everything a refit needs away from the bot's event loop: it reads the
guild's ratings (and the ratings version they make up) from the database on its own connection,
applies the size limits, reads the movies' genres and years and the installed taste prior,
fits (`recommender.tuning.fit_guild`: the regularisation choice, then the final fit), serialises
the model and saves it under the generation guard. The bot process only swaps in the result.

The job itself is a few numbers and a path, so handing it to a process costs nothing. The
result carries the model object from a thread worker, and only the saved blob from a process
worker (one bytes object, not an object graph). Warm starts come from the worker's own recent
models, else from the saved blob, never from a snapshot pickled across.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace

from bot.service.features import movie_features
from bot.service.footprint import footprint
from bot.service.limits import apply_size_limits
from bot.storage import bulk
from recommender import CFModel, FitReport, ModelConfig, distinct_ids
from recommender.prior import GuildPrior, TastePrior
from recommender.tuning import fit_guild, uses_previous_model

log = logging.getLogger(__name__)

RECENT_MODELS = 4  # warm-start models a worker keeps (per process)


@dataclass(frozen=True)
class RefitJob:
    """What one refit needs: where the data is, which guild, and how to fit it."""

    database: str
    guild_id: int
    config: ModelConfig  # features and reg as configured for the guild (before size limits)
    settings_key: str  # stored with the model: a change of it means a refit
    tune_reg: bool  # choose reg by hold-out validation (small guilds without a set value)
    max_ratings: int
    max_cells: int
    blas_threads: int = 1
    return_model: bool = True  # thread worker: hand the model object back


@dataclass
class RefitResult:
    """What a refit did. `model` (thread worker) or `blob` (process worker) is the new model;
    both None when the guild has no ratings or was refused by the size limits."""

    guild_id: int
    ratings_version: int
    model: CFModel | None = None
    blob: bytes | None = None
    report: FitReport | None = None
    reg: float = 0.0
    features: int = 0
    tuned: bool = False
    warm_started: bool = False
    saved: bool = False
    n_ratings: int = 0
    timings: dict[str, float] = field(default_factory=dict)  # read, fit, save seconds
    model_bytes: int = 0  # `model`'s own arrays (bot.service.footprint), measured in the worker

    @property
    def empty(self) -> bool:
        return self.model is None and self.blob is None


_lock = threading.Lock()
# (database, guild id): a guild id alone is not unique to one database (a worker may serve
# several bots, and tests open a database each), and one guild's model must never warm-start
# (or lend its reg and pick evidence to) another database's guild.
_recent: OrderedDict[tuple[str, int], CFModel] = OrderedDict()
_prior: tuple[tuple[float, float], GuildPrior] | None = None


def _remember(database: str, guild_id: int, model: CFModel) -> None:
    with _lock:
        _recent[(database, guild_id)] = model
        _recent.move_to_end((database, guild_id))
        while len(_recent) > RECENT_MODELS:
            _recent.popitem(last=False)


def _warm_start(conn: bulk.BulkConnection, database: str, guild_id: int) -> CFModel | None:
    with _lock:
        model = _recent.get((database, guild_id))
    if model is not None:
        return model
    saved = bulk.load_model_state(conn, guild_id)
    if saved is None or saved.blob is None:
        return None
    try:
        return CFModel.from_bytes(saved.blob, prior=_guild_prior(conn))
    except Exception:  # an unreadable or older-format blob: fit cold
        log.warning("saved model of guild %s unreadable: fitting from scratch", guild_id)
        return None


def _guild_prior(conn: bulk.BulkConnection) -> GuildPrior | None:
    """The installed prior aligned to catalog ids, loaded once per build/link stamp."""
    global _prior
    stamp = bulk.prior_stamp(conn)
    if stamp is None:
        return None
    with _lock:
        if _prior is not None and _prior[0] == stamp:
            return _prior[1]
    rows = bulk.read_prior(conn)
    if rows is None:
        return None
    prior = TastePrior.from_bytes(rows.blob).for_movies(rows.movie_ids, rows.keys)
    with _lock:
        _prior = (rows.stamp, prior)
    return prior


def forget_recent(guild_id: int) -> None:
    """Drop a guild's warm-start models (its member was forgotten, or the guild purged)."""
    with _lock:
        for key in [k for k in _recent if k[1] == guild_id]:
            del _recent[key]


def run_refit(job: RefitJob) -> RefitResult:
    """Read, limit, fit, serialise and save one guild's model (see the module docstring)."""
    from threadpoolctl import threadpool_limits

    started = time.perf_counter()
    with bulk.connect(job.database) as conn:
        arrays, version = bulk.read_guild_ratings(conn, job.guild_id)
        result = RefitResult(job.guild_id, version)
        limited = apply_size_limits(
            job.guild_id, arrays.user_ids, arrays.movie_ids, arrays.scores,
            features=job.config.features, max_ratings=job.max_ratings,
            max_cells=job.max_cells)
        del arrays
        if limited is None or len(limited.scores) == 0:
            result.timings["read"] = time.perf_counter() - started
            return result
        movies = bulk.movies_by_id(conn, job.guild_id, distinct_ids(limited.movie_ids))
        features = movie_features(movies)
        prior = _guild_prior(conn)
        config = replace(job.config, features=limited.features)
        # below cold_fit_max the fit ignores the previous model: not read
        warm = (_warm_start(conn, job.database, job.guild_id)
                if uses_previous_model(len(limited.scores), config) else None)
        read_done = time.perf_counter()
        with threadpool_limits(limits=job.blas_threads):
            model, report = fit_guild(limited.user_ids, limited.movie_ids, limited.scores,
                                      config, warm_start=warm, tune_reg=job.tune_reg,
                                      prior=prior, movie_features=features)
        fit_done = time.perf_counter()
        blob = model.to_bytes()
        result.saved = bulk.save_model(conn, job.guild_id, blob, ratings_version=version,
                                       settings_key=job.settings_key)
    _remember(job.database, job.guild_id, model)
    result.report = replace(report, seconds=fit_done - read_done)
    result.reg = float(model.config.reg)
    result.features = int(model.config.features)
    result.tuned = job.tune_reg
    result.warm_started = warm is not None
    result.n_ratings = len(limited.scores)
    if job.return_model:
        result.model = model
        result.model_bytes = footprint(model, shared=getattr(model, "prior", None))
    else:
        result.blob = blob
    result.timings.update(read=read_done - started, fit=fit_done - read_done,
                          save=time.perf_counter() - fit_done)
    return result
