"""Title search speed: p50/p95 milliseconds of `Storage.search_movies` over many queries.

    python benchmarks/search_speed.py [--queries 300] [--titles 30000]

Uses ../shared/data/ml-latest-small/movies.csv (relative to the repository) when present,
else synthesises `--titles` MovieLens-style titles. Queries mix exact titles, prefixes,
typos, missing articles and year suffixes. Never run in CI.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.catalog.formats import ParsedRow, parse_file  # noqa: E402
from bot.storage import MovieRow, Storage  # noqa: E402

MOVIELENS = ROOT.parent / "shared" / "data" / "ml-latest-small" / "movies.csv"
WORDS = ("night", "day", "love", "war", "star", "dark", "city", "last", "king", "queen",
         "man", "woman", "girl", "boy", "house", "river", "dead", "life", "story", "return",
         "lost", "secret", "blue", "red", "black", "white", "time", "world", "moon", "sun",
         "road", "dream", "ghost", "heart", "fire", "ice", "iron", "golden", "silent", "wild",
         "little", "big", "american", "french")


def synthetic(n: int, rng: random.Random) -> list[MovieRow]:
    rows = []
    for _ in range(n):
        words = rng.sample(WORDS, rng.randint(1, 5))
        title = " ".join(w.capitalize() for w in words)
        if rng.random() < 0.2:
            title = "The " + title
        rows.append(MovieRow(title, rng.randint(1920, 2024), ()))
    return rows


def typo(text: str, rng: random.Random) -> str:
    if len(text) < 4:
        return text
    i = rng.randrange(1, len(text) - 1)
    return text[:i] + text[i + 1] + text[i] + text[i + 2:]


def make_queries(rows: list[MovieRow], n: int, rng: random.Random) -> list[str]:
    queries = []
    for row in rng.sample(rows, n):
        title = row.title.removeprefix("The ").removeprefix("A ")
        kind = rng.randrange(5)
        if kind == 0:
            queries.append(title)
        elif kind == 1:
            queries.append(title[: rng.randint(2, max(2, min(8, len(title))))])
        elif kind == 2:
            queries.append(typo(title.lower(), rng))
        elif kind == 3:
            queries.append(f"{title} {row.year}" if row.year else title)
        else:
            queries.append(" ".join(title.split()[:2]).lower())
    return queries


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--titles", type=int, default=30_000)
    parser.add_argument("--movielens", type=Path, default=MOVIELENS)
    args = parser.parse_args()
    rng = random.Random(0)
    if args.movielens.exists():
        rows = [p.movie for p in parse_file(args.movielens) if isinstance(p, ParsedRow)]
        source = str(args.movielens)
    else:
        rows = synthetic(args.titles, rng)
        source = "synthetic"
    with tempfile.TemporaryDirectory() as folder:
        storage = await Storage.open(Path(folder) / "bench.sqlite3")
        start = time.perf_counter()
        for i in range(0, len(rows), 5000):
            await storage.add_movies_bulk(rows[i:i + 5000])
        load = time.perf_counter() - start
        count = await storage.movie_count()
        queries = make_queries(rows, min(args.queries, len(rows)), rng)
        for query in queries[:20]:  # warm up caches
            await storage.search_movies(1, query)
        times = []
        for query in queries:
            t0 = time.perf_counter()
            await storage.search_movies(1, query, limit=25)
            times.append((time.perf_counter() - t0) * 1000)
        await storage.close()
    times.sort()
    p95 = times[int(0.95 * (len(times) - 1))]
    print(f"titles: {count} ({source}), import {load:.2f}s")
    print(f"search over {len(times)} queries: p50 {statistics.median(times):.1f} ms, "
          f"p95 {p95:.1f} ms, max {times[-1]:.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
