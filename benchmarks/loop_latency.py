"""Event-loop latency of the real bot while a big guild retrains (run on demand, not in CI).

One guild ("Big") holds about a million synthetic ratings (low-rank tastes, long-tail movie
popularity, 10,000 synthetic movies); another ("Chat") has a few members who send a steady
stream of /rate and /recommend through the local Discord emulator. For each interaction we
measure the time from just before the emulator sends INTERACTION_CREATE to the moment the bot's
first callback request reaches the emulator (`Interaction.sent_at` ->
`Interaction.callback_received_at`), in these scenarios:

* idle: nobody trains;
* thread-pool training: Big refits back to back on the thread pool (`training.mode = "thread"`);
* process-pool training: the same with the process pool (`training.mode = "process"`);
* cached /recommend: one member asks again and again (model trained, nothing training), both
  the first callback (the "thinking…" defer) and the full answer (the edit of that message).

For the training scenarios the refits' spans (read the ratings, fit, serialise, save) and the
fits' own start/end in the pool (a wrapper around `TrainingPool.fit`) are recorded, and the
table says how much of the measurement window each covered; the run fails (exit 1) if the
training did not overlap the window.

    python benchmarks/loop_latency.py                       # 1,000,000 ratings, 1000 requests
    python benchmarks/loop_latency.py --ratings 200000 --requests 300   # a quicker look

Targets: p99 under 100 ms under training load; a cached /recommend under 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.client import create_bot  # noqa: E402
from bot.config import LimitSettings, Settings, TrainingSettings  # noqa: E402
from bot.service.training import TrainingPool  # noqa: E402
from bot.storage import Storage  # noqa: E402
from bot.storage.models import MovieRow  # noqa: E402
from emulator import DiscordEmulator, quiet_discord_logging, running_bot  # noqa: E402

BIG_FIT_MIN_RATINGS = 100_000  # fits with more ratings than this are the big guild's
GENRES = ("Drama", "Comedy", "Action", "Thriller", "Romance", "Sci-Fi", "Horror", "Animation")


@dataclass
class Row:
    scenario: str
    latencies: list[float]  # seconds
    overlap: str


# ---------------------------------------------------------------------------- data
def synthetic_ratings(n_ratings: int, n_movies: int, seed: int = 0, rank: int = 5):
    """(user_index, movie_index, score) with long-tail popularity and low-rank tastes."""
    rng = np.random.default_rng(seed)
    n_users = max(50, n_ratings // 50)
    popularity = 1.0 / np.arange(10, n_movies + 10) ** 0.9
    popularity /= popularity.sum()
    per_user = np.clip(rng.lognormal(np.log(35), 0.9, n_users), 5, n_movies // 4).astype(int)
    per_user = np.maximum(5, (per_user * (n_ratings * 1.15 / per_user.sum()))).astype(int)
    users = np.repeat(np.arange(n_users), per_user)
    movies = rng.choice(n_movies, size=len(users), p=popularity)
    keys = np.unique(users.astype(np.int64) * n_movies + movies)
    keys = rng.permutation(keys)[:n_ratings]
    keys.sort()
    users, movies = keys // n_movies, keys % n_movies
    user_taste = rng.normal(size=(n_users, rank))
    movie_taste = rng.normal(size=(n_movies, rank))
    movie_bias = rng.normal(0, 1.0, n_movies)
    raw = (6.0 + movie_bias[movies]
           + 1.6 * np.einsum("ij,ij->i", user_taste[users], movie_taste[movies]) / np.sqrt(rank)
           + rng.normal(0, 0.8, len(users)))
    scores = np.clip(np.rint(raw), 1, 10).astype(np.int64)
    return users, movies, scores


async def prepare_database(path: Path, big_guild: int, chat_guild: int, chat_members: list[int],
                           n_ratings: int, n_movies: int) -> list[int]:
    """Catalog + synthetic movies through Storage, then the ratings by executemany."""
    from bot.catalog.starter import ensure_starter_catalog

    storage = await Storage.open(path)
    try:
        await ensure_starter_catalog(storage)
        rows = [MovieRow(f"Synthetic Picture {i:05d}", 1950 + i % 70, (GENRES[i % len(GENRES)],))
                for i in range(n_movies)]
        await storage.add_movies_bulk(rows)
    finally:
        await storage.close()
    con = sqlite3.connect(path)
    try:
        movie_ids = np.array([r[0] for r in con.execute(
            "SELECT id FROM movies WHERE title LIKE 'Synthetic Picture %' ORDER BY title")],
            dtype=np.int64)
        users, movies, scores = synthetic_ratings(n_ratings, len(movie_ids))
        now = time.time()
        big = ((big_guild, 10_000_000 + int(u), int(movie_ids[m]), int(s), now)
               for u, m, s in zip(users, movies, scores, strict=True))
        # The chat guild: 40 ratings per member from the same taste model, on popular movies.
        c_users, c_movies, c_scores = synthetic_ratings(len(chat_members) * 40, 400, seed=1)
        member_of = {i: m for i, m in enumerate(chat_members)}
        chat = ((chat_guild, member_of[int(u) % len(chat_members)], int(movie_ids[m]), int(s),
                 now) for u, m, s in zip(c_users, c_movies, c_scores, strict=True))
        with con:
            con.executemany("INSERT OR REPLACE INTO ratings (guild_id, user_id, movie_id, score, "
                            "updated_at) VALUES (?, ?, ?, ?, ?)", big)
            con.executemany("INSERT OR REPLACE INTO ratings (guild_id, user_id, movie_id, score, "
                            "updated_at) VALUES (?, ?, ?, ?, ?)", chat)
        count = con.execute("SELECT count(*) FROM ratings WHERE guild_id = ?",
                            (big_guild,)).fetchone()[0]
    finally:
        con.close()
    print(f"  big guild: {count:,} ratings, {len(np.unique(users)):,} members, "
          f"{len(movie_ids):,} synthetic movies", flush=True)
    return [int(m) for m in movie_ids]


# ---------------------------------------------------------------------------- measuring
class FitClock:
    """Wraps a service's pool so every big fit's start/end (monotonic) is recorded."""

    def __init__(self, service) -> None:
        self.service = service
        self.intervals: list[tuple[float, float]] = []
        self.wrap()

    def wrap(self) -> None:
        pool = self.service.pool
        original = pool.fit

        async def timed_fit(job):
            start = time.monotonic()
            try:
                return await original(job)
            finally:
                if len(job.scores) >= BIG_FIT_MIN_RATINGS:
                    self.intervals.append((start, time.monotonic()))

        pool.fit = timed_fit

    def covered(self, start: float, end: float) -> float:
        """Fraction of [start, end] during which a big fit was running in the pool."""
        return covered(self.intervals, start, end)


async def keep_training(service, guild_id: int, member_id: int, stop: asyncio.Event,
                        cycles: list[tuple[float, float]]) -> None:
    """Refit the big guild back to back until `stop`: a rating change, then wait for the
    refit (read the ratings, fit on the pool, serialise, save). Each refit's span goes to
    `cycles`."""
    while not stop.is_set():
        start = time.monotonic()
        await service.rating_changed(guild_id, member_id)
        await service.wait_idle(guild_id)
        cycles.append((start, time.monotonic()))


def covered(intervals: list[tuple[float, float]], start: float, end: float) -> float:
    """Fraction of [start, end] inside the (non-overlapping) intervals."""
    busy = sum(max(0.0, min(b, end) - max(a, start)) for a, b in intervals)
    return busy / max(end - start, 1e-9)


async def stream(emu, channel, members, movie_ids, n: int, interval: float, seed: int):
    """Open-loop stream: one interaction every `interval` s (alternating /rate, /recommend),
    not waiting for answers; returns the interactions and the window (start, end)."""
    rng = np.random.default_rng(seed)
    loop = asyncio.get_running_loop()
    start = loop.time()
    window_start = time.monotonic()
    sent = []
    for i in range(n):
        delay = start + i * interval - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        member = members[i % len(members)]
        if i % 2 == 0:
            movie = int(movie_ids[int(rng.integers(0, 2000))])
            inter = await emu.slash(member, channel, "rate", movie=f"#{movie}",
                                    score=int(rng.integers(1, 11)))
        else:
            inter = await emu.slash(member, channel, "recommend", count=5)
        sent.append(inter)
    for inter in sent:
        await inter.response(timeout=60)
    return sent, (window_start, time.monotonic())


def callback_latencies(inters) -> list[float]:
    return [i.callback_received_at - i.sent_at for i in inters]


def answer_latencies(emu, inters) -> list[float]:
    """Sent -> the bot's first edit of its deferred answer (the full reply)."""
    first_edit: dict[str, float] = {}
    for req in emu.requests:
        if req.method == "PATCH" and req.path.endswith("/messages/@original"):
            token = req.path.split("/")[3]
            first_edit.setdefault(token, req.received_at)
    return [first_edit[i.token] - i.sent_at for i in inters if i.token in first_edit]


def table(rows: list[Row]) -> str:
    head = f"{'scenario':<34} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} " \
           f"{'max ms':>8}  training overlapped the window"
    lines = [head, "-" * len(head)]
    for row in rows:
        ms = np.array(row.latencies) * 1000
        p50, p95, p99 = np.percentile(ms, [50, 95, 99])
        lines.append(f"{row.scenario:<34} {len(ms):>5} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f} "
                     f"{ms.max():>8.1f}  {row.overlap}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- main
async def run(args: argparse.Namespace) -> int:
    quiet_discord_logging(logging.ERROR)
    logging.basicConfig(level=logging.WARNING)
    rows: list[Row] = []
    ok = True
    with tempfile.TemporaryDirectory(prefix="loop-latency-") as tmp:
        database = Path(tmp) / "bench.sqlite3"
        async with DiscordEmulator() as emu:
            big = emu.world.create_guild("Big")
            chat = emu.world.create_guild("Chat", owner="host")
            channel = chat.channel("general")
            members = [chat.add_member(f"m{i}") for i in range(12)]
            print(f"preparing {args.ratings:,} ratings ...", flush=True)
            t0 = time.monotonic()
            movie_ids = await prepare_database(database, big.id, chat.id,
                                               [m.id for m in members], args.ratings,
                                               args.movies)
            print(f"  prepared in {time.monotonic() - t0:.1f} s", flush=True)
            settings = Settings(
                token="bench", database=database, dev_guild_id=chat.id,
                training=TrainingSettings(debounce_seconds=1.0, mode="thread"),
                limits=LimitSettings(recommend_cooldown_seconds=0.0))
            bot = create_bot(settings, guild_ready_timeout=0.1)
            async with running_bot(bot, emu, token="bench"):
                service = bot.recommendations
                clock = FitClock(service)
                # Warm up: the chat guild's model, and one full fit of the big guild.
                warm = await emu.slash(members[0], channel, "recommend", count=5)
                await warm.response(timeout=30)
                await service.wait_idle(chat.id)
                t0 = time.monotonic()
                await service.recommend(big.id, 10_000_000, n=5)  # first use: starts a fit
                await service.wait_idle(big.id)
                print(f"  big guild first fit (thread pool): {time.monotonic() - t0:.1f} s",
                      flush=True)

                async def measure(name: str, training: bool, seed: int) -> None:
                    nonlocal ok
                    stop = asyncio.Event()
                    trainer = None
                    before = len(clock.intervals)
                    cycles: list[tuple[float, float]] = []
                    if training:
                        trainer = asyncio.create_task(
                            keep_training(service, big.id, 10_000_000, stop, cycles))
                        await asyncio.sleep(0.5)  # let the first fit get going
                    inters, (start, end) = await stream(
                        emu, channel, members, movie_ids, args.requests,
                        args.interval_ms / 1000, seed)
                    stop.set()
                    if trainer is not None:
                        await trainer
                    await service.wait_idle(chat.id)
                    if training:
                        # Refit work (read + fit + save) must span the window, and the pool
                        # must have been fitting for most of it.
                        work, share = covered(cycles, start, end), clock.covered(start, end)
                        fits = [b - a for a, b in clock.intervals[before:]]
                        good = work >= 0.95 and share >= 0.5
                        overlap = (f"{'yes' if good else 'NO'}: refits {work:.0%}, in the pool "
                                   f"{share:.0%} of {end - start:.1f} s; {len(fits)} fits, "
                                   f"{np.mean(fits):.1f} s each" if fits else "NO: no fit ran")
                        ok = ok and good
                    else:
                        busy = clock.covered(start, end)
                        overlap = f"no (idle; fits {busy:.0%} of {end - start:.1f} s)"
                    rows.append(Row(name, callback_latencies(inters), overlap))
                    for command in ("/rate", "/recommend"):
                        mine = [i for i in inters if i.label == command]
                        rows.append(Row(f"  {command} only", callback_latencies(mine), ""))
                    print(f"  {name}: done", flush=True)

                await measure("idle", False, 1)
                await measure("thread-pool training", True, 2)

                # The process pool, as `training.mode = "process"` would build it.
                service.pool.shutdown()
                service.pool = TrainingPool(settings.training.workers, mode="process",
                                            blas_threads=settings.training.blas_threads)
                clock.wrap()
                t0 = time.monotonic()
                await service.rating_changed(big.id, 10_000_000)
                await service.wait_idle(big.id)
                print(f"  big guild fit in the process pool (incl. worker start): "
                      f"{time.monotonic() - t0:.1f} s", flush=True)
                await measure("process-pool training", True, 3)

                # Cached /recommend: same member, model trained, nothing training.
                member = members[1]
                inters = []
                for _ in range(args.cached):
                    inter = await emu.slash(member, channel, "recommend", count=5)
                    await inter.wait_final(timeout=30)
                    inters.append(inter)
                rows.append(Row("cached /recommend (first callback)",
                                callback_latencies(inters), "no"))
                rows.append(Row("cached /recommend (full answer)",
                                answer_latencies(emu, inters), "no"))
            emu.assert_no_unknown_routes()
    print()
    print(f"ratings={args.ratings:,} requests={args.requests} every {args.interval_ms:g} ms "
          f"(alternating /rate and /recommend from {12} members of another guild)")
    print(table(rows))
    if not ok:
        print("\nWARNING: a training scenario's fits did not cover the measurement window")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ratings", type=int, default=1_000_000,
                        help="ratings in the big guild (default 1,000,000)")
    parser.add_argument("--movies", type=int, default=10_000, help="synthetic movies")
    parser.add_argument("--requests", type=int, default=1000,
                        help="interactions per scenario (default 1000)")
    parser.add_argument("--interval-ms", type=float, default=20.0,
                        help="milliseconds between two interactions (default 20: 50/s)")
    parser.add_argument("--cached", type=int, default=200,
                        help="sequential cached /recommend requests (default 200)")
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
