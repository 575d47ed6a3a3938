"""/rate through the service layer on one big guild: CPU and round trips per rating (on demand).

    python benchmarks/rate_path.py                       # 300,000 ratings, 600 /rate, 8 at once
    python benchmarks/rate_path.py --ratings 1e6 --rates 1000

No Discord and no emulator: the real `Storage` (SQLite: writer, reader pool, batch writer) and
the real `RecommendationService` + `RatingService`, with the guild's model fitted by the bot's
own refit job and loaded in memory, as on a bot whose big guild is busy. Members rate popular
movies, `--concurrency` at a time. Reported per /rate: the process's CPU time (every thread:
the loop, the connections' threads), the event loop thread's CPU time, round trips to the
connections' threads, and wall-clock p50/p99 (noisy on a shared machine: the CPU figures are
the comparable ones). Runs against whatever code is on PYTHONPATH, so the same command measures
an older checkout (it uses only `RatingService.rate`, `Storage`, `RecommendationService`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.many_guilds import build_database, pretrain  # noqa: E402

GUILD = 424242


async def run(args: argparse.Namespace) -> None:
    from bot.config import Settings, TrainingSettings
    from bot.service.gate import Gate
    from bot.service.ratings import RatingService
    from bot.service.service import RecommendationService
    from bot.storage import Storage

    with tempfile.TemporaryDirectory(prefix="rate-path-") as tmp:
        path = Path(tmp) / "bench.sqlite3"
        commanders = [[1, 2, 3], [4, 5, 6]]  # a second, tiny guild: the builder wants one
        t0 = time.monotonic()
        movie_ids = await build_database(path, [GUILD, GUILD + 1], commanders,
                                         np.array([int(args.ratings), 10]), args.movies, 0)
        await pretrain(path, [GUILD], workers=1)
        print(f"guild of {int(args.ratings):,} ratings built and fitted in "
              f"{time.monotonic() - t0:.1f} s", flush=True)
        settings = Settings(token="bench", database=path,
                            training=TrainingSettings(debounce_seconds=3600.0))
        storage = await Storage.open(path)
        recs = RecommendationService(storage, settings)
        ratings = RatingService(storage, recs, Gate())
        try:
            await recs.recommend(GUILD, 1, n=5)  # the model in memory
            await recs.wait_idle(GUILD)
            members = [int(m) for m in (await storage.guild_ratings(GUILD)).user_ids[::97]]
            rng = np.random.default_rng(1)
            popular = movie_ids[:2000]
            trips = [0]
            connections = [storage._conn, storage._bulk, *storage._readers._connections]
            for conn in {id(c): c for c in connections}.values():
                execute = conn._execute

                async def counted(fn, *a, _execute=execute, **kw):
                    trips[0] += 1
                    return await _execute(fn, *a, **kw)

                conn._execute = counted
            movies = {}
            for movie_id in set(int(m) for m in popular):
                movies[movie_id] = await storage.get_movie(GUILD, movie_id)
            walls: list[float] = []
            predicted = [0]

            async def one() -> None:
                member = members[int(rng.integers(0, len(members)))]
                movie = movies[int(popular[int(rng.integers(0, len(popular)))])]
                start = time.perf_counter()
                outcome = await ratings.rate(GUILD, member, movie, int(rng.integers(1, 11)))
                walls.append(time.perf_counter() - start)
                predicted[0] += outcome.predicted is not None

            cpu0, loop0, trips[0] = time.process_time(), time.thread_time(), 0
            t0 = time.perf_counter()
            for _ in range(args.rates // args.concurrency):
                await asyncio.gather(*(one() for _ in range(args.concurrency)))
            seconds = time.perf_counter() - t0
            cpu, loop_cpu = time.process_time() - cpu0, time.thread_time() - loop0
            n = len(walls)
            ms = np.array(walls) * 1000
            print(f"{n} /rate, {args.concurrency} at once, in {seconds:.1f} s; with a "
                  f"prediction: {predicted[0]}")
            print(f"per /rate: process CPU {1000 * cpu / n:.2f} ms (every thread), event loop "
                  f"thread {1000 * loop_cpu / n:.2f} ms, round trips to connection threads "
                  f"{trips[0] / n:.1f}")
            print(f"wall: p50 {np.percentile(ms, 50):.1f} ms, p99 {np.percentile(ms, 99):.1f} "
                  f"ms, max {ms.max():.1f} ms")
        finally:
            await recs.close()
            await storage.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ratings", type=float, default=3e5)
    p.add_argument("--movies", type=int, default=10_000)
    p.add_argument("--rates", type=int, default=600)
    p.add_argument("--concurrency", type=int, default=8)
    args = p.parse_args(argv)
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
