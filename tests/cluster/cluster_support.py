"""Helpers of the cluster tests: real processes (workers, clusters) logging to files."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import timeouts
from processes import kill_group, spawn

REPO = Path(__file__).resolve().parents[2]
JOB_KEY = "test-job-key-0123456789abcdef"  # [redis] job_key of the tests' clusters and workers


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISCORD_TOKEN", "MOVIEBOT_CONFIG", "MOVIEBOT_DATABASE",
                        "MOVIEBOT_CLUSTER_ID", "MOVIEBOT_REDIS_URL", "MOVIEBOT_DATABASE_URL",
                        "MOVIEBOT_REDIS_JOB_KEY")}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_for(self, needle: str, timeout: float = 20.0, count: int = 1) -> str:
        """The log once it holds `needle` (`count` times); `timeout` is what a quiet machine
        needs, scaled by the run's timeout factor."""
        timeout = timeouts.scaled(timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.text()
            if text.count(needle) >= count:
                return text
            if self.popen.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError(f"{self.name}: no {needle!r} (x{count}) within {timeout}s; "
                             f"exit={self.popen.poll()}\n{self.text()[-3000:]}")

    def stop(self) -> None:
        """SIGTERM, then (after a scaled 10 s) SIGKILL to the process's whole group."""
        try:
            if self.popen.poll() is None:
                self.popen.send_signal(signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.popen.wait(timeouts.scaled(10))
        finally:
            kill_group(self.popen)  # its children too, on every path


@dataclass
class Procs:
    tmp: Path
    started: list[Proc] = field(default_factory=list)

    def start(self, name: str, args: list[str], env: dict[str, str],
              cwd: Path | None = None) -> Proc:
        log = self.tmp / f"{name}.log"
        handle = log.open("wb")
        popen = spawn([sys.executable, *args], env=env, cwd=cwd or self.tmp, stdout=handle,
                      stderr=subprocess.STDOUT)  # a process group of its own: see stop()
        handle.close()
        proc = Proc(name, popen, log)
        self.started.append(proc)
        return proc

    def worker(self, name: str, redis: str, *extra: str, database: str | Path,
               key: str = JOB_KEY, **env: str) -> Proc:
        """A `python -m bot worker` on its own `database` (a path or a PostgreSQL URL)."""
        where = ({"MOVIEBOT_DATABASE_URL": str(database)}
                 if str(database).startswith("postgres") else
                 {"MOVIEBOT_DATABASE": str(database)})
        proc = self.start(name, ["-m", "bot", "worker", "--name", name, *extra],
                          child_env(MOVIEBOT_REDIS_URL=redis, MOVIEBOT_REDIS_JOB_KEY=key,
                                    **where, **env))
        proc.wait_for("Starting worker")
        return proc

    def stop_all(self) -> None:
        for proc in reversed(self.started):
            with contextlib.suppress(Exception):
                proc.stop()
