"""Sharded cluster vs one process: the same guilds, data and command mix through the emulator.

    python benchmarks/cluster.py                       # 2,000 guilds, 30 s of load per setup
    python benchmarks/cluster.py --guilds 500 --seconds 15 --rate 40
    python benchmarks/cluster.py --redis redis://127.0.0.1:6379/5   # else a redis-server of its own

Setups, run one after the other against one emulator in this process:

* **cluster**: 2 cluster processes x 2 shards (`[sharding] shard_count = 4, clusters = 2`,
  the identify lock in Redis) and 2 `python -m bot worker` processes (`training.mode = "queue"`);
* **single**: one `python -m bot run` process, no sharding, `training.mode = "auto"` (threads).

Both start from a copy of the same SQLite database: the starter catalog, the synced commands,
and `--members` synthetic members per guild with `--per-member` ratings each (no saved models,
so a guild's first command fits it). Then `--rate` commands per second for `--seconds`, in
random guilds by random members (3 per guild): 40 % /rate, 25 % /recommend, 20 % /movies
search, 15 % /movies info. Reported per setup: start-up seconds (until every shard is
connected), the acknowledgement latency of every command (INTERACTION_CREATE sent -> the bot's
first callback, measured on the emulator side), commands that got no answer, and fits per
minute (fits finished during the load window, from the logs: what the load asked for, not a
capacity). Then the fit capacity: `--fits` guilds' refits submitted at once, through the
single process's thread lane and through the queue to 2 workers. Processes log to --out.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOKEN = "bench-token"
SHARDS, CLUSTERS, WORKERS = 4, 2, 2
SELF = str(Path(__file__).resolve())
MIX = (("rate", 0.40), ("recommend", 0.25), ("search", 0.20), ("info", 0.15))


def child(argv: list[str]) -> int:
    """`--child BASE ARGS...`: the real `python -m bot ARGS` pointed at the emulator."""
    import discord.gateway
    import discord.http
    import yarl

    from bot.__main__ import main

    base = argv[0].rstrip("/")
    discord.http.Route.BASE = base + "/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(
        base.replace("http://", "ws://") + "/gateway")
    return main(argv[1:])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def redis_server(url: str | None, folder: Path):
    """The given Redis, or a throwaway redis-server on loopback (stopped afterwards)."""
    if url:
        yield url
        return
    port = free_port()
    pidfile = folder / "redis.pid"
    subprocess.run(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no", "--daemonize", "yes", "--dir", str(folder),
                    "--pidfile", str(pidfile)], check=True, stdout=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if pidfile.exists():
                break
            time.sleep(0.01)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        with contextlib.suppress(Exception):
            os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)


class Proc:
    def __init__(self, name: str, args: list[str], env: dict[str, str], out: Path) -> None:
        self.name = name
        self.log = out / f"{name}.log"
        with self.log.open("wb") as handle:
            self.popen = subprocess.Popen([sys.executable, *args], env=env, cwd=out,
                                          stdout=handle, stderr=subprocess.STDOUT)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    async def wait_for(self, needle: str, timeout: float = 120.0) -> None:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while needle not in self.text():
            if self.popen.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name}: no {needle!r}\n{self.text()[-3000:]}")
            await asyncio.sleep(0.05)

    async def finish(self, timeout: float = 120.0) -> int:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while self.popen.poll() is None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not finish\n{self.text()[-3000:]}")
            await asyncio.sleep(0.05)
        return self.popen.returncode

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)


JOB_KEY = "benchmark-job-key-0123456789"  # [redis] job_key: signs the refit jobs


def env_for(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("MOVIEBOT_CONFIG", "MOVIEBOT_DATABASE", "MOVIEBOT_CLUSTER_ID",
                        "MOVIEBOT_REDIS_URL", "MOVIEBOT_DATABASE_URL",
                        "MOVIEBOT_REDIS_JOB_KEY")}
    env.update(DISCORD_TOKEN=TOKEN, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1",
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", **extra)
    return env


def write_config(path: Path, database: Path, *, sharded: bool, redis: str) -> Path:
    text = f'[storage]\ndatabase = "{database}"\n[logging]\nlevel = "INFO"\n'
    if sharded:
        text += (f"[sharding]\nshard_count = {SHARDS}\nclusters = {CLUSTERS}\n"
                 f'identify_seconds = 0.2\n[redis]\nurl = "{redis}"\njob_key = "{JOB_KEY}"\n'
                 '[training]\nmode = "queue"\n')
    else:
        text += '[training]\nmode = "auto"\n'
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def seed(database: Path, guild_ids: list[int], members: int, per_member: int,
         rng: np.random.Generator) -> int:
    conn = sqlite3.connect(database)
    try:
        movies = np.array([r[0] for r in conn.execute(
            "SELECT id FROM movies WHERE guild_id IS NULL")])
        rows = [(g, 10**15 + k * 1000 + u, int(m), int(rng.integers(1, 11)), 0.0)
                for k, g in enumerate(guild_ids) for u in range(members)
                for m in rng.choice(movies, per_member, replace=False)]
        conn.executemany("INSERT INTO ratings (guild_id, user_id, movie_id, score, "
                         "updated_at) VALUES (?, ?, ?, ?, ?)", rows)
        conn.commit()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return len(rows)
    finally:
        conn.close()


def copy_database(src: Path, dest: Path) -> None:
    with sqlite3.connect(src) as a, sqlite3.connect(dest) as b:
        a.backup(b)


def fits_logged(procs: list[Proc], needle: str) -> int:
    return sum(p.text().count(needle) for p in procs)


async def drive(emu, guilds, commanders, movie_ids, seconds: float, rate: float,
                rng: np.random.Generator) -> list:
    """Open-loop load: one command every 1/rate s (exponential gaps), never waiting for
    answers; returns the interactions."""
    names = [m for m, _p in MIX]
    weights = np.array([p for _m, p in MIX])
    inters = []
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    tasks: set[asyncio.Task] = set()

    async def one(kind: str, member, channel) -> None:
        movie = f"#{int(rng.choice(movie_ids))}"
        if kind == "rate":
            inter = await emu.slash(member, channel, "rate", movie=movie,
                                    score=int(rng.integers(1, 11)))
        elif kind == "recommend":
            inter = await emu.slash(member, channel, "recommend", count=5)
        elif kind == "search":
            inter = await emu.slash(member, channel, "movies search",
                                    query=str(rng.choice(["the", "star", "love", "man"])))
        else:
            inter = await emu.slash(member, channel, "movies info", movie=movie)
        inters.append(inter)

    while loop.time() < end:
        k = int(rng.integers(len(guilds)))
        member = commanders[k][int(rng.integers(len(commanders[k])))]
        kind = names[int(rng.choice(len(names), p=weights))]
        task = asyncio.create_task(one(kind, member, guilds[k].channel("general")))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        await asyncio.sleep(float(rng.exponential(1.0 / rate)))
    if tasks:
        await asyncio.wait(tasks, timeout=30)
    deadline = loop.time() + 30
    while loop.time() < deadline and any(  # noqa: ASYNC110 (state of another party)
            i.callback_received_at is None for i in inters):
        await asyncio.sleep(0.1)
    return inters


def stats(inters) -> dict[str, float]:
    acks = np.array([i.callback_received_at - i.sent_at for i in inters
                     if i.callback_received_at is not None]) * 1000
    if acks.size == 0:
        return {"n": len(inters), "p50": float("nan"), "p99": float("nan"),
                "max": float("nan"), "missing": len(inters)}
    return {"n": len(inters), "p50": float(np.percentile(acks, 50)),
            "p99": float(np.percentile(acks, 99)), "max": float(acks.max()),
            "missing": len(inters) - acks.size}


async def run_setup(name: str, emu, args, template: Path, out: Path, redis: str,
                    guilds, commanders, movie_ids) -> dict[str, float]:
    sharded = name == "cluster"
    database = out / f"{name}.sqlite3"
    copy_database(template, database)
    config = write_config(out / f"{name}.toml", database, sharded=sharded, redis=redis)
    me = SELF
    procs: list[Proc] = []
    workers: list[Proc] = []
    try:
        if sharded:
            workers = [Proc(f"{name}-w{k}", ["-m", "bot", "--config", str(config), "worker",
                                             "--name", f"w{k}"], env_for(), out)
                       for k in range(WORKERS)]
            for w in workers:
                await w.wait_for("Starting worker")
        started = time.monotonic()
        connected_before = emu.gateway.connect_count
        if sharded:
            procs = [Proc(f"{name}-c{k}", [me, "--child", emu.base_url, "--config",
                                           str(config), "run"],
                          env_for(MOVIEBOT_CLUSTER_ID=str(k)), out) for k in range(CLUSTERS)]
        else:
            procs = [Proc(f"{name}-bot", [me, "--child", emu.base_url, "--config", str(config),
                                          "run"], env_for(), out)]
        for p in procs:
            await p.wait_for("connected to Discord", timeout=300)
        startup = time.monotonic() - started
        shards = emu.gateway.connect_count - connected_before
        fit_needle = "fit done guild=" if sharded else "fit guild="
        fit_logs = workers if sharded else procs
        fits_before = fits_logged(fit_logs, fit_needle)
        load_started = time.monotonic()
        inters = await drive(emu, guilds, commanders, movie_ids, args.seconds, args.rate,
                             np.random.default_rng(args.seed))
        window = time.monotonic() - load_started
        fits = fits_logged(fit_logs, fit_needle) - fits_before
        result = {"startup_s": startup, "sessions": shards, **stats(inters),
                  "fits_per_min": fits / window * 60, "window_s": window}
        refused = len(emu.gateway.identify_refusals)
        result["identify_refused"] = refused
        return result
    finally:
        for p in [*procs, *workers]:
            p.stop()


async def fit_capacity(args, template: Path, out: Path, redis: str,
                       guild_ids: list[int]) -> dict[str, float]:
    """Fits per minute when `--fits` guilds need a refit at once: the single process's thread
    lane (`training.workers` = 1, its default) vs the queue with 2 worker processes."""
    from bot.service.queue import QueueLane
    from bot.service.training import TrainingPool
    from bot.service.worker import RefitJob
    from recommender import ModelConfig

    database = out / "capacity.sqlite3"
    copy_database(template, database)
    jobs = [RefitJob(str(database), g, ModelConfig(), "bench", tune_reg=True,
                     max_ratings=2_000_000, max_cells=50_000_000)
            for g in guild_ids[:args.fits]]
    rates = {}
    pool = TrainingPool(workers=1, mode="thread")
    started = time.monotonic()
    await asyncio.gather(*(pool.refit(job, 100) for job in jobs))
    rates["thread lane, 1 thread"] = len(jobs) / (time.monotonic() - started) * 60
    pool.shutdown()
    workers = [Proc(f"capacity-w{k}", ["-m", "bot", "worker", "--name", f"w{k}"],
                    env_for(MOVIEBOT_REDIS_URL=redis, MOVIEBOT_REDIS_JOB_KEY=JOB_KEY,
                            MOVIEBOT_DATABASE=str(database)), out) for k in range(WORKERS)]
    lane = QueueLane(redis, JOB_KEY)
    try:
        for w in workers:
            await w.wait_for("Starting worker")
        started = time.monotonic()
        await asyncio.gather(*(lane.refit(job) for job in jobs))
        rates[f"queue, {WORKERS} workers"] = len(jobs) / (time.monotonic() - started) * 60
    finally:
        await lane.aclose()
        for w in workers:
            w.stop()
    return rates


async def run(args: argparse.Namespace) -> int:
    from emulator import DiscordEmulator, quiet_discord_logging

    quiet_discord_logging()
    out = Path(args.out)
    rng = np.random.default_rng(args.seed)
    emu = DiscordEmulator(token=TOKEN)
    await emu.start()
    try:
        emu.configure_sharding(SHARDS, max_concurrency=1, identify_window=0.2)
        guilds = emu.create_sharded_guilds(args.guilds, SHARDS, name="Bench")
        commanders = [[g.add_member(f"m{k}-{j}") for j in range(3)]
                      for k, g in enumerate(guilds)]
        with redis_server(args.redis, out) as redis:
            template = out / "template.sqlite3"
            config = write_config(out / "sync.toml", template, sharded=True, redis=redis)
            sync = Proc("sync", [SELF, "--child", emu.base_url,
                                 "--config", str(config), "sync"], env_for(), out)
            if await sync.finish() != 0:
                raise RuntimeError(sync.text()[-3000:])
            n = seed(template, [g.id for g in guilds], args.members, args.per_member, rng)
            with sqlite3.connect(template) as conn:
                movie_ids = [r[0] for r in conn.execute(
                    "SELECT id FROM movies WHERE guild_id IS NULL")]
            print(f"{args.guilds} guilds over {SHARDS} shards, {n} seeded ratings, "
                  f"{args.rate:g} commands/s for {args.seconds:g} s per setup; logs in {out}")
            results = {}
            for name in ("cluster", "single"):
                if name == "single" and args.skip_single:
                    continue
                results[name] = await run_setup(name, emu, args, template, out, redis,
                                                guilds, commanders, movie_ids)
            capacity = (await fit_capacity(args, template, out, redis, [g.id for g in guilds])
                        if args.fits else {})
        header = (f"{'setup':<8} {'start s':>8} {'sessions':>8} {'cmds':>6} {'ack p50':>8} "
                  f"{'ack p99':>8} {'ack max':>8} {'no ack':>6} {'fits/min':>9} "
                  f"{'op9':>4}")
        print(header)
        for name, r in results.items():
            print(f"{name:<8} {r['startup_s']:8.1f} {r['sessions']:8d} {r['n']:6d} "
                  f"{r['p50']:7.1f}ms {r['p99']:7.1f}ms {r['max']:7.1f}ms {r['missing']:6d} "
                  f"{r['fits_per_min']:9.0f} {r['identify_refused']:4d}")
        for name, rate in capacity.items():
            print(f"fit capacity, {args.fits} guilds of ~{args.members * args.per_member} "
                  f"ratings at once: {name}: {rate:.0f} fits/min")
        if args.temporary:
            shutil.rmtree(out, ignore_errors=True)
    finally:
        await emu.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return child(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--guilds", type=int, default=2000)
    parser.add_argument("--members", type=int, default=8, help="synthetic raters per guild")
    parser.add_argument("--per-member", type=int, default=12, help="ratings per rater")
    parser.add_argument("--seconds", type=float, default=30.0, help="load per setup")
    parser.add_argument("--rate", type=float, default=40.0, help="commands per second")
    parser.add_argument("--redis", help="Redis URL (default: start a redis-server)")
    parser.add_argument("--out", help="keep logs and databases here")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-single", action="store_true")
    parser.add_argument("--fits", type=int, default=400,
                        help="guilds refitted at once for the fit-capacity figure (0: skip)")
    args = parser.parse_args(argv)
    args.temporary = not args.out
    args.out = args.out or tempfile.mkdtemp(prefix="moviebot-cluster-bench-")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
