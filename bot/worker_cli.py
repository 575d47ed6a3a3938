"""`python -m bot worker`: run queued refits (`training.mode = "queue"`, see bot/service/queue.py).

A worker takes refit jobs from the arq queue on `[redis] url` (`MOVIEBOT_REDIS_URL`), checks
each (signed with `[redis] job_key`, settings in range: `bot.service.queue.job_from_dict`;
anything else is refused and logged), runs it with `bot.service.worker.run_refit` (read the
guild's ratings from the worker's own configured database, fit, save under the generation
guard) on a thread, and sends back a small report. Nothing secret travels in a job or its
report. Start as many as the fits need, on any machine that reaches Redis and the database.
SIGTERM or Ctrl-C stops it; a job it was running is put back on the queue (arq retries
cancelled jobs), and a job of a worker that was killed outright runs again on another worker
once its in-progress mark expires (`--job-timeout` + 10 s).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import time
from typing import Any

from bot.config import ConfigError, Settings
from bot.domain.plural import plural

log = logging.getLogger("bot.worker")

DEFAULT_JOB_TIMEOUT = 600.0  # seconds a fit may run (a million-rating guild takes ~1 min)
KEEP_RESULT_SECONDS = 120  # the enqueuing cluster deletes a result once read; else it expires
MAX_TRIES = 5


async def refit_task(ctx: dict[str, Any], payload: Any) -> dict[str, Any]:
    """One queued refit: check it, then the whole `run_refit`, off the worker's event loop."""
    from bot.service.queue import RefusedJob, job_from_dict, report_of
    from bot.service.worker import run_refit

    worker = str(ctx.get("worker_name", ""))
    guild = payload.get("guild_id") if isinstance(payload, dict) else None
    try:
        job = job_from_dict(payload, ctx["job_key"], database=ctx["database"],
                            blas_threads=ctx.get("blas_threads", 1))
    except RefusedJob as refused:
        log.warning("refused job %s (guild=%s): %s", ctx.get("job_id"), guild, refused)
        return {"error": f"refused: {refused}", "guild_id": guild}
    log.info("fit start guild=%s try=%s worker=%s", job.guild_id, ctx.get("job_try"), worker)
    started = time.perf_counter()
    try:
        result = await asyncio.to_thread(run_refit, job)
    except Exception as error:  # a bug or a broken database: report it, do not retry 5 times
        log.exception("fit failed guild=%s", job.guild_id)
        # The error leaves this process (through Redis): redacted like the log lines.
        return {"error": ctx["redact"](f"{type(error).__name__}: {error}"),
                "guild_id": job.guild_id}
    log.info("fit done guild=%s ratings=%d saved=%s seconds=%.3f worker=%s", job.guild_id,
             result.n_ratings, result.saved, time.perf_counter() - started, worker)
    return report_of(result, worker=worker)


def start_line(name: str, settings: Settings, args: argparse.Namespace) -> str:
    """Which database, which Redis and which queue this worker serves; never a password."""
    from bot.about import describe_database, describe_url, version
    from bot.service.queue import QUEUE_NAME
    from bot.storage import database_target

    return (f"moviebot {version()} worker {name} starting: config "
            f"{settings.source or '(none: defaults + environment)'}; database "
            f"{describe_database(database_target(settings))}; Redis "
            f"{describe_url(settings.redis.url)}, queue {QUEUE_NAME}; "
            f"{plural(args.jobs, 'job')} at a time, job timeout {args.job_timeout:g} s; jobs "
            "signed with [redis] job_key")


async def run_worker(args: argparse.Namespace, settings: Settings) -> int:
    from arq.worker import Worker, func

    from bot.dbcheck import require_database
    from bot.redaction import redactor_for
    from bot.service.queue import JOB_FUNCTION, NO_JOB_KEY, QUEUE_NAME, dumps, loads, redis_settings
    from bot.storage import database_target

    if not settings.redis.url:
        raise ConfigError("python -m bot worker needs Redis: set [redis] url or "
                          "MOVIEBOT_REDIS_URL")
    if not settings.redis.job_key:
        raise ConfigError(NO_JOB_KEY)
    require_database(settings)  # the worker's own database: jobs name none
    name = args.name or f"{socket.gethostname()}-{os.getpid()}"
    log.info(start_line(name, settings, args))
    worker = Worker(
        functions=[func(refit_task, name=JOB_FUNCTION, max_tries=MAX_TRIES)],
        redis_settings=redis_settings(settings.redis.url),
        queue_name=QUEUE_NAME,
        max_jobs=args.jobs,
        job_timeout=args.job_timeout,
        keep_result=KEEP_RESULT_SECONDS,
        poll_delay=0.02,  # an idle worker checks the queue every 20 ms
        job_serializer=dumps,
        job_deserializer=loads,
        burst=args.burst,
        ctx={"worker_name": name, "job_key": settings.redis.job_key,
             "database": database_target(settings),
             "blas_threads": settings.training.blas_threads,
             "redact": redactor_for(settings)},
        log_results=False,
    )
    try:
        await worker.async_run()
    except asyncio.CancelledError:  # SIGTERM/SIGINT: arq cancelled the jobs (they are retried)
        pass
    finally:
        await worker.close()
    log.info("worker %s stopped: %s done, %d retried", name, plural(worker.jobs_complete, "fit"),
             worker.jobs_retried)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `worker` command to the bot's CLI."""
    worker = subparsers.add_parser(
        "worker", help='run queued refits (training.mode = "queue"; needs [redis] url)')
    worker.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="fits run at once by this worker (default: 1)")
    worker.add_argument("--job-timeout", type=float, default=DEFAULT_JOB_TIMEOUT,
                        metavar="SECONDS", help="longest a fit may run; a killed worker's job "
                        f"runs again after this + 10 s (default: {DEFAULT_JOB_TIMEOUT:g})")
    worker.add_argument("--name", help="this worker's name in logs (default: host-pid)")
    worker.add_argument("--burst", action="store_true",
                        help="stop when the queue is empty (benchmarks, one-off catch-up)")
    worker.set_defaults(func=run_worker)
