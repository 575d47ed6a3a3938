"""The starter catalog shipped in the package, loaded on a fresh install (works offline).

Loading it is a set-up step tracked on its own in the database (`setup_steps`, migration 6),
not "when the catalog is empty": whichever comes first — the first start, `catalog import`,
`catalog download` or `prior build` — loads it once, so any order gives starter + imported.
The import is idempotent, so a database that already holds the starter movies gains nothing.
"""

from __future__ import annotations

import logging
from importlib import resources

from bot.storage import Storage

from .formats import parse_plain_csv
from .importer import import_movies

STARTER_FILE = "starter_movies.csv"
STARTER_STEP = "starter_catalog"
log = logging.getLogger(__name__)


def read_starter_csv() -> str | None:
    """The packaged starter CSV (title,year,genres), or None when it is missing."""
    try:
        return resources.files("bot.catalog").joinpath(STARTER_FILE).read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return None


async def ensure_starter_catalog(storage: Storage) -> int:
    """Import the starter catalog unless this database has done so; returns movies added."""
    if await storage.setup_step_done(STARTER_STEP):
        return 0
    text = read_starter_csv()
    if text is None:
        log.warning("starter catalog %s is missing from the package; the catalog stays empty",
                    STARTER_FILE)
        return 0
    summary = await import_movies(storage, parse_plain_csv(text.splitlines(keepends=True)))
    for line, reason in summary.bad_rows:
        log.warning("%s line %d: %s (skipped)", STARTER_FILE, line, reason)
    await storage.mark_setup_step(STARTER_STEP)
    return summary.added
