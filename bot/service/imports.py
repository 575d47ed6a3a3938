"""ImportService: a member brings their history (`/import`), previewed first, then written
whole.

`preview` reads the file (`bot.service.import_formats`), matches each row to a movie visible
in the guild — by IMDb id where the row has one and the catalog knows it, else by normalised
title (`bot.domain.title_forms.normalize`, the shared title rules) and year (the exact year, else
the one movie of that title a year off, else the one movie of that title when the row has no
year), else lists it as unmatched — and counts what would change. Nothing is written.

The file is read, and the plan computed, on the import thread (`IMPORT_THREADS`, its own: a
hostile upload never holds the event loop nor the threads other services use) within the
reading budget of `bot.service.import_formats`; at most `MAX_WAITING` uploads wait for it
(more are refused with "busy"), so no member's command waits on another's import.

`apply` writes the plan in one transaction (`Storage.import_history`: all or nothing) and
tells the recommender once, so the member's picks use the imported ratings at once (fold-in)
and the guild refits once, debounced, however many rows there were.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from bot.domain.models import ImportCounts, Movie
from bot.domain.title_forms import normalize
from bot.domain.watchlist import MAX_WATCHLIST
from bot.i18n import _
from bot.service.gate import Gate
from bot.service.import_formats import (
    MAX_ROWS,
    HistoryFile,
    HistoryRow,
    ImportFileError,
    read_history,
)
from bot.service.service import RecommendationService
from bot.storage import Storage

MAX_IMPORT_BYTES = 4 * 1024 * 1024
"""Our own cap on an uploaded file, below Discord's attachment limit."""
IMPORT_THREADS = 2
"""Uploads read at once (each within `import_formats.READ_SECONDS`)."""
MAX_WAITING = 8
"""Uploads that may be queued or being read at once; more are refused until one finishes."""

T = TypeVar("T")


@dataclass(frozen=True)
class ImportPlan:
    """What an import would do; `apply` writes exactly this."""

    guild_id: int
    user_id: int
    kind: str  # "Letterboxd ratings", "IMDb ratings", ... (English: `_(kind)` where shown)
    ratings: tuple[tuple[int, int], ...]  # (movie id, score 1..10), one per movie
    watchlist: tuple[int, ...]  # movie ids not rated by the member
    rows: int  # rows read (rated and watchlist)
    matched: int  # rows matched to a movie
    unmatched: tuple[str, ...]  # "Title (Year)" of each row not found, in file order
    new: int  # movies rated for the first time
    overwrites: int  # existing ratings the file changes
    already_watchlisted: int
    watchlist_room: int = MAX_WATCHLIST  # movies the member's watchlist has room for now


class ImportService:
    def __init__(self, storage: Storage, recommendations: RecommendationService,
                 gate: Gate) -> None:
        self.storage = storage
        self.recommendations = recommendations
        self.gate = gate
        self._executor = ThreadPoolExecutor(IMPORT_THREADS, thread_name_prefix="import")
        self.waiting = 0  # uploads queued or being read now

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _off_loop(self, work: Callable[[], T]) -> T:
        """`work` on the import thread, in this task's context: its refusals are worded in
        the member's language (`bot.i18n`; an executor does not carry context by itself)."""
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, lambda: context.run(work))

    async def preview(self, guild_id: int, user_id: int, filename: str, data: bytes, *,
                      max_rows: int = MAX_ROWS) -> ImportPlan:
        """The plan for this file (ImportFileError, one line, if it cannot be read)."""
        if self.waiting >= MAX_WAITING:
            raise ImportFileError(_("Many imports are being read right now; try again in a "
                                    "minute."))
        self.waiting += 1
        try:
            history, keys = await self._off_loop(
                lambda: _read_with_keys(filename, data, max_rows))
        finally:
            self.waiting -= 1
        async with self.gate.enter():
            found = await self._match(guild_id, history, keys)
            rated_ids, rated_scores = await self.storage.member_rating_arrays(guild_id, user_id)
            watchlisted = {e.movie.id for e in await self.storage.watchlist(guild_id, user_id)}
        return await self._off_loop(lambda: _plan(
            guild_id, user_id, history, found, rated_ids, rated_scores, watchlisted))

    async def apply(self, plan: ImportPlan) -> ImportCounts:
        """Write the plan in one transaction, then notify the recommender once."""
        async with self.gate.enter():
            counts = await self.storage.import_history(plan.guild_id, plan.user_id,
                                                       plan.ratings, plan.watchlist,
                                                       watchlist_cap=MAX_WATCHLIST)
            if counts.added or counts.changed:
                await self.recommendations.rating_changed(plan.guild_id, plan.user_id)
            return counts

    async def _match(self, guild_id: int, history: HistoryFile,
                     keys: dict[HistoryRow, str]) -> dict[HistoryRow, Movie]:
        """{row: the movie it names} for the rows found in the guild's catalog (`keys`: each
        row's normalised title)."""
        rows = history.ratings + history.watchlist
        by_imdb = await self.storage.movies_by_imdb(
            guild_id, {r.imdb_id for r in rows if r.imdb_id})
        found: dict[HistoryRow, Movie] = {}
        rest: list[HistoryRow] = []
        for row in rows:
            movie = by_imdb.get(row.imdb_id) if row.imdb_id else None
            if movie is not None:
                found[row] = movie
            else:
                rest.append(row)
        by_title = await self.storage.movies_by_title(guild_id, {keys[row] for row in rest})
        for row in rest:
            movie = pick_by_year(by_title.get(keys[row], []), row.year)
            if movie is not None:
                found[row] = movie
        return found


def _read_with_keys(filename: str, data: bytes,
                    max_rows: int) -> tuple[HistoryFile, dict[HistoryRow, str]]:
    """The file's rows and each row's normalised title (on the import thread)."""
    history = read_history(filename, data, max_rows=max_rows)
    return history, {row: normalize(row.title)
                     for row in history.ratings + history.watchlist}


def _plan(guild_id: int, user_id: int, history: HistoryFile, found: dict[HistoryRow, Movie],
          rated_ids: np.ndarray, rated_scores: np.ndarray, watchlisted: set[int]) -> ImportPlan:
    """What importing `history` would change, given the member's ratings and watchlist."""
    existing = {int(m): int(s) for m, s in zip(rated_ids, rated_scores, strict=True)}
    ratings: dict[int, int] = {}
    unmatched: list[str] = []
    for row in history.ratings:
        movie = found.get(row)
        if movie is None:
            unmatched.append(row.label)
        else:
            assert row.score is not None
            ratings.pop(movie.id, None)  # the last row of a movie wins
            ratings[movie.id] = row.score
    watch: dict[int, None] = {}
    for row in history.watchlist:
        movie = found.get(row)
        if movie is None:
            unmatched.append(row.label)
        elif movie.id not in ratings and movie.id not in existing:
            watch[movie.id] = None
    return ImportPlan(
        guild_id=guild_id, user_id=user_id, kind=history.kind,
        ratings=tuple(ratings.items()), watchlist=tuple(watch),
        rows=history.rows, matched=history.rows - len(unmatched),
        unmatched=tuple(unmatched),
        new=sum(1 for m in ratings if m not in existing),
        overwrites=sum(1 for m, s in ratings.items() if m in existing and existing[m] != s),
        already_watchlisted=sum(1 for m in watch if m in watchlisted),
        watchlist_room=max(MAX_WATCHLIST - len(watchlisted), 0))


def pick_by_year(candidates: list[Movie], year: int | None) -> Movie | None:
    """The movie a title + year names among same-title movies (guild's own first): the
    exact year; else the only one a year off (sites disagree on release years); with no
    year, the only one there is."""
    if not candidates:
        return None
    if year is None:
        return candidates[0] if len(candidates) == 1 else None
    exact = [m for m in candidates if m.year == year]
    if exact:
        return exact[0]
    near = [m for m in candidates if m.year is not None and abs(m.year - year) == 1]
    return near[0] if len(near) == 1 else None
