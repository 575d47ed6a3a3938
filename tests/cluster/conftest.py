"""Fixtures for the cluster tests: a Redis database of their own and real worker processes.

Redis comes from `redis_url` (tests/conftest.py: `MOVIEBOT_TEST_REDIS_URL`, skipped without it
unless CI=true). Each test session claims a database number of its own on that server (a key
in database 0, released at the end, expiring if the session dies), and each test gets that
database emptied before and after, so queued jobs and identify keys never leak between tests,
nor between test sessions sharing the server (another session's worker would take this one's
jobs). Workers are real `python -m bot worker`
processes, logging to a file the test can read; they are stopped (SIGTERM, then SIGKILL)
after the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cluster_support import Procs

CLAIMABLE_DBS = range(1, 16)  # Redis' default 16 databases; 0 holds the claims
CLAIM_SECONDS = 4 * 3600


def with_db(url: str, db: int) -> str:
    base, _, tail = url.rstrip("/").rpartition("/")
    if base.endswith(":/") or not tail.isdigit():  # no database number in the URL
        return f"{url.rstrip('/')}/{db}"
    return f"{base}/{db}"


def _flush(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


@pytest.fixture(scope="session")
def session_db(redis_url: str) -> Iterator[int]:
    """A Redis database number no other test session on the server uses meanwhile."""
    import os
    import uuid

    import redis

    client = redis.Redis.from_url(with_db(redis_url, 0))
    token = f"{os.getpid()}-{uuid.uuid4().hex}"
    try:
        for db in CLAIMABLE_DBS:
            if client.set(f"moviebot-tests:db-claim:{db}", token, nx=True, ex=CLAIM_SECONDS):
                break
        else:
            pytest.fail("every Redis test database is claimed by another test session")
        yield db
        if client.get(f"moviebot-tests:db-claim:{db}") == token.encode():
            client.delete(f"moviebot-tests:db-claim:{db}")
    finally:
        client.close()


@pytest.fixture
def redis_db(redis_url: str, session_db: int) -> Iterator[str]:
    """An emptied Redis database for this test; its URL."""
    url = with_db(redis_url, session_db)
    _flush(url)
    yield url
    _flush(url)


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Procs]:
    """Start processes (workers, clusters) that are stopped after the test."""
    running = Procs(tmp_path)
    try:
        yield running
    finally:
        running.stop_all()
