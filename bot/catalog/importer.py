"""Importing parsed movie rows into the shared catalog, in batches, idempotently.

Rows go to `Storage.add_movies_bulk` in batches (one transaction each). A movie whose
normalised title and year (or MovieLens id) is already in the catalog is counted as
"already present" and not added again, so re-importing a file adds nothing. When a taste prior
is installed and the import changed the catalog, the prior is re-linked to it afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from bot.domain.plural import plural
from bot.prior.linking import LinkReport, relink_prior
from bot.storage import MovieRow, Storage

from .formats import BadRow, Parsed

BATCH_SIZE = 2000


@dataclass
class ImportSummary:
    added: int = 0
    skipped_existing: int = 0
    bad_rows: list[tuple[int, str]] = field(default_factory=list)
    ids_filled: int = 0  # existing movies that got missing ids/genres from this import
    prior: LinkReport | None = None  # the taste prior's re-link, when one is installed

    def line(self, source: object) -> str:
        """The summary the CLI prints (a second line when the taste prior was re-linked)."""
        text = (f"Imported {plural(self.added, 'movie')} ({self.skipped_existing} already "
                f"present, {plural(len(self.bad_rows), 'bad row')}) from {source}")
        return text if self.prior is None else f"{text}\n{self.prior.line()}"


async def import_movies(
    storage: Storage,
    rows: Iterable[Parsed],
    progress: Callable[[int], None] | None = None,
    *,
    batch_size: int = BATCH_SIZE,
) -> ImportSummary:
    """Import `rows` (ParsedRow / BadRow from `formats`) into the catalog.

    Bad rows are collected as (line, reason) and skipped. `progress`, when given, is called
    after each batch with the number of rows read so far (a header row is not a row).
    """
    summary = ImportSummary()
    batch: list[MovieRow] = []
    done = 0

    async def flush() -> None:
        if batch:
            result = await storage.add_movies_bulk(batch)
            summary.added += result.added
            summary.skipped_existing += result.existing
            summary.ids_filled += result.updated_ids
            batch.clear()
        if progress is not None:
            progress(done)

    for item in rows:
        done += 1
        if isinstance(item, BadRow):
            summary.bad_rows.append((item.line, item.reason))
            continue
        batch.append(item.movie)
        if len(batch) >= batch_size:
            await flush()
    await flush()
    if summary.added or summary.ids_filled:
        summary.prior = await relink_prior(storage)
    return summary
