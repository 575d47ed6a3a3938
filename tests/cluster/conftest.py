"""Fixtures for the cluster tests: a Redis database of their own and real worker processes.

Redis comes from `redis_url` (tests/conftest.py: `MOVIEBOT_TEST_REDIS_URL`, skipped without it
unless CI=true). Each test gets database 9 of that server, emptied before and after, so queued
jobs and identify keys never leak between tests. Workers are real `python -m bot worker`
processes, logging to a file the test can read; they are stopped (SIGTERM, then SIGKILL)
after the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cluster_support import Procs

TEST_DB = 9


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


@pytest.fixture
def redis_db(redis_url: str) -> Iterator[str]:
    """An emptied Redis database for this test; its URL."""
    url = with_db(redis_url, TEST_DB)
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
