"""Shared fixture of the service tests: a real database with the starter catalog."""

from __future__ import annotations

import pytest

from bot.catalog.starter import ensure_starter_catalog
from bot.storage import Storage


@pytest.fixture
async def storage(tmp_path):
    store = await Storage.open(tmp_path / "service.sqlite3")
    await ensure_starter_catalog(store)
    yield store
    await store.close()
