"""The third refit lane: `training.mode = "queue"` sends refits to `python -m bot worker`.

The queue is arq on Redis: a maintained asyncio job queue, small (one dependency besides
redis-py), with the three things a refit needs and nothing we would have to build ourselves:
de-duplication by job id (`_job_id`), a result the enqueuing process can await, and retries of
jobs whose worker died (a job stays queued until a worker finishes it, so a killed worker's job
runs again on another one once its in-progress mark expires: `job_timeout` + 10 s). Celery or
RQ would add a synchronous worker model and a broker abstraction we do not need.

The job carries only what the fit needs and nothing secret: the guild id and the bounded
model settings (features, regularisation, iterations, the size caps), as plain JSON, never a
pickle, signed with HMAC-SHA256 under `[redis] job_key` (`MOVIEBOT_REDIS_JOB_KEY`), which the
clusters and the workers share. No database path or URL travels: a worker reads and saves on
its own configured database. A worker refuses (and logs) a job that is unsigned, signed with
another key, older than `MAX_JOB_AGE`, or whose settings leave the ranges the config and
`/settings` accept (`RefusedJob`): whoever can write to Redis can neither make a worker run
code, nor open another file or database, nor save a crippled model. The worker runs
`bot.service.worker.run_refit`, which reads the guild's ratings from the database itself, fits
and saves the blob under the generation guard, and returns a small report. Delivery is at least
once, which is harmless: a repeated job fits the same data again and its save is refused by the
guard, or replaces an equal model. Jobs are de-duplicated per guild (`refit:<guild id>`): while
one is queued or running, asking again waits for that one.

The cluster then loads the new model from the database (the report carries no blob), so the
lane hands the service the same `RefitResult` the other lanes do.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import hmac
import json
import logging
import math
import time
from typing import Any

from bot.config import ConfigError, setting_bounds
from bot.domain.scores import SCALE
from bot.service.worker import RefitJob, RefitResult
from bot.storage import bulk
from recommender import FitReport, ModelConfig

log = logging.getLogger(__name__)

QUEUE_NAME = "moviebot:refits"
JOB_FUNCTION = "refit"
# Waiting for a report polls Redis: every 20 ms at first (most fits take well under a second),
# then less and less often, up to every 0.5 s, so thousands of waiting guilds stay cheap.
RESULT_POLL_FIRST, RESULT_POLL_MAX = 0.02, 0.5
JOB_FORMAT = 1  # the payload's "v": a worker refuses another format
MAX_JOB_AGE = 6 * 3600.0  # seconds: an older signed job is a replay, refused
MAX_CLOCK_SKEW = 300.0  # seconds a job may seem to come from the future (clocks differ)
MAX_SETTINGS_KEY = 300  # characters of the settings key stored with the model
NO_JOB_KEY = ('training.mode "queue" and `python -m bot worker` need [redis] job_key (or '
              "MOVIEBOT_REDIS_JOB_KEY): one secret shared by the clusters and the workers, "
              "e.g. the output of `openssl rand -hex 32`")


class RefusedJob(ValueError):
    """A queued job a worker does not run: unsigned, forged, replayed or out of bounds."""


def job_id(guild_id: int) -> str:
    """One queued or running refit per guild, across every cluster process."""
    return f"refit:{guild_id}"


def dumps(value: Any) -> bytes:
    # `repr` for what JSON cannot hold: a failed job's exception reaches the cluster as text.
    return json.dumps(value, separators=(",", ":"), default=repr).encode()


def loads(data: bytes) -> Any:
    return json.loads(data)


def _canonical(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def sign(fields: dict[str, Any], key: str) -> str:
    """The HMAC-SHA256 of a job's fields (canonical JSON) under the shared job key."""
    return hmac.new(key.encode(), _canonical(fields), hashlib.sha256).hexdigest()


def job_to_dict(job: RefitJob, key: str, *, now: float | None = None) -> dict[str, Any]:
    """The signed payload of a refit: the guild and its bounded settings, no database."""
    if not key:
        raise ConfigError(NO_JOB_KEY)
    fields: dict[str, Any] = {
        "v": JOB_FORMAT, "guild_id": job.guild_id,
        "features": job.config.features, "reg": float(job.config.reg),
        "maxiter": job.config.maxiter, "settings_key": job.settings_key,
        "tune_reg": job.tune_reg, "max_ratings": job.max_ratings, "max_cells": job.max_cells,
        "issued_at": time.time() if now is None else now}
    return {**fields, "sig": sign(fields, key)}


_FIELDS: dict[str, tuple[type, ...]] = {
    "v": (int,), "guild_id": (int,), "features": (int,), "reg": (float, int),
    "maxiter": (int,), "settings_key": (str,), "tune_reg": (bool,), "max_ratings": (int,),
    "max_cells": (int,), "issued_at": (float, int)}
_RANGES: dict[str, str] = {  # payload field -> the config setting whose range bounds it
    "features": "recommender.features", "reg": "recommender.regularization",
    "maxiter": "recommender.max_iterations", "max_ratings": "recommender.max_guild_ratings",
    "max_cells": "recommender.max_model_cells"}


def job_from_dict(data: Any, key: str, *, database: str, blas_threads: int = 1,
                  now: float | None = None) -> RefitJob:
    """The `RefitJob` of a queued payload, on the worker's own `database`; `RefusedJob` (with
    the reason) unless it is signed with `key`, recent and within the settings' ranges."""
    if not key:
        raise ConfigError(NO_JOB_KEY)
    if not isinstance(data, dict) or not isinstance(data.get("sig"), str):
        raise RefusedJob("not signed")
    fields = {k: v for k, v in data.items() if k != "sig"}
    if not hmac.compare_digest(sign(fields, key), data["sig"]):
        raise RefusedJob("bad signature (not signed with this worker's job key)")
    if set(fields) != set(_FIELDS):
        raise RefusedJob(f"unexpected fields {sorted(set(fields) ^ set(_FIELDS))}")
    for name, kinds in _FIELDS.items():
        value = fields[name]
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            raise RefusedJob(f"{name} must be {kinds[0].__name__}")
    if fields["v"] != JOB_FORMAT:
        raise RefusedJob(f"job format {fields['v']} (this worker reads {JOB_FORMAT})")
    if not 0 < fields["guild_id"] < 2**63:
        raise RefusedJob("guild_id out of range")
    for name, setting in _RANGES.items():
        low, high = setting_bounds(setting)
        if not (math.isfinite(fields[name]) and low <= fields[name] <= high):
            raise RefusedJob(f"{name}={fields[name]} outside {low:g}..{high:g} (the range of "
                             f"{setting})")
    if len(fields["settings_key"]) > MAX_SETTINGS_KEY:
        raise RefusedJob("settings_key too long")
    age = (time.time() if now is None else now) - fields["issued_at"]
    if not -MAX_CLOCK_SKEW <= age <= MAX_JOB_AGE:
        raise RefusedJob(f"issued {age:.0f} s ago (a replay, or clocks {MAX_CLOCK_SKEW:g} s "
                         "apart)")
    config = ModelConfig(features=fields["features"], reg=float(fields["reg"]),
                         maxiter=fields["maxiter"], scale=SCALE)
    return RefitJob(database=database, guild_id=fields["guild_id"], config=config,
                    settings_key=fields["settings_key"], tune_reg=fields["tune_reg"],
                    max_ratings=fields["max_ratings"], max_cells=fields["max_cells"],
                    blas_threads=blas_threads, return_model=False)


def report_of(result: RefitResult, worker: str = "") -> dict[str, Any]:
    """The small report a worker sends back (no model, no blob)."""
    report = dataclasses.asdict(result.report) if result.report is not None else None
    return {"guild_id": result.guild_id, "ratings_version": result.ratings_version,
            "saved": result.saved, "n_ratings": result.n_ratings, "reg": result.reg,
            "features": result.features, "tuned": result.tuned,
            "warm_started": result.warm_started, "timings": result.timings,
            "report": report, "worker": worker}


def redis_settings(url: str) -> Any:
    from arq.connections import RedisSettings

    return RedisSettings.from_dsn(url)


class QueueLane:
    """Refits through the arq queue (see the module docstring)."""

    def __init__(self, redis_url: str, job_key: str = "", *,
                 queue_name: str = QUEUE_NAME) -> None:
        if not redis_url:
            raise ConfigError('training.mode "queue" needs [redis] url (or MOVIEBOT_REDIS_URL)')
        if not job_key:
            raise ConfigError(NO_JOB_KEY)
        self.redis_url = redis_url
        self._job_key = job_key
        self.queue_name = queue_name
        self._pool: Any = None
        self._connecting = asyncio.Lock()
        self.reports: list[dict[str, Any]] = []  # the latest reports, newest last (bounded)

    async def _redis(self) -> Any:
        async with self._connecting:
            if self._pool is None:
                from arq import create_pool

                self._pool = await create_pool(
                    redis_settings(self.redis_url), default_queue_name=self.queue_name,
                    job_serializer=dumps, job_deserializer=loads)
        return self._pool

    async def refit(self, job: RefitJob) -> RefitResult:
        """Queue the guild's refit (or join the one already queued), wait for its report,
        then load the model it saved."""
        from arq.constants import result_key_prefix
        from arq.jobs import Job

        pool = await self._redis()
        key = job_id(job.guild_id)
        payload = job_to_dict(job, self._job_key)
        queued = await pool.enqueue_job(JOB_FUNCTION, payload, _job_id=key)
        if queued is None:  # the guild's refit is already queued or running: wait for it
            log.info("refit guild=%s already queued: waiting for it", job.guild_id)
            queued = Job(key, pool, _queue_name=self.queue_name, _deserializer=loads)
        report = await self._wait(queued)
        if report is None:  # another waiter read the result first: the model is saved
            log.info("refit guild=%s finished for another waiter: loading the saved model",
                     job.guild_id)
            return await asyncio.to_thread(self._saved_result, job)
        # The result has been read: let the guild's next refit be queued under the same id.
        await pool.delete(result_key_prefix + key)
        if not isinstance(report, dict) or report.get("error"):
            raise RuntimeError(f"queued refit of guild {job.guild_id} failed: "
                               f"{report.get('error') if isinstance(report, dict) else report}")
        self.reports = [*self.reports[-63:], report]
        return await asyncio.to_thread(self._result, job, report)

    @staticmethod
    async def _wait(queued: Any) -> Any:
        """The job's result, polling more slowly the longer it takes; None if the job is gone
        (finished, and its result read by another waiter, or expired)."""
        from arq.jobs import ResultNotFound

        delay = RESULT_POLL_FIRST
        while True:
            try:
                return await queued.result(timeout=delay * 10, poll_delay=delay)
            except TimeoutError:
                delay = min(delay * 2, RESULT_POLL_MAX)
            except ResultNotFound:  # neither queued, running nor with a result any more
                return None

    @staticmethod
    def _saved_result(job: RefitJob) -> RefitResult:
        with bulk.connect(job.database) as conn:
            saved = bulk.load_model_state(conn, job.guild_id)
        if saved is None:
            return RefitResult(job.guild_id, 0)
        return RefitResult(job.guild_id, saved.ratings_version, blob=saved.blob)

    @staticmethod
    def _result(job: RefitJob, report: dict[str, Any]) -> RefitResult:
        with bulk.connect(job.database) as conn:
            saved = bulk.load_model_state(conn, job.guild_id)
        result = RefitResult(job.guild_id, int(report["ratings_version"]))
        if saved is not None and saved.blob is not None and report.get("report") is not None:
            result.blob = saved.blob
            result.ratings_version = saved.ratings_version
        fit = report.get("report")
        if fit is not None:
            result.report = FitReport(**fit)
        result.saved = bool(report.get("saved"))
        result.n_ratings = int(report.get("n_ratings", 0))
        result.reg = float(report.get("reg", 0.0))
        result.features = int(report.get("features", 0))
        result.tuned = bool(report.get("tuned"))
        result.warm_started = bool(report.get("warm_started"))
        result.timings = {str(k): float(v) for k, v in (report.get("timings") or {}).items()}
        return result

    async def aclose(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            with contextlib.suppress(Exception):
                await pool.aclose()

    def shutdown(self) -> None:
        """Close the Redis connection (from `TrainingPool.shutdown`, inside the loop)."""
        with contextlib.suppress(RuntimeError):  # no running loop: nothing open to close
            asyncio.get_running_loop().create_task(self.aclose())
