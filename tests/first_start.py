"""An SQLite database as the bot's first start leaves it (migrated, starter catalog loaded),
built once per test process by the real code, for tests whose bot or services start on a copy.

Loading the starter catalog (~430 movies parsed, normalised and inserted) on every test's fresh
database was a large share of each end-to-end test's set-up; what the tests check starts after
it. The first start itself stays covered where it is the subject: the catalog tests, the
PostgreSQL end-to-end tests (a fresh database each) and the offline-start test.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from bot.catalog.starter import ensure_starter_catalog
from bot.storage import Storage

_template: Path | None = None


async def first_start_database(target: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Copy the first-start database to `target` (a file that must not exist yet); returns it."""
    global _template
    if _template is None:
        path = tmp_path_factory.mktemp("first-start") / "bot.sqlite3"
        storage = await Storage.open(path)
        try:
            await ensure_starter_catalog(storage)
        finally:
            await storage.close()
        _template = path
    await asyncio.to_thread(_copy, _template, target)
    return target


def _copy(template: Path, target: Path) -> None:
    leftovers = [p.name for p in template.parent.iterdir() if p != template]
    assert not leftovers, f"the closed template database left {leftovers}"  # no -wal, -shm
    assert not target.exists(), target
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(template, target)  # with its mode (owner-only, as the bot creates it)
