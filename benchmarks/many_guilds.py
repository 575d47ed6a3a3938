"""Many guilds on one bot: 2,000 guilds of Zipf-distributed sizes, a cache of 64 models, mixed
commands at 50/s (on demand, not in CI).

    python benchmarks/many_guilds.py                 # 2,000 guilds, 50/s for 60 s
    python benchmarks/many_guilds.py --cpu-hog 2     # the same on a busy machine
    python benchmarks/many_guilds.py --quick         # 200 guilds, 20,000 ratings at most, 15 s
    python benchmarks/many_guilds.py --quick --check # the CI guard (tests/test_benchmarks_smoke.py)
    python benchmarks/many_guilds.py --db-cache /tmp/mg.sqlite3 --seconds 30 --warmup 20
                                                     # issue 24's runs: a bot that has been up

`--check` turns the run into a pass/fail guard, not a timing target: it fails (exit 1) when
any interaction was acknowledged later than Discord's 3 s interaction limit (or not at all: a
failed interaction for the member) or when the bot's log says "database is locked" or
"interaction failed". A regression like round 3's `/rate` collapse (33-59 s acks under load)
cannot land unnoticed.

Everything goes through the emulator: this process runs the Discord emulator (a world of
`--guilds` guilds, each with a few commanding members) and the load generator; the real bot
runs alone in a subprocess (`benchmarks/botproc.py`) that logs into the emulator over loopback
and receives all the guilds at IDENTIFY, with `training.cache_size = 64` and the default
debounce (30 s) and training mode ("auto": big guilds in the process lane).

The database is built directly (no bot): the starter catalog and 10,000 synthetic movies
through `Storage`, then the ratings by `executemany` into the file with the ratings-version
triggers set aside (and the per-guild versions written in one `INSERT ... SELECT`). Guild
sizes follow Zipf: the guild of rank r has `--largest` / r^1.5 ratings (at least 10): one
guild of 10^6 ratings, a few of 10^5, most of tens. With `--pretrain` (default) every guild
then gets a saved model, fitted by the bot's own refit job (`bot.service.worker.run_refit`,
two processes) with the settings key the bot computes, as on a bot that has been running
for a while: a cache miss should then only load a model, never refit one.

The load: `--rate` commands a second for `--seconds`, open loop; each picks a guild with
probability ~ 1/rank (big guilds are busier) and one of its members, and runs /recommend
(40%), /rate (30%, a random popular movie and score), /movies info (20%) or presses "Show
more" on that member's last /recommend answer (10%; a /recommend when there is none yet).

Reported: ack (interaction sent -> the bot's first callback) p50/p99/max, overall and per
command; the bot process's worst event-loop stall (max, p99.9, p99; see `botproc.py`); GC
pauses; fits completed and fits per minute (by lane); **refits without a change** (a refit
whose guild's ratings version and settings key equal those of its previous saved model:
must be 0) next to the number of /rate calls that stored an unchanged score; cache misses
(saved models loaded) a minute, and the models cached at the end with their arrays' size;
the bot process's CPU in the window by thread kind (the event loop, aiosqlite's connection
threads, the default executor's, the small lane's fits), GC pauses per generation (wall-clock
and the collecting thread's CPU time), the kinds of any unanswered interaction with the tasks
still waiting in the bot; the bot process's peak RSS and its largest worker process's.

Targets (issue 11): zero refits without a change; RSS < 1.5 GB at 2,000 guilds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import rate_trace, sql_cpu  # noqa: E402
from benchmarks.harness import (  # noqa: E402
    BotProcess,
    CpuHogs,
    callback_latencies,
    ms_stats,
    share_commands_everywhere,
)
from benchmarks.loop_latency import synthetic_ratings  # noqa: E402
from bot.storage import Storage  # noqa: E402
from bot.storage.models import MovieRow  # noqa: E402
from emulator import DiscordEmulator, quiet_discord_logging  # noqa: E402

GENRES = ("Drama", "Comedy", "Action", "Thriller", "Romance", "Sci-Fi", "Horror", "Animation")
COMMANDERS = 3  # world members per guild who send commands (they have ratings too)
MIX = (("recommend", 0.4), ("rate", 0.3), ("info", 0.2), ("more", 0.1))
INSERT = ("INSERT INTO ratings (guild_id, user_id, movie_id, score, updated_at) "
          "VALUES (?, ?, ?, ?, ?)")


# ---------------------------------------------------------------------------- data
def guild_sizes(n_guilds: int, largest: int, exponent: float = 1.5,
                smallest: int = 10) -> np.ndarray:
    ranks = np.arange(1, n_guilds + 1, dtype=float)
    return np.maximum(smallest, np.round(largest / ranks ** exponent)).astype(np.int64)


def small_guild_ratings(sizes: np.ndarray, n_movies: int, rng) -> tuple[np.ndarray, ...]:
    """(guild index, member index, movie index, score) for many small guilds at once: about
    25 ratings per member, long-tail popularity, the first COMMANDERS members with at least 8
    ratings each (personal picks need 3)."""
    members = np.maximum(COMMANDERS + 1, sizes // 25)
    g = np.repeat(np.arange(len(sizes)), sizes)
    u = (rng.random(len(g)) * members[g]).astype(np.int64)
    extra_g = np.repeat(np.arange(len(sizes)), COMMANDERS * 8)
    extra_u = np.tile(np.repeat(np.arange(COMMANDERS), 8), len(sizes))
    g, u = np.concatenate([g, extra_g]), np.concatenate([u, extra_u])
    popularity = 1.0 / np.arange(10, n_movies + 10) ** 0.9
    popularity /= popularity.sum()
    m = rng.choice(n_movies, size=len(g), p=popularity)
    keys = np.unique((g.astype(np.int64) * 100_000 + u) * n_movies + m)
    gm, m = keys // n_movies, keys % n_movies
    g, u = gm // 100_000, gm % 100_000
    quality = rng.normal(0, 1.2, n_movies)
    _, member = np.unique(g * 100_000 + u, return_inverse=True)
    bias = rng.normal(0, 0.8, int(member.max()) + 1)[member]  # a generous or harsh member
    scores = np.clip(np.rint(6 + quality[m] + bias + rng.normal(0, 1.0, len(g))), 1, 10)
    return g, u, m, scores.astype(np.int64)


def user_id(rank: int, member: int, commanders: list[list[int]]) -> int:
    if member < COMMANDERS:
        return commanders[rank][member]
    return 10**15 + rank * 10**7 + member


async def build_database(path: Path, guild_ids: list[int], commanders: list[list[int]],
                         sizes: np.ndarray, n_movies: int, seed: int) -> list[int]:
    """The catalog, the synthetic movies and every guild's ratings; returns the movie ids
    (by popularity rank)."""
    from bot.catalog.starter import ensure_starter_catalog

    storage = await Storage.open(path)
    try:
        await ensure_starter_catalog(storage)
        await storage.add_movies_bulk([
            MovieRow(f"Synthetic Picture {i:05d}", 1950 + i % 70, (GENRES[i % len(GENRES)],))
            for i in range(n_movies)])
    finally:
        await storage.close()
    rng = np.random.default_rng(seed)
    con = sqlite3.connect(path)
    try:
        movie_ids = np.array([r[0] for r in con.execute(
            "SELECT id FROM movies WHERE title LIKE 'Synthetic Picture %' ORDER BY title")],
            dtype=np.int64)
        triggers = [(name, sql) for name, sql in con.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            "AND tbl_name = 'ratings'")]
        now = time.time()
        with con:
            for name, _sql in triggers:
                con.execute(f"DROP TRIGGER {name}")
            # The largest guild: the low-rank generator of loop_latency.
            users, movies, scores = synthetic_ratings(int(sizes[0]), n_movies, seed=seed)
            big = int(guild_ids[0])
            con.executemany(INSERT, ((big, user_id(0, int(u), commanders), int(movie_ids[m]),
                                      int(s), now)
                                     for u, m, s in zip(users, movies, scores, strict=True)))
            g, u, m, s = small_guild_ratings(sizes[1:], n_movies, rng)
            gids = np.asarray(guild_ids[1:], dtype=np.int64)
            con.executemany(INSERT, ((int(gids[gi]), user_id(int(gi) + 1, int(ui), commanders),
                                      int(movie_ids[mi]), int(si), now)
                                     for gi, ui, mi, si in zip(g, u, m, s, strict=True)))
            con.execute("DELETE FROM guild_versions")
            con.execute("INSERT INTO guild_versions (guild_id, ratings_version, ratings_count) "
                        "SELECT guild_id, count(*), count(*) FROM ratings GROUP BY guild_id")
            for _name, sql in triggers:
                con.execute(sql)
        con.execute("ANALYZE")
    finally:
        con.close()
    return [int(x) for x in movie_ids]


def _pretrain_one(job):
    from bot.service.worker import run_refit

    result = run_refit(job)
    return result.guild_id, result.n_ratings, result.saved


async def pretrain(path: Path, guild_ids: list[int], workers: int = 2) -> tuple[int, float]:
    """Save an up-to-date model for every guild through the bot's own refit job, with the
    settings key the bot computes (`GuildModels.fit_settings`, default settings)."""
    from bot.config import Settings
    from bot.service.service import RecommendationService
    from bot.service.worker import RefitJob

    settings = Settings(token="bench", database=path)
    storage = await Storage.open(path)
    try:
        service = RecommendationService(storage, settings)
        fit = await service.models.fit_settings(guild_ids[0])  # the bot's own key
        rec = settings.recommender
        jobs = []
        for gid in guild_ids:
            _version, count = await storage.ratings_version(gid)
            jobs.append(RefitJob(
                database=str(path), guild_id=gid, config=fit.config, settings_key=fit.key,
                tune_reg=fit.tune and count <= rec.auto_regularization_max_ratings,
                max_ratings=rec.max_guild_ratings, max_cells=rec.max_model_cells,
                blas_threads=1, return_model=False))
    finally:
        await storage.close()
    t0 = time.monotonic()
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(workers) as pool:
        done = await asyncio.gather(*(loop.run_in_executor(pool, _pretrain_one, j)
                                      for j in jobs))
    return sum(saved for _g, _n, saved in done), time.monotonic() - t0


class ReplayedIds:
    """The emulator world's snowflake generator, recorded (a first run) or replayed (a run
    reusing `--db-cache`): the world is built by the same calls each time, so replaying the
    recorded ids gives the guilds and members the ids the cached database was built with."""

    def __init__(self, inner, replay: list[int] | None = None) -> None:
        self.inner = inner
        self.replay = list(replay or [])[::-1]
        self.seen: list[int] = []

    def __call__(self) -> int:
        if self.replay:
            value = self.replay.pop()
            self.inner._last = max(self.inner._last, value)
        else:
            value = self.inner()
        self.seen.append(value)
        return value

    next = __call__

    def __getattr__(self, name):
        return getattr(self.inner, name)


def cache_key(args: argparse.Namespace) -> str:
    return (f"guilds={args.guilds};largest={args.largest};movies={args.movies};"
            f"seed={args.seed};pretrain={args.pretrain}"
            + (f";pretrain_top={args.pretrain_top}" if args.pretrain_top else ""))


# ---------------------------------------------------------------------------- load
READ_SECONDS = 1.0  # a member reads a reply this long at least before pressing its button


def last_edit_at(emu, token: str, lookback: int = 5000) -> float | None:
    """When the emulator last received an edit of the interaction's original response (the
    most recent `lookback` requests searched), or None."""
    for req in reversed(emu.requests[-lookback:]):
        if req.method == "PATCH" and req.path.endswith("/messages/@original") \
                and req.path.split("/")[3] == token:
            return req.received_at
    return None


def more_button(reply) -> str | None:
    for button in reply.buttons:
        if "more" in str(button.get("label", "")).lower() and not button.get("disabled"):
            return button.get("custom_id")
    return None


async def drive(emu, guilds, commanders, movie_ids, args, rng, seconds: float | None = None,
                answers_within: float = 120.0) -> tuple[list, float, int]:
    """Open-loop mixed load for `seconds` (default `--seconds`), then up to `answers_within`
    seconds for the answers; returns the interactions, the window's length and how many
    interactions were sent late (the sender fell behind)."""
    ranks = np.arange(1, len(guilds) + 1, dtype=float)
    p_guild = (1.0 / ranks) / (1.0 / ranks).sum()
    kinds, weights = zip(*MIX, strict=True)
    n = int(args.rate * (args.seconds if seconds is None else seconds))
    choice_g = rng.choice(len(guilds), size=n, p=p_guild)
    choice_k = rng.choice(len(kinds), size=n, p=np.array(weights) / sum(weights))
    last_recommend: dict[int, object] = {}  # member id -> its last /recommend interaction
    loop = asyncio.get_running_loop()
    start = loop.time()
    sent, late = [], 0
    popular = min(len(movie_ids), 2000)
    for i in range(n):
        delay = start + i / args.rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -0.05:
            late += 1
        guild = guilds[int(choice_g[i])]
        member = guild.member(commanders[int(choice_g[i])][int(rng.integers(0, COMMANDERS))])
        channel = guild.channel("general")
        kind = kinds[int(choice_k[i])]
        inter = None
        if kind == "more":
            previous = last_recommend.get(member.id)
            final = previous.final() if previous is not None else None
            custom_id = more_button(final) if final is not None and not final.loading else None
            # Not the instant the emulator stored the edit: discord.py registers a view for its
            # message only once its own PATCH has returned, and a click before that is dropped
            # (an unanswered "Show more" under load); a member reads the reply first.
            edited = last_edit_at(emu, previous.token) if custom_id is not None else None
            if edited is not None and time.monotonic() - edited < READ_SECONDS:
                custom_id = None
            if custom_id is not None:
                try:
                    inter = await emu.click(member, final.id, custom_id)
                    inter.label = "Show more"
                except (LookupError, ValueError):
                    inter = None
            if inter is None:
                kind = "recommend"
        if kind == "recommend":
            inter = await emu.slash(member, channel, "recommend", count=5)
            last_recommend[member.id] = inter
        elif kind == "rate":
            movie = movie_ids[int(rng.integers(0, popular))]
            inter = await emu.slash(member, channel, "rate", movie=f"#{movie}",
                                    score=int(rng.integers(1, 11)))
        elif kind == "info":
            movie = movie_ids[int(rng.integers(0, popular))]
            inter = await emu.slash(member, channel, "movies info", movie=f"#{movie}")
        sent.append(inter)
    window = loop.time() - start
    deadline = loop.time() + answers_within
    for inter in sent:
        with contextlib.suppress(AssertionError):  # EmulatorTimeout: counted as unanswered
            await inter.response(timeout=max(0.1, deadline - loop.time()))
    return sent, window, late


# ---------------------------------------------------------------------------- main
async def run(args: argparse.Namespace) -> int:
    quiet_discord_logging(logging.ERROR)
    logging.basicConfig(level=logging.WARNING)
    rng = np.random.default_rng(args.seed)
    sizes = guild_sizes(args.guilds, args.largest)
    print(f"{args.guilds:,} guilds, {int(sizes.sum()):,} ratings (Zipf sizes: largest "
          f"{sizes[0]:,}, 2nd {sizes[1]:,}, 10th {sizes[min(9, len(sizes) - 1)]:,}, median "
          f"{int(np.median(sizes))}); cache_size={args.cache_size}; {args.rate:g}/s for "
          f"{args.seconds:g} s through the emulator (bot in its own process)", flush=True)
    hogs = None
    with tempfile.TemporaryDirectory(prefix="many-guilds-") as tmp:
        database = Path(tmp) / "bench.sqlite3"
        async with DiscordEmulator() as emu:
            cached = None
            meta_path = args.db_cache.with_suffix(".json") if args.db_cache else None
            if meta_path is not None and args.db_cache.exists() and meta_path.exists():
                cached = json.loads(meta_path.read_text())
                if cached.get("key") != cache_key(args):
                    raise SystemExit(f"{args.db_cache} was built for {cached.get('key')}, "
                                     f"not {cache_key(args)}: remove it or pick another path")
            ids = ReplayedIds(emu.world.ids, cached["ids"] if cached else None)
            emu.world.ids = ids
            guilds, commanders = [], []
            for r in range(args.guilds):
                guild = emu.world.create_guild(f"Guild {r}", owner=f"owner-{r}")
                members = [guild.add_member(f"g{r}m{k}") for k in range(COMMANDERS)]
                guilds.append(guild)
                commanders.append([m.id for m in members])
            emu.world.ids = ids.inner
            t0 = time.monotonic()
            if cached is not None:
                shutil.copyfile(args.db_cache, database)
                movie_ids = cached["movie_ids"]
                print(f"  database copied from {args.db_cache} in "
                      f"{time.monotonic() - t0:.1f} s", flush=True)
            else:
                movie_ids = await build_database(database, [g.id for g in guilds], commanders,
                                                 sizes, args.movies, args.seed)
                print(f"  database built in {time.monotonic() - t0:.1f} s", flush=True)
                if args.pretrain:
                    top = args.pretrain_top or len(guilds)
                    saved, seconds = await pretrain(database, [g.id for g in guilds[:top]])
                    print(f"  pretrained {saved:,} saved models in {seconds:.1f} s",
                          flush=True)
                if args.db_cache is not None:
                    con = sqlite3.connect(database)
                    try:
                        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    finally:
                        con.close()
                    shutil.copyfile(database, args.db_cache)
                    meta_path.write_text(json.dumps({"key": cache_key(args), "ids": ids.seen,
                                                     "movie_ids": movie_ids}))
            hogs = CpuHogs(args.cpu_hog) if args.cpu_hog else None
            bot = BotProcess(emu, database, guilds[-1].id, mode=args.mode,
                             cache_size=args.cache_size, debounce=args.debounce,
                             log_path=Path(tmp) / "bot.log", profile=args.profile,
                             shards=args.shards or (args.guilds + 999) // 1000 * (
                                 args.guilds > 2500),
                             cache_megabytes=args.cache_mb,
                             switch_interval_ms=args.switch_interval)
            t0 = time.monotonic()
            try:
                ready = await bot.start()
                print(f"  bot ready with {ready['guilds']:,} guilds in "
                      f"{time.monotonic() - t0:.1f} s", flush=True)
                share_commands_everywhere(emu, guilds[-1].id)
                if args.warmup > 0:  # the same load, not measured: a bot that has been up
                    t0 = time.monotonic()
                    await drive(emu, guilds, commanders, movie_ids, args, rng, args.warmup,
                                answers_within=15.0)
                    print(f"  warm-up: {args.warmup:g} s of the same load, not measured "
                          f"({time.monotonic() - t0:.1f} s with its answers)", flush=True)
                await bot.command("start")
                inters, window, late = await drive(emu, guilds, commanders, movie_ids, args,
                                                   rng)
                report = await bot.command("stop", "gc")
                report["answers"] = answered_at(emu, inters)
            finally:
                await bot.close()
                if hogs is not None:
                    hogs.stop()
                errors = bot.errors()
                log_text = (Path(tmp) / "bot.log").read_text(errors="replace") \
                    if (Path(tmp) / "bot.log").exists() else ""
                if args.log and (Path(tmp) / "bot.log").exists():
                    args.log.write_bytes((Path(tmp) / "bot.log").read_bytes())
    report["errors"] = errors
    report["log_text"] = log_text
    return summarise(args, inters, window, late, report)


def answered_at(emu, inters) -> dict[int, float]:
    """Interaction id -> seconds from sending to the answer the member reads: the reply
    itself, or the first edit of a deferred ("thinking...") one. An ack can be a defer; this
    is when the work behind it (e.g. /rate's write) was done."""
    first_edit: dict[str, float] = {}
    for req in emu.requests:
        if req.method == "PATCH" and req.path.endswith("/messages/@original"):
            first_edit.setdefault(req.path.split("/")[3], req.received_at)
    out = {}
    for inter in inters:
        callback = inter.callback
        if callback is None:
            continue
        if callback.type in (4, 7):  # a message, or a component's update: the answer itself
            out[inter.id] = inter.callback_received_at - inter.sent_at
        elif inter.token in first_edit:
            out[inter.id] = first_edit[inter.token] - inter.sent_at
    return out


def summarise(args, inters, window: float, late: int, report: dict) -> int:
    log_text = report.pop("log_text", "")
    answered = [i for i in inters if i.callback_received_at is not None]
    by_kind: dict[str, list] = {}
    for inter in inters:
        by_kind.setdefault(inter.label, []).append(inter)
    refits = report["refits"]
    minutes = report["seconds"] / 60
    lanes: dict[str, int] = {}
    for f in refits:
        lanes[f["lane"]] = lanes.get(f["lane"], 0) + 1
    unchanged = [f for f in refits if f["unchanged"]]
    print()
    print(f"{len(inters):,} interactions in {window:.1f} s ({len(inters) / window:.1f}/s; "
          f"{late} sent over 50 ms late), {len(inters) - len(answered)} unanswered; "
          f"bot in its own process, emulator + load in this one; cpu hogs={args.cpu_hog}")
    answers = report.pop("answers", {})
    print(f"{'command':<22}{'n':>7}{'ack p50 ms':>12}{'ack p99 ms':>12}{'ack max ms':>12}"
          f"{'answer p99':>12}")
    for label, group in [("all", inters), *sorted(by_kind.items())]:
        s = ms_stats(callback_latencies(group))
        # answer: when the member reads the answer (an ack may be a defer; its edit is later)
        times = [answers[i.id] for i in group if i.id in answers]
        a99 = f"{ms_stats(times)['p99']:>12.1f}" if times else f"{'-':>12}"
        print(f"{label:<22}{len(group):>7}{s['p50']:>12.1f}{s['p99']:>12.1f}{s['max']:>12.1f}"
              + a99)
    rates = by_kind.get("/rate", [])
    done = [answers[i.id] for i in rates if i.id in answers]
    if done:
        s = ms_stats(done)
        print(f"/rate answered (the reply, or the edit of a deferred one: the rating saved): "
              f"p50 {s['p50']:.1f} ms, p99 {s['p99']:.1f} ms, max {s['max']:.1f} ms; "
              f"{len(rates) - len(done)} of {len(rates)} never answered")
    stall, gc = report["stall"], report["gc"]
    print(f"worst loop stall {stall['max']:.1f} ms, p99.9 {stall['p99.9']:.1f} ms, "
          f"p99 {stall['p99']:.1f} ms")
    print(f"GC pauses: max {gc['max_ms']:.1f} ms, total {gc['total_ms']:.0f} ms, collections "
          f"g0/g1/g2 {'/'.join(map(str, gc['collections']))}")
    if "gen_max_ms" in gc:
        print("  per generation (0/1/2): max ms " + "/".join(f"{v:.1f}" for v in gc["gen_max_ms"])
              + ", total ms " + "/".join(f"{v:.0f}" for v in gc["gen_total_ms"])
              + ", objects collected " + "/".join(f"{v:,}" for v in gc["gen_collected"])
              + (", max in the thread's CPU time ms "
                 + "/".join(f"{v:.1f}" for v in gc["gen_max_cpu_ms"])
                 if "gen_max_cpu_ms" in gc else ""))
    print(f"fits completed {report['fits_completed']} ({report['fits_completed'] / minutes:.1f}"
          f"/min; by lane {lanes}); cache misses (saved models loaded) "
          f"{report['model_loads']} ({report['model_loads'] / minutes:.0f}/min)"
          + (f"; models cached at the end {report['models_cached']:,} "
             f"({report['models_cached_mb']:.0f} MB of arrays)"
             if report.get("models_cached") is not None else ""))
    print(f"refits without a change: {len(unchanged)} (target 0); /rate calls that stored an "
          f"unchanged score: {report['same_score_rates']}")
    for f in unchanged[:5]:
        print(f"  guild {f['guild']} version {f['version']} lane {f['lane']} "
              f"at {f['start']:.1f} s")
    frozen = report.get("frozen_objects")
    garbage = report.get("frozen_garbage")
    if frozen:
        print(f"objects in the permanent GC generation (gc.freeze): {frozen[0]:,} at the start, "
              f"{frozen[1]:,} at the end" + (
                  f"; after the run a full collection found {garbage['ordinary']:,} "
                  f"unreachable, then, unfrozen, {garbage['collected']:,} more (cyclic garbage "
                  f"that freezing kept alive) in {garbage['collect_ms']:.0f} ms"
                  if garbage else ""))
    if report.get("gc_types"):
        print(f"objects the collector tracks at the end: {report['gc_tracked']:,}; most "
              "numerous: " + ", ".join(f"{name} {n:,}" for name, n in report["gc_types"]))
    cpu = report.get("cpu")
    if cpu:
        print(f"bot process CPU in the window: {cpu['process_s']:.1f} s "
              f"({1000 * cpu['process_s'] / max(1, len(inters)):.1f} ms a command; every "
              f"thread), of which the event loop's thread {cpu['loop_thread_s']:.1f} s")
        if cpu.get("threads"):
            print("  by thread kind (s): " + ", ".join(
                f"{k} {v:.1f}" for k, v in sorted(cpu["threads"].items(), key=lambda kv: -kv[1])
                if v >= 0.05))
        if cpu.get("profile"):
            print("the loop thread's profile (CPU time, top functions by own time):")
            print(cpu["profile"])
    print(f"peak RSS: bot process {report['max_rss_mb']:.0f} MB (target < 1500), its largest "
          f"worker process {report['children_max_rss_mb']:.0f} MB")
    print("worst stalls (ms @ s into the window, loop-thread CPU ms): " + ", ".join(
        f"{w['ms']:.0f} @{w['at']:.1f}s cpu {w['loop_cpu_ms']:.0f}"
        for w in report["worst_stalls"]))
    print("where the loop was during stalls over 15 ms (watchdog samples, ~4 ms each):")
    for st in report["stall_stacks"][:6]:
        print(f"  {st['samples']:>4}x (to {st['max_ms']:.0f} ms) {st['where'][:220]}")
    unanswered = [i for i in inters if i.callback_received_at is None]
    if unanswered:
        print("unanswered: " + ", ".join(sorted({i.label for i in unanswered})) + "; tasks "
              "still waiting in the bot at the window's end (innermost frame | task):")
        for t in report.get("waiting_tasks", []):
            print(f"  {t['n']:>4}x {t['where'][:240]}")
    if report.get("sql_cpu"):
        for line in sql_cpu.summarise(report["sql_cpu"], len(inters)):
            print(line)
    if report.get("rate_trace"):
        for line in rate_trace.summarise(report["rate_trace"], inters):
            print(line)
    for count, line in report.get("errors", []):
        print(f"bot log: {count}x {line}")
    if args.json:
        args.json.write_text(json.dumps({
            "args": {k: str(v) for k, v in vars(args).items()},
            "ack": {label: ms_stats(callback_latencies(group))
                    for label, group in [("all", inters), *by_kind.items()]},
            "answer": {label: ms_stats([answers[i.id] for i in group if i.id in answers])
                       for label, group in [("all", inters), *by_kind.items()]
                       if any(i.id in answers for i in group)},
            "window": window, "late": late, "unanswered": len(inters) - len(answered),
            "report": report}, indent=1))
    if args.check:
        return check(inters, answered, log_text)
    return 0 if len(answered) == len(inters) else 1


DISCORD_ACK_LIMIT_MS = 3000.0  # an interaction not acknowledged within 3 s fails
FORBIDDEN_LOG = ("database is locked", "interaction failed")


def check(inters, answered, log_text: str) -> int:
    """The CI guard (`--check`): every interaction acknowledged within Discord's limit and no
    lock or failed-interaction error in the bot's log. Prints each failure; returns 0 or 1."""
    failures = []
    if len(answered) != len(inters):
        failures.append(f"{len(inters) - len(answered)} interactions never acknowledged")
    late = [1000 * s for s in callback_latencies(answered) if 1000 * s > DISCORD_ACK_LIMIT_MS]
    if late:
        failures.append(f"{len(late)} interactions acknowledged after Discord's 3 s limit "
                        f"(worst {max(late):.0f} ms)")
    lowered = log_text.lower()
    for needle in FORBIDDEN_LOG:
        count = lowered.count(needle)
        if count:
            failures.append(f"bot log says {needle!r} {count} times")
    for failure in failures:
        print(f"CHECK FAILED: {failure}")
    if not failures:
        print("CHECK PASSED: every interaction acknowledged within 3 s; no lock or failed "
              "interaction in the bot's log")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--guilds", type=int, default=2000)
    p.add_argument("--largest", type=int, default=1_000_000,
                   help="ratings of the largest guild (rank r has largest / r^1.5)")
    p.add_argument("--movies", type=int, default=10_000)
    p.add_argument("--cache-size", type=int, default=64)
    p.add_argument("--cache-mb", type=int, default=None,
                   help="training.cache_megabytes (default: the config's; 0: --cache-size "
                        "models only, as before issue 24's memory-sized cache)")
    p.add_argument("--switch-interval", type=float, default=0.0, metavar="MS",
                   help="the bot process's GIL switch interval in ms (0: the bot's own, 1 ms "
                        "since issue 24; CPython's default is 5)")
    p.add_argument("--warmup", type=float, default=0.0, metavar="S",
                   help="run the same load for S seconds before the measured window (a bot "
                        "that has been up: its first uses of servers, their model loads, done)")
    p.add_argument("--mode", default="auto", choices=("auto", "thread", "process"))
    p.add_argument("--debounce", type=float, default=30.0,
                   help="training.debounce_seconds (default 30, the config default)")
    p.add_argument("--rate", type=float, default=50.0, help="commands per second")
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--no-pretrain", dest="pretrain", action="store_false",
                   help="start without saved models (every first use fits)")
    p.add_argument("--pretrain-top", type=int, default=0, metavar="N",
                   help="pretrain only the N largest guilds (0: all); the others fit on first "
                        "use. For runs of 10,000 guilds, whose pretraining takes long")
    p.add_argument("--cpu-hog", type=int, default=0, metavar="N")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 200 guilds, largest 20,000, 15 s")
    p.add_argument("--check", action="store_true",
                   help="fail (exit 1) if any ack passes Discord's 3 s or the bot log says "
                        "'database is locked' / 'interaction failed' (the CI guard)")
    p.add_argument("--json", type=Path, help="also write the figures here")
    p.add_argument("--log", type=Path, help="keep the bot process's log here")
    p.add_argument("--profile", type=Path, metavar="FILE",
                   help="cProfile the bot's event-loop thread (CPU time) during the window; "
                        "pstats written to FILE, top functions printed")
    p.add_argument("--shards", type=int, default=0,
                   help="shards the bot runs (in its one process); default: none up to 2,500 "
                        "guilds (Discord's limit for one session), else one per 1,000 (ids are "
                        "not spread evenly over shards)")
    p.add_argument("--db-cache", type=Path, metavar="FILE",
                   help="reuse the database (and saved models) built for the same --guilds/"
                        "--largest/--movies/--seed from FILE, or build it and keep a copy "
                        "there (with FILE.json: the world's ids); saves the build and "
                        "pretraining (minutes at 2,000 guilds) on repeated runs")
    p.add_argument("--sql-cpu", action="store_true",
                   help="time every SQL statement in the bot's connection threads (CPU) and "
                        "print the top ones per command (benchmarks/sql_cpu.py)")
    args = p.parse_args(argv)
    if args.sql_cpu:
        os.environ["MOVIEBOT_BENCH_SQL_CPU"] = "1"  # the bot process inherits it
    if args.quick:
        args.guilds, args.largest = min(args.guilds, 200), min(args.largest, 20_000)
        args.seconds, args.movies = min(args.seconds, 15.0), min(args.movies, 3000)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
