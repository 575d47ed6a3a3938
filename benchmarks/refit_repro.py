"""Deterministic reproductions of the two "refit without a change" paths many_guilds.py found.

    python benchmarks/refit_repro.py

In-process, through `bot.service.app.Services` on a fresh database (starter catalog, three
members rating ten movies in two guilds), `training.mode = "thread"`, debounce 0:

1. **A /rate that stores an unchanged score refits.** `RatingService.rate` calls
   `rating_changed` whatever the previous score was; the guild is marked dirty and refits
   though its ratings version did not move.
2. **A cache miss while the guild's refit is queued or running refits twice.** Guild 1's
   refit for a real change waits in the small lane (kept busy by a 1 s job); guild 1 is
   evicted (cache of one model) and asked for again: its saved model is older than its
   ratings, so `_state` calls `_start_fit`, which finds the fit running and sets `dirty`;
   when that fit ends (it read the newest ratings), `_after_fit` sees `dirty` and schedules
   another fit of the same ratings version.

Each prints the refits it saw as (guild, ratings version); two entries with one version are a
refit without a change. Exit status 0 either way: this documents behaviour, it does not test.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.config import Settings, TrainingSettings  # noqa: E402
from bot.service.app import Services  # noqa: E402


async def open_app(tmp: str, cache_size: int):
    db = Path(tmp) / "repro.sqlite3"
    settings = Settings(token="repro", database=db, training=TrainingSettings(
        debounce_seconds=0.0, mode="thread", cache_size=cache_size))
    app = await Services.open(settings)
    with sqlite3.connect(db) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM movies ORDER BY id LIMIT 30")]
    movies = await app.storage.get_movies(1, ids)
    for guild in (1, 2):
        for member in (11, 12, 13):
            for i, movie in enumerate(ids[:10]):
                await app.ratings.rate(guild, member, movies[movie], 1 + (i * member + guild) % 10)
    return app, ids, movies


def record_refits(recs) -> list[tuple[int, int]]:
    seen: list[tuple[int, int]] = []
    original = recs.pool.refit

    async def refit(job, n_ratings):
        result = await original(job, n_ratings)
        seen.append((job.guild_id, result.ratings_version))
        return result

    recs.pool.refit = refit
    return seen


async def settle(recs, *guilds: int) -> None:
    for _ in range(3):
        await asyncio.sleep(0.3)
        for guild in guilds:
            await recs.wait_idle(guild)


async def same_score() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app, ids, movies = await open_app(tmp, cache_size=32)
        try:
            recs = app.recommendations
            await recs.recommend(1, 11)
            await settle(recs, 1)
            seen = record_refits(recs)
            before = await app.storage.ratings_version(1)
            outcome = await app.ratings.rate(1, 11, movies[ids[0]], 1 + (0 * 11 + 1) % 10)
            await settle(recs, 1)
            print(f"1. /rate with the score it had ({outcome.previous} -> {outcome.score}): "
                  f"ratings version {before[0]} -> {(await app.storage.ratings_version(1))[0]}"
                  f"; refits: {seen}")
        finally:
            await app.close(1)


async def miss_during_refit() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app, ids, movies = await open_app(tmp, cache_size=1)
        try:
            recs = app.recommendations
            for guild in (1, 2, 1):
                await recs.recommend(guild, 11)
                await settle(recs, guild)
            seen = record_refits(recs)
            blocker = asyncio.ensure_future(recs.pool.run(time.sleep, 1.0, lane="small"))
            await asyncio.sleep(0.05)
            await app.ratings.rate(1, 11, movies[ids[20]], 7)  # a real change: refit queued
            await asyncio.sleep(0.05)
            await recs.recommend(2, 11)  # evicts guild 1
            await recs.recommend(1, 11)  # cache miss: the saved model is older than the ratings
            await blocker
            await settle(recs, 1, 2)
            version = (await app.storage.ratings_version(1))[0]
            print(f"2. cache miss while guild 1's refit was queued: guild 1's ratings version "
                  f"{version}; refits: {seen}")
        finally:
            await app.close(1)


def main() -> int:
    asyncio.run(same_score())
    asyncio.run(miss_during_refit())
    return 0


if __name__ == "__main__":
    sys.exit(main())
