"""The bot side of the two-process benchmarks: the real bot, alone in its process.

    python benchmarks/botproc.py --api URL --gateway URL --database PATH --dev-guild ID \
        [--mode auto|thread|process] [--cache-size N] [--big-guild-ratings N]

Started by `benchmarks/harness.py` (`BotProcess`) from the load process, which runs the
emulator and the load generator. This process runs nothing but the bot (discord.py pointed at
the emulator over loopback, as `emulator.testing` does in one process) plus what measures it:

* a loop-lag probe: a task that sleeps 5 ms again and again and records the overshoot, i.e.
  how long the event loop was busy elsewhere (the worst stall, p99.9, p99);
* the bot's own GC pause counters (`bot.service.gcstats.STATS`), reset at a window's start;
* every refit (a wrapper around `service.pool.refit`): guild, lane, start/end, the ratings
  version and settings key it was trained on. A refit whose guild's (version, key) equals the
  one of its previous saved model (from the database at start-up, then from earlier refits)
  is a **refit without a change**;
* optionally, back-to-back refits of one guild: each cycle writes one real rating change in
  that guild (so every refit has something to learn) and waits for the refit.

Control is line-based: commands on stdin, answers on stdout as `BENCH {json}` lines (logs go
to stderr). Commands: `warm GUILD MEMBER` (first use of a guild, waits for its fit),
`start [TRAIN_GUILD TRAIN_MEMBER]` (open a window, optionally training back to back),
`stop [gc]` (close it: the window's figures; with `gc`, then unfreeze and collect, reporting
how many frozen objects were cyclic garbage), `quit`.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import json
import logging
import os
import pstats
import resource
import sqlite3
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

PROBE_SLEEP = 0.005  # the loop-lag probe's sleep (s)


_ANSWERS = sys.stdout  # replaced in main() by a copy of stdout no child process inherits


def answer(obj: dict) -> None:
    _ANSWERS.write("BENCH " + json.dumps(obj) + "\n")
    _ANSWERS.flush()


def private_answers() -> None:
    """Answers go to a private copy of stdout (not inheritable) and fd 1 becomes stderr: a
    training worker process still running after the bot closed (a big fit is not waited for)
    then holds no end of the load process's pipe, which would keep it waiting for the bot's
    exit (asyncio's `Process.wait` also waits for the pipes to close)."""
    global _ANSWERS
    sys.stdout.flush()
    _ANSWERS = os.fdopen(os.dup(1), "w")  # os.dup: not inheritable
    os.dup2(2, 1)


class Probe:
    """Overshoot of a 5 ms sleep, recorded while `recording`, with the loop thread's own CPU
    time over the same span (close to the stall: the loop was busy running code; near 0: it
    was waiting for the GIL or a CPU). A watchdog thread samples the loop thread's stack every 4 ms
    while the probe is over `STALL_SAMPLE_MS` late: where the loop spends its stalls."""

    def __init__(self) -> None:
        self.lags: list[float] = []  # seconds
        self.cpu: list[float] = []  # loop-thread CPU seconds during each probe sleep
        self.at: list[float] = []  # monotonic time the stall ended
        self.recording = False
        self.last_tick = time.monotonic()
        self.stacks: dict[str, list[float]] = {}  # where the loop was -> stall ages (ms)

    async def run(self) -> None:
        clock, cpu = time.perf_counter, time.thread_time
        while True:
            start, c0 = clock(), cpu()
            self.last_tick = time.monotonic()
            await asyncio.sleep(PROBE_SLEEP)
            end = clock()
            self.last_tick = time.monotonic()
            if self.recording:
                self.lags.append(end - start - PROBE_SLEEP)
                self.cpu.append(cpu() - c0)
                self.at.append(time.monotonic())

    def reset(self) -> None:
        self.lags, self.cpu, self.at, self.stacks = [], [], [], {}
        self.recording = True

    def watchdog(self, loop_thread: int, stop: threading.Event) -> None:
        while not stop.wait(WATCHDOG_EVERY):
            age = time.monotonic() - self.last_tick
            if self.recording and age * 1000 >= STALL_SAMPLE_MS:
                frame = sys._current_frames().get(loop_thread)
                if frame is not None:
                    self.stacks.setdefault(where(frame), []).append(age * 1000)


STALL_SAMPLE_MS = 15.0  # the watchdog samples the loop's stack once it is this late
WATCHDOG_EVERY = 0.004  # s between two looks (one sample ~ this much stall time)


def where(frame) -> str:
    """The innermost frames of the project (bot/, cogs/, recommender/) and of the library
    (discord, aiohttp, asyncio...) under a frame: 'lib:line func <- ...'."""
    parts: list[str] = []
    ours = 0
    while frame is not None and len(parts) < 6 and ours < 2:
        code = frame.f_code
        path = code.co_filename
        short = path.rsplit("site-packages/", 1)[-1] if "site-packages" in path else (
            path.split(str(ROOT) + "/", 1)[-1] if str(ROOT) in path else
            path.rsplit("/", 2)[-1])
        if any(short.startswith(p) for p in ("bot/", "cogs/", "recommender/")):
            ours += 1
        parts.append(f"{short}:{frame.f_lineno} {code.co_name}")
        frame = frame.f_back
    return " <- ".join(parts)


class RefitLog:
    """Every refit of the service's pool; flags refits without a change."""

    def __init__(self, service, database: Path) -> None:
        self.service = service
        self.fits: list[dict] = []
        self.previous: dict[int, tuple[int, str]] = {}
        with sqlite3.connect(database) as conn:
            for guild, version, key in conn.execute(
                    "SELECT guild_id, ratings_version, settings_key FROM model_state"):
                self.previous[int(guild)] = (int(version), str(key))
        pool = service.pool
        original = pool.refit

        async def refit(job, n_ratings):
            start = time.monotonic()
            lane = pool.lane_for(n_ratings)
            result = await original(job, n_ratings)
            end = time.monotonic()
            stamp = (int(result.ratings_version), job.settings_key)
            unchanged = self.previous.get(job.guild_id) == stamp
            if result.saved:
                self.previous[job.guild_id] = stamp
            self.fits.append({"guild": job.guild_id, "lane": lane, "start": start, "end": end,
                              "n": int(result.n_ratings), "version": stamp[0],
                              "unchanged": unchanged, "timings": result.timings})
            return result

        pool.refit = refit


async def keep_training(service, storage, guild_id: int, member_id: int, stop: asyncio.Event,
                        cycles: list[tuple[float, float]]) -> None:
    """Back-to-back refits of `guild_id`: one real rating change, then wait for the refit."""
    movie_ids, scores = await storage.member_rating_arrays(guild_id, member_id)
    current = {int(m): int(s) for m, s in zip(movie_ids[:50], scores[:50], strict=True)}
    i = 0
    while not stop.is_set():
        start = time.monotonic()
        movie = list(current)[i % len(current)]
        current[movie] = current[movie] % 10 + 1  # always a different score: a real change
        await storage.upsert_rating(guild_id, member_id, movie, current[movie])
        i += 1
        await service.rating_changed(guild_id, member_id)
        await service.wait_idle(guild_id)
        cycles.append((start, time.monotonic()))


def tracked_types(top: int = 10) -> list[tuple[str, int]]:
    """The most numerous types among the objects the collector tracks (not the frozen ones):
    what a full collection has to walk."""
    from collections import Counter

    counts = Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.get_objects())
    return counts.most_common(top)


def frozen_garbage(check: bool) -> dict | None:
    """After a window (on request): how much of the permanent generation (`gc.freeze()`) was
    cyclic garbage, i.e. memory that no collection can free while it stays frozen."""
    if not check:
        return None
    frozen = gc.get_freeze_count()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ordinary = gc.collect()  # garbage the normal generations still held
    gc.unfreeze()
    t0 = time.perf_counter()
    collected = gc.collect()  # now also what was frozen
    return {"frozen": frozen, "collected": collected, "ordinary": ordinary,
            "collect_ms": (time.perf_counter() - t0) * 1000, "max_rss_mb": rss0}


def top_functions(profile: cProfile.Profile, path: Path, top: int = 30) -> str:
    """The loop thread's profile (CPU time, `--profile`): saved to `path` for pstats, and its
    top functions by own time as text."""
    profile.dump_stats(path)
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def waiting_tasks(top: int = 8) -> list[dict]:
    """The tasks still pending (a command that never answered is one), grouped by where each
    one waits: its innermost project frames and what it awaits."""
    groups: dict[str, int] = {}
    for task in asyncio.all_tasks():
        if task.done():
            continue
        coro = task.get_coro()
        # follow the await chain to its innermost coroutine
        frames = []
        while coro is not None and len(frames) < 40:
            frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
            if frame is None:
                break
            frames.append(frame)
            coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
        if not frames:
            continue
        key = " <- ".join(where(f).split(" <- ")[0] for f in frames[::-1][:5]) + " | " + \
            task.get_name()[:30].rstrip("0123456789")
        groups[key] = groups.get(key, 0) + 1
    return [{"where": k, "n": n} for k, n in sorted(groups.items(), key=lambda kv: -kv[1])][:top]


def thread_cpu() -> dict[str, float]:
    """CPU seconds so far of this process's threads, by kind (the thread's name without its
    number: "MainThread" is the event loop, "asyncio" the default executor's threads (model
    loads, rankings), "moviebot-fit-small" the small lane's fits, aiosqlite's connection
    threads are "Thread"). Linux only (/proc); {} elsewhere."""
    import re

    names = {t.native_id: t.name for t in threading.enumerate()}
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = names.get(int(tid), "other")
        kind = re.sub(r"(_\d+|-\d+.*|\s.*)$", "", name) or name
        out[kind] = out.get(kind, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def percentiles(values: list[float], qs=(50, 99, 99.9)) -> dict[str, float]:
    if not values:
        return {f"p{q:g}": 0.0 for q in qs} | {"max": 0.0, "n": 0}
    arr = np.asarray(values) * 1000.0
    out = {f"p{q:g}": float(np.percentile(arr, q)) for q in qs}
    return out | {"max": float(arr.max()), "n": len(values)}


async def serve(args: argparse.Namespace) -> None:
    import discord
    import discord.gateway
    import discord.http
    import yarl

    from bot import create_bot
    from bot.config import LimitSettings, Settings, ShardingSettings, TrainingSettings
    from bot.service import gcstats

    sql_cpu = None
    if os.environ.get("MOVIEBOT_BENCH_SQL_CPU") == "1":  # many_guilds --sql-cpu
        from benchmarks import sql_cpu as sql_cpu_module
        sql_cpu = sql_cpu_module.install()  # before the bot opens its connections
    discord.http.Route.BASE = args.api
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(args.gateway)
    for name in ("discord", "discord.client", "discord.gateway", "discord.http",
                 "discord.state"):
        logging.getLogger(name).setLevel(logging.ERROR)

    training: dict = {}
    if args.cache_megabytes is not None:
        training["cache_megabytes"] = args.cache_megabytes
    settings = Settings(
        token="bench", database=Path(args.database), dev_guild_id=args.dev_guild,
        training=TrainingSettings(debounce_seconds=args.debounce, mode=args.mode,
                                  cache_size=args.cache_size,
                                  big_guild_ratings=args.big_guild_ratings, **training),
        # No cooldown or per-member command budget: the load's few members per guild send
        # several commands a second, which is what is measured, not refused.
        limits=LimitSettings(recommend_cooldown_seconds=0.0, command_burst=0),
        # Discord (and the emulator) close an unsharded session past 2,500 guilds (4011):
        # `--shards N` runs N shards in this one process (no Redis needed for one cluster).
        sharding=ShardingSettings(shard_count=args.shards, identify_seconds=0.0))
    bot = create_bot(settings, guild_ready_timeout=0.1)

    async def no_delay(shard_id, *, initial=False):
        return None

    bot.before_identify_hook = no_delay  # type: ignore[method-assign]
    task = asyncio.create_task(bot.start("bench"), name="bench-bot")
    deadline = time.monotonic() + args.ready_timeout
    while not bot.is_ready():
        if task.done():
            raise RuntimeError(f"bot.start() ended before on_ready: {task.exception()!r}")
        if time.monotonic() > deadline:
            raise TimeoutError("bot not ready")
        await asyncio.sleep(0.01)
    # `on_ready` may come before every GUILD_CREATE was parsed (guild_ready_timeout=0.1 here,
    # 2 s by default): wait for the last one, so the window does not parse 1,800 servers
    # (~1 s of the loop's CPU in a 30 s window, seen by --profile), then freeze what is alive
    # as the bot's own first `on_ready` does once every server is in.
    while any(g.unavailable for g in bot.guilds):
        if time.monotonic() > deadline:
            raise TimeoutError("servers still unavailable after the ready timeout")
        await asyncio.sleep(0.05)
    gcstats.freeze_when_ready()
    if args.switch_interval > 0:  # an A/B of the bot's GIL switch interval
        sys.setswitchinterval(args.switch_interval / 1000.0)
    service, storage = bot.recommendations, bot.storage
    refits = RefitLog(service, Path(args.database))
    same_score = [0]
    upsert = storage.upsert_rating

    async def counting_upsert(guild_id, user_id, movie_id, score, **options):
        previous = await upsert(guild_id, user_id, movie_id, score, **options)
        if previous is not None and int(previous) == int(score):
            same_score[0] += 1
        return previous

    storage.upsert_rating = counting_upsert
    model_loads = [0]
    load_model_state = storage.load_model_state

    async def counting_load(guild_id):
        model_loads[0] += 1
        return await load_model_state(guild_id)

    storage.load_model_state = counting_load
    from benchmarks import rate_trace
    rates = rate_trace.install(bot)
    probe = Probe()
    probe_task = asyncio.create_task(probe.run(), name="loop-lag-probe")
    stop_watchdog = threading.Event()
    watchdog = threading.Thread(target=probe.watchdog, name="stall-watchdog", daemon=True,
                                args=(threading.get_ident(), stop_watchdog))
    watchdog.start()
    answer({"ready": True, "guilds": len(bot.guilds)})

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    window: dict = {}
    try:
        while True:
            line = (await reader.readline()).decode().split()
            if not line or line[0] == "quit":
                break
            cmd = line[0]
            if cmd == "warm":
                t0 = time.monotonic()
                guild, member = int(line[1]), int(line[2])
                await service.recommend(guild, member, n=5)
                await service.wait_idle(guild)
                answer({"warm": guild, "seconds": time.monotonic() - t0})
            elif cmd == "start":
                gcstats.STATS.max_ms = 0.0
                gc_by_gen = getattr(gcstats.STATS, "reset_generations", None)
                if gc_by_gen is not None:
                    gc_by_gen()
                window = {"t0": time.monotonic(), "fits0": service.fits_completed,
                          "refits0": len(refits.fits), "gc0": gcstats.STATS.total_ms,
                          "gcn0": list(gcstats.STATS.collections), "stop": asyncio.Event(),
                          "cycles": [], "trainer": None, "same0": same_score[0],
                          "loads0": model_loads[0],
                          "frozen0": gc.get_freeze_count()}
                if len(line) >= 3:
                    window["trainer"] = asyncio.create_task(keep_training(
                        service, storage, int(line[1]), int(line[2]), window["stop"],
                        window["cycles"]))
                # in a thread: /proc reads of every thread held the loop 20-44 ms, which the
                # window then reported as its worst stall at 0.0 s
                threads0 = await asyncio.to_thread(thread_cpu)
                probe.reset()
                rates.reset()
                if sql_cpu is not None:
                    sql_cpu.reset()
                usage = resource.getrusage(resource.RUSAGE_SELF)
                window["cpu0"] = (usage.ru_utime + usage.ru_stime, time.thread_time())
                window["threads0"] = threads0
                if args.profile:
                    window["profile"] = cProfile.Profile(time.thread_time)
                    window["profile"].enable()
                answer({"started": True})
            elif cmd == "stop":
                t1 = time.monotonic()
                probe.recording = False
                rates.recording = False
                usage = resource.getrusage(resource.RUSAGE_SELF)
                loop_thread_s = time.thread_time() - window["cpu0"][1]
                threads1 = await asyncio.to_thread(thread_cpu)
                cpu_use = {"process_s": usage.ru_utime + usage.ru_stime - window["cpu0"][0],
                       "loop_thread_s": loop_thread_s,
                       "threads": {k: v - window["threads0"].get(k, 0.0)
                                   for k, v in threads1.items()}}
                if window.get("profile") is not None:
                    window["profile"].disable()
                    cpu_use["profile"] = top_functions(window["profile"], args.profile)
                lags, at, cpu = probe.lags, probe.at, probe.cpu
                gc_max = gcstats.STATS.max_ms
                gc_total = gcstats.STATS.total_ms - window["gc0"]
                gc_n = [a - b for a, b in zip(gcstats.STATS.collections, window["gcn0"],
                                              strict=True)]
                fits_done = service.fits_completed - window["fits0"]
                window["stop"].set()
                if window["trainer"] is not None:
                    await window["trainer"]
                fits = refits.fits[window["refits0"]:]
                t0 = window["t0"]
                worst = sorted(range(len(lags)), key=lags.__getitem__)[-5:][::-1]
                ends = [f["end"] for f in fits]
                answer({
                    "t0": t0, "seconds": t1 - t0,
                    "stall": percentiles(lags),
                    "worst_stalls": [{"ms": lags[i] * 1000, "at": at[i] - t0,
                                      "loop_cpu_ms": cpu[i] * 1000,
                                      "from_fit_end_ms": min(
                                          ((at[i] - e) * 1000 for e in ends), key=abs,
                                          default=None)} for i in worst],
                    "gc": {"max_ms": gc_max, "total_ms": gc_total, "collections": gc_n,
                           **getattr(gcstats.STATS, "by_generation", dict)()},
                    "fits_completed": fits_done,
                    "refits": [{k: (v - t0 if k in ("start", "end") else v)
                                for k, v in f.items()} for f in fits],
                    "cycles": [(a - t0, b - t0) for a, b in window["cycles"]],
                    "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                    "gc_tracked": len(gc.get_objects()),
                    "gc_types": tracked_types(),
                    "frozen_objects": (window["frozen0"], gc.get_freeze_count()),
                    "frozen_garbage": frozen_garbage(line[1:] == ["gc"]),
                    "same_score_rates": same_score[0] - window["same0"],
                    "model_loads": model_loads[0] - window["loads0"],
                    "models_cached": len(service.models.cache),
                    "models_cached_mb": getattr(service.models.cache, "bytes", 0) / 2**20,
                    "children_max_rss_mb": resource.getrusage(
                        resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                    "stall_stacks": sorted(
                        ({"where": k, "samples": len(v), "max_ms": max(v)}
                         for k, v in probe.stacks.items()),
                        key=lambda d: -d["samples"])[:12],
                    "rate_trace": rates.report(),
                    "sql_cpu": sql_cpu.report() if sql_cpu is not None else None,
                    "waiting_tasks": waiting_tasks(),
                    "cpu": cpu_use,
                })
            else:
                answer({"error": f"unknown command {cmd!r}"})
    finally:
        stop_watchdog.set()
        probe_task.cancel()
        await bot.close()
        if not task.done():
            try:
                await asyncio.wait_for(task, 10)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
        answer({"closed": True})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--api", required=True)
    p.add_argument("--gateway", required=True)
    p.add_argument("--database", required=True)
    p.add_argument("--dev-guild", type=int, required=True)
    p.add_argument("--mode", default="auto", choices=("auto", "thread", "process"))
    p.add_argument("--cache-size", type=int, default=32)
    p.add_argument("--switch-interval", type=float, default=0.0, metavar="MS",
                   help="set sys.setswitchinterval to MS milliseconds once the bot is ready "
                        "(0: leave the bot's own)")
    p.add_argument("--cache-megabytes", type=int, default=None,
                   help="training.cache_megabytes (default: the config's)")
    p.add_argument("--big-guild-ratings", type=int, default=200_000)
    p.add_argument("--debounce", type=float, default=1.0)
    p.add_argument("--ready-timeout", type=float, default=120.0)
    p.add_argument("--shards", type=int, default=0, help="shard_count (0: unsharded)")
    p.add_argument("--profile", type=Path, metavar="FILE",
                   help="profile the event loop's thread (its CPU time) during the window; "
                        "pstats file here")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    private_answers()
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
