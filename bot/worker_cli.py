"""`python -m bot worker`: run queued refits (`training.mode = "queue"`, see bot/service/queue.py).

A worker takes refit jobs from the arq queue on `[redis] url` (`MOVIEBOT_REDIS_URL`), runs each
with `bot.service.worker.run_refit` (read the guild's ratings from the database named in the
job, fit, save under the generation guard) on a thread, and sends back a small report. Start
as many as the fits need, on any machine that reaches Redis and the database. SIGTERM or
Ctrl-C stops it; a job it was running is put back on the queue (arq retries cancelled jobs),
and a job of a worker that was killed outright runs again on another worker once its
in-progress mark expires (`--job-timeout` + 10 s).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import socket
import time
from typing import Any

from bot.config import ConfigError, Settings

log = logging.getLogger("bot.worker")

DEFAULT_JOB_TIMEOUT = 600.0  # seconds a fit may run (a million-rating guild takes ~1 min)
KEEP_RESULT_SECONDS = 120  # the enqueuing cluster deletes a result once read; else it expires
MAX_TRIES = 5


async def refit_task(ctx: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    """One queued refit: the whole `run_refit`, off the worker's event loop."""
    from bot.service.queue import job_from_dict, report_of
    from bot.service.worker import run_refit

    job = job_from_dict(payload)
    worker = str(ctx.get("worker_name", ""))
    log.info("fit start guild=%s try=%s worker=%s", job.guild_id, ctx.get("job_try"), worker)
    started = time.perf_counter()
    try:
        result = await asyncio.to_thread(run_refit, dataclasses.replace(job, return_model=False))
    except Exception as error:  # a bug or a broken database: report it, do not retry 5 times
        log.exception("fit failed guild=%s", job.guild_id)
        return {"error": f"{type(error).__name__}: {error}", "guild_id": job.guild_id}
    log.info("fit done guild=%s ratings=%d saved=%s seconds=%.3f worker=%s", job.guild_id,
             result.n_ratings, result.saved, time.perf_counter() - started, worker)
    return report_of(result, worker=worker)


async def run_worker(args: argparse.Namespace, settings: Settings) -> int:
    from arq.worker import Worker, func

    from bot.service.queue import JOB_FUNCTION, QUEUE_NAME, dumps, loads, redis_settings

    if not settings.redis.url:
        raise ConfigError("python -m bot worker needs Redis: set [redis] url or "
                          "MOVIEBOT_REDIS_URL")
    name = args.name or f"{socket.gethostname()}-{os.getpid()}"
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
        ctx={"worker_name": name},
        log_results=False,
    )
    log.info("worker %s: %d job(s) at a time from %s on Redis (job timeout %gs)", name,
             args.jobs, QUEUE_NAME, args.job_timeout)
    try:
        await worker.async_run()
    except asyncio.CancelledError:  # SIGTERM/SIGINT: arq cancelled the jobs (they are retried)
        pass
    finally:
        await worker.close()
    log.info("worker %s stopped: %d fit(s) done, %d retried", name, worker.jobs_complete,
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
