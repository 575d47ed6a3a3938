"""The load side of the two-process benchmarks: the bot in a subprocess, CPU hogs, statistics.

`loop_latency.py` and `many_guilds.py` run the Discord emulator and their load generator in
their own process and start the real bot in another (`BotProcess`, running
`benchmarks/botproc.py`): the bot process's event loop serves only the bot, and the latency of
an interaction is measured on the emulator's side, from just before INTERACTION_CREATE goes out
to the arrival of the bot's first callback (`Interaction.sent_at` -> `callback_received_at`).

`CpuHogs(n)` starts n busy-loop processes (a busy machine), each bounded in time, stopped by
their own pids.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BOTPROC = Path(__file__).resolve().parent / "botproc.py"


class BotProcess:
    """`botproc.py` in a subprocess, talked to over its stdin/stdout."""

    def __init__(self, emu, database: Path, dev_guild: int, *, mode: str = "auto",
                 cache_size: int = 32, big_guild_ratings: int = 200_000,
                 debounce: float = 1.0, log_path: Path | None = None,
                 profile: Path | None = None, shards: int = 0,
                 cache_megabytes: int | None = None, switch_interval_ms: float = 0.0) -> None:
        self.args = [sys.executable, str(BOTPROC), "--api", emu.api_base,
                     "--gateway", emu.gateway_url, "--database", str(database),
                     "--dev-guild", str(dev_guild), "--mode", mode,
                     "--cache-size", str(cache_size),
                     "--big-guild-ratings", str(big_guild_ratings),
                     "--debounce", str(debounce)]
        if profile is not None:
            self.args += ["--profile", str(profile)]
        if shards:
            self.args += ["--shards", str(shards)]
        if cache_megabytes is not None:  # else the config's default
            self.args += ["--cache-megabytes", str(cache_megabytes)]
        if switch_interval_ms:
            self.args += ["--switch-interval", str(switch_interval_ms)]
        self.log_path = log_path or Path(os.devnull)
        self.proc: asyncio.subprocess.Process | None = None
        self._log = None

    async def start(self, timeout: float = 180.0) -> dict:  # noqa: ASYNC109
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                   MKL_NUM_THREADS="1", PYTHONPATH=str(ROOT))
        self._log = open(self.log_path, "ab")  # noqa: SIM115, ASYNC230
        self.proc = await asyncio.create_subprocess_exec(
            *self.args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=self._log, env=env, cwd=str(ROOT), limit=256 * 2**20)
        return await self.read(timeout)

    async def read(self, timeout: float = 600.0) -> dict:  # noqa: ASYNC109
        assert self.proc is not None and self.proc.stdout is not None
        while True:
            line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
            if not line:
                raise RuntimeError(f"the bot process ended (exit {await self.proc.wait()}); "
                                   f"its log: {self.log_path}")
            if line.startswith(b"BENCH "):
                return json.loads(line[6:])

    async def command(self, *words: object, timeout: float = 600.0) -> dict:  # noqa: ASYNC109
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write((" ".join(str(w) for w in words) + "\n").encode())
        await self.proc.stdin.drain()
        return await self.read(timeout)

    def errors(self, top: int = 6) -> list[tuple[int, str]]:
        """The bot log's error lines (logged errors and exception lines), most frequent first."""
        import re
        from collections import Counter

        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return []
        pattern = re.compile(r"^(ERROR:.*|[A-Za-z_][\w.]*(Error|Exception|Timeout)\b.*)$")
        found = Counter(m.group(1)[:200] for line in text.splitlines()
                        if (m := pattern.match(line)))
        return found.most_common(top)

    async def close(self) -> None:
        proc = self.proc
        if proc is None:
            return
        try:
            if proc.returncode is None and proc.stdin is not None:
                with contextlib.suppress(Exception):
                    proc.stdin.write(b"quit\n")
                    await proc.stdin.drain()
                    proc.stdin.close()
                try:
                    await asyncio.wait_for(proc.wait(), 30)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
        finally:
            if self._log is not None:
                self._log.close()
            self.proc = None


def _hog(deadline: float) -> None:
    x = 0
    while time.time() < deadline:
        for _ in range(10_000):
            x += 1


class CpuHogs:
    """n busy-loop processes (each stops by itself after `max_seconds`)."""

    def __init__(self, n: int, max_seconds: float = 900.0) -> None:
        self.procs = []
        ctx = multiprocessing.get_context("spawn")
        for _ in range(n):
            p = ctx.Process(target=_hog, args=(time.time() + max_seconds,), daemon=True)
            p.start()
            self.procs.append(p)

    def stop(self) -> None:
        for p in self.procs:
            if p.is_alive():
                p.terminate()
        for p in self.procs:
            p.join(5)
        self.procs = []


def ms_stats(seconds: list[float], qs=(50, 99)) -> dict[str, float]:
    """Percentiles and max in ms; NaN when empty."""
    if not seconds:
        return {**{f"p{q:g}": float("nan") for q in qs}, "max": float("nan"), "n": 0}
    arr = np.asarray(seconds) * 1000.0
    return {**{f"p{q:g}": float(np.percentile(arr, q)) for q in qs},
            "max": float(arr.max()), "n": len(arr)}


def callback_latencies(inters) -> list[float]:
    return [i.callback_received_at - i.sent_at for i in inters
            if i.callback_received_at is not None]


def answer_latencies(emu, inters) -> list[float]:
    """Sent -> the bot's first edit of its deferred answer (the full reply)."""
    first_edit: dict[str, float] = {}
    for req in emu.requests:
        if req.method == "PATCH" and req.path.endswith("/messages/@original"):
            token = req.path.split("/")[3]
            first_edit.setdefault(token, req.received_at)
    return [first_edit[i.token] - i.sent_at for i in inters if i.token in first_edit]


def covered(intervals, start: float, end: float) -> float:
    """Fraction of [start, end] inside the (non-overlapping) intervals."""
    busy = sum(max(0.0, min(b, end) - max(a, start)) for a, b in intervals)
    return busy / max(end - start, 1e-9)


def share_commands_everywhere(emu, dev_guild: int) -> None:
    """The bot syncs its commands to the dev guild only; make them global in the emulator so
    members of every guild can run them (as after a global sync)."""
    emu.commands[None] = [{k: v for k, v in cmd.items() if k != "guild_id"}
                          for cmd in emu.commands.get(dev_guild, [])]
