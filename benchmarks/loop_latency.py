"""Event-loop latency of the real bot while a big guild refits back to back (on demand, not CI).

Two processes: this one runs the local Discord emulator and the load generator; the bot runs
alone in a subprocess (`benchmarks/botproc.py`, started by `benchmarks/harness.py`) that logs
into the emulator over loopback, as a real bot logs into Discord. One guild ("Big") holds about
a million synthetic ratings (low-rank tastes, long-tail movie popularity, 10,000 synthetic
movies); members of another guild ("Chat") send a steady open-loop stream of /rate and
/recommend (alternating, one every 20 ms by default).

For each training mode (`--modes`, default `thread auto`: in "thread" the big guild fits in a
worker thread of the bot process, in "auto" in the process lane at lower priority), a fresh
bot process runs two windows:

* idle: nobody trains (the chat guild's own debounced refits aside);
* training: Big refits back to back (each cycle: one real rating change in Big, then wait for
  the refit: read, fit, save in the worker, swap in the bot).

Reported side by side per mode and window: /rate and /recommend acks (interaction sent ->
the bot's first callback, measured in this process) p50/p99/max, the /recommend full answer
(the edit of the deferred reply), the bot process's **worst event-loop stall** (a probe task
sleeps 5 ms and records the overshoot: max, p99.9, p99), the bot's GC pauses
(`bot.service.gcstats.STATS`, reset at the window's start), refits completed, and how much of
the window the big guild's refits covered (the run exits 1 if training did not cover it).
The worst stalls are listed with their distance to the nearest refit's end (a model swap).

    python benchmarks/loop_latency.py                     # 1,000,000 ratings, 1000 requests/window
    python benchmarks/loop_latency.py --cpu-hog 2         # the same on a busy machine
    python benchmarks/loop_latency.py --quick             # 100,000 ratings, 300 requests: smoke

Targets (issue 11): ack p99 < 50 ms and worst loop stall < 20 ms while the 10^6-rating guild
refits back to back (quiet machine).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.harness import (  # noqa: E402
    BotProcess,
    CpuHogs,
    answer_latencies,
    callback_latencies,
    covered,
    ms_stats,
)
from bot.storage import Storage  # noqa: E402
from bot.storage.models import MovieRow  # noqa: E402
from emulator import DiscordEmulator, quiet_discord_logging  # noqa: E402

BIG_MEMBER = 10_000_000  # the big guild's first synthetic member (user index 0)
GENRES = ("Drama", "Comedy", "Action", "Thriller", "Romance", "Sci-Fi", "Horror", "Animation")
CHAT_MEMBERS = 12


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


# ---------------------------------------------------------------------------- load
PHASES = ("read", "fit", "save", "swap", "between")


def phase_of(t: float, refits: list[dict]) -> str:
    """Which phase of the big guild's refit cycle time `t` falls in (phases measured by the
    worker; "swap" = the 300 ms after the result reached the bot; "between" = none)."""
    for f in refits:
        tm = f["timings"]
        save_start = f["end"] - tm.get("save", 0.0)
        fit_start = save_start - tm.get("fit", 0.0)
        read_start = fit_start - tm.get("read", 0.0)
        if read_start <= t < fit_start:
            return "read"
        if fit_start <= t < save_start:
            return "fit"
        if save_start <= t < f["end"]:
            return "save"
        if f["end"] <= t < f["end"] + 0.3:
            return "swap"
    return "between"


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
    window_end = time.monotonic()
    for inter in sent:
        await inter.response(timeout=120)
    for inter in sent:
        if inter.label == "/recommend":
            await inter.wait_final(timeout=120)
    return sent, (window_start, window_end)


async def run_mode(emu, args, database: Path, big, chat, channel, members, movie_ids,
                   mode: str, log_dir: Path) -> dict:
    bot = BotProcess(emu, database, chat.id, mode=mode,
                     big_guild_ratings=args.big_guild_ratings,
                     log_path=log_dir / f"bot-{mode}.log")
    out: dict = {"mode": mode}
    t0 = time.monotonic()
    await bot.start()
    try:
        print(f"[{mode}] bot process ready in {time.monotonic() - t0:.1f} s", flush=True)
        warm = await emu.slash(members[0], channel, "recommend", count=5)
        await warm.wait_final(timeout=120)
        await bot.command("warm", chat.id, members[0].id)
        first = await bot.command("warm", big.id, BIG_MEMBER)
        out["first_fit_s"] = first["seconds"]
        print(f"[{mode}] big guild's first use (load or fit): {first['seconds']:.1f} s",
              flush=True)
        offset = 10 * args.modes.index(mode)  # each mode its own /rate sequence
        for scenario, seed in (("idle", 1 + offset), ("training", 2 + offset)):
            if scenario == "training":
                await bot.command("start", big.id, BIG_MEMBER)
                await asyncio.sleep(0.5)  # let the first refit get going
            else:
                await bot.command("start")
            inters, (start, end) = await stream(emu, channel, members, movie_ids,
                                                args.requests, args.interval_ms / 1000, seed)
            report = await bot.command("stop")
            rate = [i for i in inters if i.label == "/rate"]
            rec = [i for i in inters if i.label == "/recommend"]
            big_fits = [f for f in report["refits"] if f["guild"] == big.id]
            absolute = [dict(f, start=report["t0"] + f["start"], end=report["t0"] + f["end"])
                        for f in big_fits]
            by_phase: dict[str, list[float]] = {p: [] for p in PHASES}
            for inter in rate:
                if inter.callback_received_at is not None:
                    by_phase[phase_of(inter.sent_at, absolute)].append(
                        inter.callback_received_at - inter.sent_at)
            cycles = [(report["t0"] + a, report["t0"] + b) for a, b in report["cycles"]]
            row = {
                "rate": ms_stats(callback_latencies(rate)),
                "recommend": ms_stats(callback_latencies(rec)),
                "answer": ms_stats(answer_latencies(emu, rec)),
                "stall": report["stall"], "worst_stalls": report["worst_stalls"],
                "gc": report["gc"], "fits": report["fits_completed"],
                "big_fits": len(big_fits),
                "big_fit_s": (float(np.mean([f["end"] - f["start"] for f in big_fits]))
                              if big_fits else float("nan")),
                "lanes": sorted({f["lane"] for f in big_fits}),
                "covered": covered(cycles, start, end) if scenario == "training" else None,
                "unchanged_refits": sum(f["unchanged"] for f in report["refits"]),
                "window_s": end - start, "max_rss_mb": report["max_rss_mb"],
                "same_score_rates": report["same_score_rates"],
                "unchanged_detail": [f for f in report["refits"] if f["unchanged"]][:5],
                "stall_stacks": report["stall_stacks"],
                "rate_by_phase": {p: ms_stats(v) for p, v in by_phase.items()},
                "big_timings": [f["timings"] for f in big_fits],
            }
            out[scenario] = row
            print(f"[{mode}] {scenario}: done ({row['fits']} fits, worst stall "
                  f"{row['stall']['max']:.1f} ms)", flush=True)
    finally:
        await bot.close()
        out["errors"] = bot.errors()
        if args.logs:
            args.logs.mkdir(parents=True, exist_ok=True)
            (args.logs / f"bot-{mode}.log").write_bytes(bot.log_path.read_bytes())
    return out


def table(results: list[dict]) -> str:
    cols = [(r["mode"], s, r[s]) for r in results for s in ("idle", "training")]
    head = f"{'':<30}" + "".join(f"{m + ' ' + s:>18}" for m, s, _ in cols)
    lines = [head, "-" * len(head)]

    def line(label, get, fmt="{:.1f}"):
        cells = []
        for _m, _s, row in cols:
            try:
                value = get(row)
                cells.append(fmt.format(value) if value is not None else "-")
            except (KeyError, TypeError, ValueError):
                cells.append("-")
        lines.append(f"{label:<30}" + "".join(f"{c:>18}" for c in cells))

    for label, key in (("/rate ack", "rate"), ("/recommend ack", "recommend"),
                       ("/recommend full answer", "answer")):
        line(f"{label} p50 ms", lambda r, k=key: r[k]["p50"])
        line(f"{label} p99 ms", lambda r, k=key: r[k]["p99"])
        line(f"{label} max ms", lambda r, k=key: r[k]["max"])
    line("worst loop stall ms", lambda r: r["stall"]["max"])
    line("loop stall p99.9 ms", lambda r: r["stall"]["p99.9"])
    line("loop stall p99 ms", lambda r: r["stall"]["p99"])
    line("GC pause max ms", lambda r: r["gc"]["max_ms"])
    line("GC pause total ms", lambda r: r["gc"]["total_ms"])
    line("GC collections g0/g1/g2", lambda r: "/".join(str(c) for c in r["gc"]["collections"]),
         "{}")
    line("fits completed (all guilds)", lambda r: r["fits"], "{}")
    line("big-guild refits", lambda r: r["big_fits"], "{}")
    line("big refit s (mean, pool)", lambda r: r["big_fit_s"], "{:.2f}")
    line("big refit lane", lambda r: ",".join(r["lanes"]) or "-", "{}")
    line("refits covered the window", lambda r: None if r["covered"] is None
         else f"{r['covered']:.0%}", "{}")
    line("refits without a change", lambda r: r["unchanged_refits"], "{}")
    line("/rate with an unchanged score", lambda r: r["same_score_rates"], "{}")
    line("bot peak RSS MB", lambda r: r["max_rss_mb"], "{:.0f}")
    return "\n".join(lines)


def worst_stalls(results: list[dict]) -> str:
    lines = ["worst loop stalls (ms @ seconds into the window, loop-thread CPU ms during it, "
             "ms from the nearest refit's end):"]
    for r in results:
        for s in ("idle", "training"):
            items = ", ".join(
                f"{w['ms']:.0f} @{w['at']:.1f}s cpu {w['loop_cpu_ms']:.0f}"
                + (f" ({w['from_fit_end_ms']:+.0f})" if w["from_fit_end_ms"] is not None else "")
                for w in r[s]["worst_stalls"])
            lines.append(f"  {r['mode']:>7} {s:<9} {items}")
    lines.append("/rate ack by the phase of the big refit it was sent in (training windows; "
                 "n, p50, p99 ms), and the big refits' read/fit/save seconds:")
    for r in results:
        row = r["training"]
        cells = "  ".join(f"{p} {v['n']}: {v['p50']:.0f}/{v['p99']:.0f}"
                          for p, v in row["rate_by_phase"].items() if v["n"])
        lines.append(f"  {r['mode']:>7} {cells}")
        lines.append("          " + "; ".join(
            f"{t.get('read', 0):.1f}/{t.get('fit', 0):.1f}/{t.get('save', 0):.2f}"
            for t in row["big_timings"]))
    lines.append("where the loop was during stalls over 15 ms (watchdog samples, ~4 ms each; "
                 "top 4 per window):")
    for r in results:
        for s in ("idle", "training"):
            for st in r[s]["stall_stacks"][:4]:
                lines.append(f"  {r['mode']:>7} {s:<9} {st['samples']:>4}x "
                             f"(to {st['max_ms']:.0f} ms) {st['where'][:220]}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- main
async def run(args: argparse.Namespace) -> int:
    quiet_discord_logging(logging.ERROR)
    logging.basicConfig(level=logging.WARNING)
    hogs = None
    results: list[dict] = []
    try:
        with tempfile.TemporaryDirectory(prefix="loop-latency-") as tmp:
            database = Path(tmp) / "bench.sqlite3"
            async with DiscordEmulator() as emu:
                big = emu.world.create_guild("Big")
                chat = emu.world.create_guild("Chat", owner="host")
                channel = chat.channel("general")
                members = [chat.add_member(f"m{i}") for i in range(CHAT_MEMBERS)]
                print(f"preparing {args.ratings:,} ratings ...", flush=True)
                t0 = time.monotonic()
                movie_ids = await prepare_database(database, big.id, chat.id,
                                                   [m.id for m in members], args.ratings,
                                                   args.movies)
                print(f"  prepared in {time.monotonic() - t0:.1f} s", flush=True)
                hogs = CpuHogs(args.cpu_hog) if args.cpu_hog else None  # after the set-up
                for mode in args.modes:
                    results.append(await run_mode(emu, args, database, big, chat, channel,
                                                  members, movie_ids, mode, Path(tmp)))
                emu.assert_no_unknown_routes()
    finally:
        if hogs is not None:
            hogs.stop()
    print()
    print(f"ratings={args.ratings:,} requests/window={args.requests} every "
          f"{args.interval_ms:g} ms (alternating /rate and /recommend from {CHAT_MEMBERS} "
          f"members of another guild); cpu hogs={args.cpu_hog}; bot in its own process, "
          f"emulator + load in this one")
    print(table(results))
    print(worst_stalls(results))
    for r in results:
        for count, line in r["errors"]:
            print(f"bot log ({r['mode']}): {count}x {line}")
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                         "results": results}, indent=1))
    ok = all((r["training"]["covered"] or 0) >= 0.9 for r in results)
    if not ok:
        print("\nWARNING: the big guild's refits did not cover a training window")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ratings", type=int, default=1_000_000,
                        help="ratings in the big guild (default 1,000,000)")
    parser.add_argument("--movies", type=int, default=10_000, help="synthetic movies")
    parser.add_argument("--requests", type=int, default=1000,
                        help="interactions per window (default 1000)")
    parser.add_argument("--interval-ms", type=float, default=20.0,
                        help="milliseconds between two interactions (default 20: 50/s)")
    parser.add_argument("--modes", nargs="+", default=["thread", "auto"],
                        choices=("thread", "auto", "process"))
    parser.add_argument("--cpu-hog", type=int, default=0, metavar="N",
                        help="start N busy-loop processes for the run (a busy machine)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 100,000 ratings, 300 requests per window")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--logs", type=Path, help="keep the bot processes' logs in this folder")
    args = parser.parse_args(argv)
    if args.quick:
        args.ratings, args.requests = min(args.ratings, 100_000), min(args.requests, 300)
    # "auto" sends the big guild to the process lane: the threshold sits below its size.
    args.big_guild_ratings = min(200_000, args.ratings // 2)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
