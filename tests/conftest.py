"""Fixtures for tests that need real services: PostgreSQL and Redis.

`.ci/services.sh start` (what `.ci/run` does) starts both on 127.0.0.1 and exports
`MOVIEBOT_TEST_POSTGRES_URL` (a superuser URL of the server's `postgres` database) and
`MOVIEBOT_TEST_REDIS_URL`. A test asking for a service it cannot have is skipped, except
under `CI=true`, where a missing service is a failure (CI must start them).

* `postgres_url`: the server URL (session scope); `redis_url`: the Redis URL.
* `postgres_database`: a fresh, empty database with `pg_trgm` for one test (dropped after);
  its URL is what `[storage] url` / `MOVIEBOT_DATABASE_URL` would hold;
  `migrated_postgres_database`: the same already migrated (a copy of a template database
  migrated once per session), for tests of what comes after the migrations.
* `drawing_process` (automatic): the pictures' drawing process is started once per session.
* at the end of the session, processes the tests started and left running (found by the
  `MOVIEBOT_TEST_RUN` token they inherit, `tests/processes.py`) are listed, killed, and fail
  the run;
* `timeout_factor`: how much slower than a quiet machine this run is (`timeouts.FACTOR`, from
  `MOVIEBOT_TEST_TIMEOUT_FACTOR` or a calibration); deadlines that depend on machine speed are
  multiplied by it. It is exported to the environment, so test subprocesses share it.
"""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import Coroutine, Iterator
from typing import Any

import processes
import pytest
import timeouts

# Under pytest-xdist (`.ci/run` runs one worker per CPU) this is a worker: "gw0", "gw1"...
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if WORKER:  # the workers share the machine: each one's deadlines stretch (timeouts.py)
    timeouts.FACTOR = timeouts.for_workers(
        timeouts.FACTOR, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1))
    os.environ[processes.WORKER_ENV] = WORKER  # its processes, told apart from the others'
os.environ[timeouts.ENV] = str(timeouts.FACTOR)  # subprocesses of the tests: the same factor
# Every process this run starts inherits the token (unless `.ci/run` set one already), so one
# left behind is found at the end whatever its parent, session or process group became.
RUN_TOKEN = os.environ.setdefault(processes.MARKER_ENV, uuid.uuid4().hex)


def pytest_report_header(config: pytest.Config) -> str:
    return f"timeout factor: {timeouts.FACTOR} (set {timeouts.ENV} to override)"


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """No process of the run may outlive it (`processes.fail_on_leftovers`): a worker checks
    its own processes; the controller (or a run without xdist) all of the run's, once the
    workers have exited."""
    processes.fail_on_leftovers(session, RUN_TOKEN, grace=timeouts.scaled(5), worker=WORKER)


@pytest.fixture(scope="session")
def timeout_factor() -> float:
    """Multiply deadlines that depend on machine speed by this (>= 1)."""
    return timeouts.FACTOR


@pytest.fixture(scope="session", autouse=True)
def drawing_process() -> Iterator[None]:
    """Start the drawing process (`bot.render.pool`) once, before the first test: a bot that
    replies right after start-up would otherwise wait for matplotlib's import in it."""
    from bot.render.pool import DRAWING

    started = DRAWING.warm()
    if started is not None:
        started.result(timeout=60)
    yield
    DRAWING.shutdown()


POSTGRES_ENV = "MOVIEBOT_TEST_POSTGRES_URL"
REDIS_ENV = "MOVIEBOT_TEST_REDIS_URL"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def service_url(env: str, what: str) -> str:
    """The URL in `env`; skip the test without it (fail under CI=true)."""
    url = os.environ.get(env, "").strip()
    if not url:
        message = f"{what} not available: set {env} (bash .ci/services.sh start)"
        if _in_ci():
            pytest.fail(f"CI=true but {message}", pytrace=False)
        pytest.skip(message)
    return url


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The test PostgreSQL server (superuser URL)."""
    return service_url(POSTGRES_ENV, "PostgreSQL")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The test Redis server."""
    return service_url(REDIS_ENV, "Redis")


def database_url(server_url: str, name: str) -> str:
    """`server_url` pointing at database `name` instead."""
    base, _, _db = server_url.rpartition("/")
    return f"{base}/{name}"


async def _create_database(server_url: str, name: str, template: str = "") -> None:
    import asyncpg

    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"'
                           + (f' TEMPLATE "{template}"' if template else ""))
    finally:
        await conn.close()
    if template:  # a copy: pg_trgm (and all else) is in it already
        return
    conn = await asyncpg.connect(database_url(server_url, name))
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    finally:
        await conn.close()


async def _drop_database(server_url: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _run(coro: Coroutine[Any, Any, None]) -> None:
    """Run `coro` to the end, also from code already inside an event loop (an async fixture
    asking for `postgres_database` through `request.getfixturevalue`): on its own thread."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coro)
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def create_database(server_url: str, template: str = "") -> str:
    """A new empty database (with pg_trgm) on the server, or a copy of database `template`;
    returns its URL."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    _run(_create_database(server_url, name, template))
    return database_url(server_url, name)


def drop_database(url: str) -> None:
    server_url = database_url(url, "postgres")
    _run(_drop_database(server_url, url.rpartition("/")[2]))


@pytest.fixture
def postgres_database(postgres_url: str) -> Iterator[str]:
    """A fresh database for one test; its URL. Dropped afterwards."""
    url = create_database(postgres_url)
    try:
        yield url
    finally:
        drop_database(url)


async def _migrate(url: str) -> None:
    from bot.storage import PostgresStorage

    storage = await PostgresStorage.open(url)
    await storage.close()


@pytest.fixture(scope="session")
def migrated_postgres_template(postgres_url: str) -> Iterator[str]:
    """The name of a database migrated to the latest schema by the real code
    (`PostgresStorage.open`), once per session; dropped at the end."""
    url = create_database(postgres_url)
    try:
        _run(_migrate(url))
        yield url.rpartition("/")[2]
    finally:
        drop_database(url)


@pytest.fixture
def migrated_postgres_database(postgres_url: str, migrated_postgres_template: str
                               ) -> Iterator[str]:
    """A fresh database for one test, already migrated (a copy of
    `migrated_postgres_template`: what `postgres_database` is once opened, without running
    every migration again); its URL. Dropped afterwards."""
    url = create_database(postgres_url, template=migrated_postgres_template)
    try:
        yield url
    finally:
        drop_database(url)
