"""Coalescing concurrent rating writes into one transaction.

Every `/rate` is a small write, and SQLite has one writer: a burst of ratings used to run as
as many `BEGIN IMMEDIATE ... COMMIT` transactions, one after another, each a few round trips to
the writer connection's thread. `RatingBatcher` queues the calls that arrive while a batch is
being written and writes them together in the next transaction (no artificial delay: a lone
rating is written at once). Each caller still gets its own answer (the previous score, or its
own error) and its rating is committed before it returns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

MAX_BATCH = 256  # ratings per transaction


@dataclass(slots=True)
class PendingRating:
    """One `upsert_rating` call waiting for its batch."""

    guild_id: int
    user_id: int
    movie_id: int
    score: int
    unwatch: bool
    future: asyncio.Future[int | None] | None = field(default=None, compare=False)


WriteBatch = Callable[[Sequence[PendingRating]], Awaitable[list[int | Exception | None]]]


class RatingBatcher:
    """Queues `PendingRating`s and writes them in batches with `write_batch` (one transaction
    per batch, batches one after another)."""

    def __init__(self, write_batch: WriteBatch) -> None:
        self._write_batch = write_batch
        self._pending: list[PendingRating] = []
        self._flusher: asyncio.Task[None] | None = None

    async def write(self, item: PendingRating) -> int | None:
        """Queue `item` and wait until its batch is committed: its previous score, or its
        error raised."""
        item.future = asyncio.get_running_loop().create_future()
        self._pending.append(item)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="rating-writer")
        return await item.future

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                results = await self._write_batch(batch)
            except BaseException as error:  # the whole batch failed (or we were cancelled)
                for item in batch:
                    _settle(item, error if isinstance(error, Exception)
                            else asyncio.CancelledError())
                if not isinstance(error, Exception):
                    for item in self._pending:
                        _settle(item, asyncio.CancelledError())
                    self._pending = []
                    raise
                continue
            for item, result in zip(batch, results, strict=True):
                _settle(item, result)

    async def drain(self) -> None:
        """Wait for every queued rating to be written (before the connection closes)."""
        while self._flusher is not None and not self._flusher.done():
            await asyncio.wait({self._flusher})


def _settle(item: PendingRating, result: int | BaseException | None) -> None:
    future = item.future
    if future is None or future.done():  # the caller gave up waiting: the write stands
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)
