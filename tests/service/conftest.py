"""Shared fixture of the service tests: a real database with the starter catalog (a copy of
the one a first start leaves, tests/first_start.py)."""

from __future__ import annotations

import pytest
from first_start import first_start_database

from bot.storage import Storage


@pytest.fixture
async def storage(tmp_path, tmp_path_factory):
    path = await first_start_database(tmp_path / "service.sqlite3", tmp_path_factory)
    store = await Storage.open(path)
    yield store
    await store.close()
