"""The starter catalog shipped in the package, loaded on a fresh install (works offline)."""

from __future__ import annotations

import logging
from importlib import resources

from bot.storage import Storage

from .formats import parse_plain_csv
from .importer import import_movies

STARTER_FILE = "starter_movies.csv"
log = logging.getLogger(__name__)


def read_starter_csv() -> str | None:
    """The packaged starter CSV (title,year,genres), or None when it is missing."""
    try:
        return resources.files("bot.catalog").joinpath(STARTER_FILE).read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return None


async def ensure_starter_catalog(storage: Storage) -> int:
    """Import the starter catalog when the shared catalog is empty; returns movies added."""
    if await storage.catalog_count() > 0:
        return 0
    text = read_starter_csv()
    if text is None:
        log.warning("starter catalog %s is missing from the package; the catalog stays empty",
                    STARTER_FILE)
        return 0
    summary = await import_movies(storage, parse_plain_csv(text.splitlines(keepends=True)))
    for line, reason in summary.bad_rows:
        log.warning("%s line %d: %s (skipped)", STARTER_FILE, line, reason)
    return summary.added
