"""The refit queue as an intruder on the operator's network sees it (security issue, round 2,
rows 6 and 7; the admin issue's item 2), against real PostgreSQL, Redis and worker processes.

* Row 6: a queued job carries no secret (no database URL, password or path: the guild id and
  bounded settings), and neither the worker's log (its start line, arq's job line, the fit)
  nor a cluster's start-up log prints a password; the start lines say which database
  (host/name), which Redis and which shards.
* Row 7: a job written straight into Redis (unsigned, signed with another key, replayed, out of
  bounds, or naming a database) is refused and logged, and the saved model stays the one the
  real refit saved; a worker without a job key does not start; the cluster compose file gives
  Redis a password and every bot URL uses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pytest
import yaml
from cluster_support import JOB_KEY, REPO, Proc, Procs, child_env

from bot.catalog.starter import ensure_starter_catalog
from bot.config import default_settings
from bot.domain.tuning import FEATURES_RANGE, REGULARIZATION_RANGE
from bot.service.queue import (
    JOB_FUNCTION,
    MAX_JOB_AGE,
    QUEUE_NAME,
    QueueLane,
    RefusedJob,
    dumps,
    job_from_dict,
    job_to_dict,
    loads,
    redis_settings,
    sign,
)
from bot.service.worker import RefitJob
from bot.storage import Storage, open_storage
from recommender import ModelConfig

GUILD = 82_000_000_000_000_001
PG_PASSWORD = "pg-Pa55word-4431"
REDIS_PASSWORD = "redis-Pa55word-9920"
HELPER = str(Path(__file__).with_name("cluster_helper.py"))


def job_for(database: str, **changes: Any) -> RefitJob:
    job = RefitJob(database=database, guild_id=GUILD, config=ModelConfig(features=4, reg=5.0),
                   settings_key="test", tune_reg=False, max_ratings=1_000_000,
                   max_cells=10_000_000)
    return dataclasses.replace(job, **changes)


async def seed(storage: Storage, members: int = 30) -> None:
    await ensure_starter_catalog(storage)
    movies = [m.id for m in await storage.search_movies(GUILD, "the", limit=30)]
    rng = np.random.default_rng(0)
    for user in range(1, members + 1):
        for movie in rng.choice(movies, 12, replace=False):
            await storage.upsert_rating(GUILD, user, int(movie), int(rng.integers(1, 11)))


def with_credentials(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    netloc = f"{user}:{password}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


@pytest.fixture
def pg_with_password(postgres_database: str) -> Iterator[str]:
    """The test database, owned by a role that logs in with a password: its URL."""
    import asyncpg

    role = f"mb_{uuid.uuid4().hex[:12]}"

    async def run(url: str, *sql: str) -> None:
        conn = await asyncpg.connect(url)
        try:
            for statement in sql:
                await conn.execute(statement)
        finally:
            await conn.close()

    name = postgres_database.rpartition("/")[2]
    asyncio.run(run(postgres_database, f"CREATE ROLE {role} LOGIN PASSWORD '{PG_PASSWORD}'",
                    f'ALTER DATABASE "{name}" OWNER TO {role}'))
    try:
        yield with_credentials(postgres_database, role, PG_PASSWORD)
    finally:
        asyncio.run(run(postgres_database, f"REASSIGN OWNED BY {role} TO CURRENT_USER",
                        f"DROP OWNED BY {role}", f'ALTER DATABASE "{name}" OWNER TO '
                        "CURRENT_USER"))
        asyncio.run(run(postgres_database.rpartition("/")[0] + "/postgres",
                        f"DROP ROLE IF EXISTS {role}"))


@pytest.fixture
def redis_with_password(redis_db: str) -> Iterator[str]:
    """A Redis user with a password (an ACL user on the test server): its URL."""
    import redis

    user = f"mb-{uuid.uuid4().hex[:12]}"
    client = redis.Redis.from_url(redis_db)
    client.execute_command("ACL", "SETUSER", user, "on", f">{REDIS_PASSWORD}", "~*", "&*",
                           "+@all")
    try:
        yield with_credentials(redis_db, user, REDIS_PASSWORD)
    finally:
        client.execute_command("ACL", "DELUSER", user)
        client.close()


def no_secret_in(text: str, *secrets: str) -> None:
    for secret in (PG_PASSWORD, REDIS_PASSWORD, JOB_KEY, *secrets):
        assert secret not in text, f"{secret!r} printed:\n{text[-3000:]}"


async def queued_payload(redis_url: str, timeout: float = 20.0) -> bytes:  # noqa: ASYNC109
    """The raw bytes of the guild's job as it sits in Redis."""
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        deadline = time.monotonic() + timeout
        while (raw := await client.get(f"arq:job:refit:{GUILD}")) is None:
            assert time.monotonic() < deadline, "the job never reached Redis"
            await asyncio.sleep(0.02)
        return bytes(raw)
    finally:
        await client.aclose()


async def wait_text(proc: Proc, needle: str, timeout: float = 30.0) -> str:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while needle not in (text := proc.text()):
        assert time.monotonic() < deadline and proc.popen.poll() is None, (
            f"{proc.name}: no {needle!r}\n{text[-3000:]}")
        await asyncio.sleep(0.05)
    return text


@contextlib.asynccontextmanager
async def emulator() -> AsyncIterator[Any]:
    from emulator import DiscordEmulator

    emu = DiscordEmulator(token="cluster-test-token")
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


@pytest.mark.slow
async def test_jobs_and_logs_carry_no_secret(tmp_path, pg_with_password, redis_with_password,
                                             procs: Procs):
    database, redis_url = pg_with_password, redis_with_password
    host = urlsplit(database)
    storage = await open_storage(dataclasses.replace(default_settings(), database_url=database))
    try:
        await seed(storage)
    finally:
        await storage.close()

    # The job as it sits in Redis, before any worker takes it: the guild and its settings.
    lane = QueueLane(redis_url, JOB_KEY)
    try:
        refit = asyncio.create_task(lane.refit(job_for(database)))
        raw = await queued_payload(redis_url)
        no_secret_in(raw.decode())
        payload = loads(raw)["a"][0]
        assert "database" not in payload and str(host.path) not in raw.decode()
        assert payload["guild_id"] == GUILD and isinstance(payload["sig"], str)
        worker = await asyncio.to_thread(lambda: procs.worker("w1", redis_url,
                                                              database=database))
        result = await asyncio.wait_for(refit, 60)
        assert result.saved and result.blob is not None
    finally:
        await lane.aclose()
    text = await wait_text(worker, "fit done guild=")
    start = next(line for line in text.splitlines() if "worker w1 starting" in line)
    assert f"database postgresql://{host.hostname}:{host.port}{host.path}" in start
    redis_parts = urlsplit(redis_url)
    assert f"Redis redis://{redis_parts.hostname}:{redis_parts.port}{redis_parts.path}" in start
    assert f"refit:{GUILD}:refit(" in text  # arq's job line: the arguments, no secret
    no_secret_in(text)

    # A cluster process of the same deployment: its start lines and its health, no secret.
    config = tmp_path / "cluster.toml"
    config.write_text(
        f'[storage]\nurl = "{database}"\n[redis]\nurl = "{redis_url}"\njob_key = "{JOB_KEY}"\n'
        '[sharding]\nshard_count = 4\nclusters = 2\nidentify_seconds = 0.3\n'
        '[training]\nmode = "queue"\n', encoding="utf-8")
    config.chmod(0o600)
    async with emulator() as emu:
        emu.configure_sharding(4, max_concurrency=1, identify_window=0.3)
        emu.create_sharded_guilds(4, 4)
        cluster = procs.start("c1", [HELPER, emu.base_url, "--config", str(config), "run"],
                              child_env(DISCORD_TOKEN="cluster-test-token",
                                        MOVIEBOT_CLUSTER_ID="1"))
        text = await wait_text(cluster, "connected to Discord")
        health = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--config", str(config), "health",
            env=child_env(MOVIEBOT_CLUSTER_ID="1"), cwd=str(tmp_path),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        health_out = (await health.communicate())[0].decode()
        cluster.popen.send_signal(signal.SIGTERM)
        await asyncio.to_thread(cluster.popen.wait, 30)
    start = next(line for line in cluster.text().splitlines() if "starting:" in line)
    assert f"database postgresql://{host.hostname}:{host.port}{host.path}" in start
    assert "cluster 1 of 2, shards 2-3 of 4" in start
    assert f"Redis redis://{redis_parts.hostname}:{redis_parts.port}{redis_parts.path}" in start
    no_secret_in(cluster.text() + health_out)
    assert "stopped cleanly" in cluster.text(), text[-3000:]


def forged(fields: dict[str, Any], key: str | None = JOB_KEY) -> dict[str, Any]:
    return {**fields, "sig": sign(fields, key)} if key else fields


async def enqueue_raw(redis_url: str, payload: Any, job_id: str) -> Any:
    """What an intruder with Redis access does: a job of the refit function, written
    straight into the queue."""
    from arq import create_pool

    pool = await create_pool(redis_settings(redis_url), default_queue_name=QUEUE_NAME,
                             job_serializer=dumps, job_deserializer=loads)
    try:
        job = await pool.enqueue_job(JOB_FUNCTION, payload, _job_id=job_id)
        assert job is not None
        return await job.result(timeout=30, poll_delay=0.05)
    finally:
        await pool.aclose()


@pytest.mark.slow
async def test_forged_jobs_are_refused_and_the_model_stays(tmp_path, redis_db, procs: Procs):
    path = tmp_path / "bot.sqlite3"
    storage = await Storage.open(path)
    try:
        await seed(storage)
    finally:
        await storage.close()
    worker = procs.worker("w1", redis_db, database=path)
    lane = QueueLane(redis_db, JOB_KEY)
    try:
        real = await lane.refit(job_for(str(path)))
    finally:
        await lane.aclose()
    assert real.saved and real.blob is not None

    elsewhere = tmp_path / "elsewhere.sqlite3"
    good = job_to_dict(job_for(str(path)), JOB_KEY)
    fields = {k: v for k, v in good.items() if k != "sig"}
    crippled = {**fields, "features": 2, "reg": 0.01, "maxiter": 1, "settings_key": "x"}
    attacks = {
        # The old job format: a database path and a crippling config, unsigned.
        "old-format": {"database": str(elsewhere), "guild_id": GUILD,
                       "config": {"features": 2, "reg": 0.0, "maxiter": 1},
                       "settings_key": "x", "tune_reg": False, "max_ratings": 10**9,
                       "max_cells": 10**12},
        "unsigned": crippled,
        "other-key": forged(crippled, "not-the-job-key-at-all-0000"),
        "tampered": {**good, "maxiter": 1},
        "named-database": forged({**fields, "database": str(elsewhere)}),
        "out-of-bounds": forged({**fields, "features": 5000, "max_cells": 10**15}),
        "replayed": forged({**fields, "issued_at": time.time() - MAX_JOB_AGE - 60}),
    }
    for name, payload in attacks.items():
        report = await enqueue_raw(redis_db, payload, f"forged:{name}")
        assert isinstance(report, dict) and str(report["error"]).startswith("refused"), name
    text = worker.text()
    assert text.count("refused job forged:") == len(attacks), text[-3000:]
    assert "bad signature" in text and "not signed" in text and "outside" in text
    assert text.count("fit start guild=") == 1  # only the real refit ran
    assert not elsewhere.exists()
    storage = await Storage.open(path)
    try:
        state = await storage.load_model_state(GUILD)
    finally:
        await storage.close()
    assert state is not None and state.blob == real.blob and state.settings_key == "test"


def test_job_settings_have_the_ranges_of_settings():
    """A signed job is still bounded: the ranges `/settings` and the config accept."""
    now = time.time()
    base = job_for("/x.sqlite3")

    def check(**changes: Any) -> RefitJob:
        fields = {k: v for k, v in job_to_dict(base, JOB_KEY, now=now).items() if k != "sig"}
        fields.update(changes)
        return job_from_dict(forged(fields), JOB_KEY, database="/own.sqlite3", now=now)

    low, high = FEATURES_RANGE
    assert check(features=low).config.features == low
    assert check(features=high).database == "/own.sqlite3"  # the worker's own, always
    reg_low, reg_high = REGULARIZATION_RANGE
    assert check(reg=reg_high).config.reg == reg_high
    for bad in ({"features": low - 1}, {"features": high + 1}, {"reg": reg_low / 2},
                {"reg": float("nan")}, {"reg": reg_high * 2}, {"maxiter": 0},
                {"max_ratings": 10**12}, {"max_cells": 1}, {"guild_id": -1},
                {"tune_reg": 1}, {"features": 4.0}, {"settings_key": "k" * 1000},
                {"issued_at": now + 3600}, {"v": 2}):
        with pytest.raises(RefusedJob):
            check(**bad)


@pytest.mark.slow
def test_a_worker_without_a_job_key_does_not_start(tmp_path, redis_db, procs: Procs):
    path = tmp_path / "bot.sqlite3"
    path.write_bytes(b"")  # a database file is there: the key is what is missing
    for key, needle in (("", "job_key"), ("short", "at least 16 characters")):
        proc = procs.start(f"nokey{len(key)}", ["-m", "bot", "worker", "--burst"],
                           child_env(MOVIEBOT_REDIS_URL=redis_db, MOVIEBOT_DATABASE=str(path),
                                     **({"MOVIEBOT_REDIS_JOB_KEY": key} if key else {})))
        assert proc.popen.wait(60) == 2
        assert needle in proc.text() and "Traceback" not in proc.text()


def test_the_cluster_compose_file_gives_redis_a_password():
    compose = yaml.safe_load((REPO / "docker-compose.cluster.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    redis_command = " ".join(services["redis"]["command"])
    assert "--requirepass" in redis_command and "REDIS_PASSWORD" in redis_command
    assert "REDIS" in " ".join(services["redis"]["healthcheck"]["test"])
    for name, spec in services.items():
        if "build" not in spec:
            continue
        env = spec["environment"]
        assert env["MOVIEBOT_REDIS_URL"].startswith("redis://:${REDIS_PASSWORD"), name
        assert env["MOVIEBOT_REDIS_JOB_KEY"].startswith("${MOVIEBOT_REDIS_JOB_KEY"), name
