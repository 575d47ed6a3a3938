"""Subprocesses of the tests, and making sure none outlives its test (or the run).

* `spawn(args, **popen)`: `subprocess.Popen` in a process group of its own (a new session),
  so the process and everything it starts (the bot's training and drawing processes) can be
  signalled and killed together;
* `running(args, **popen)`: the same as a context manager that kills the whole group on every
  exit path (a failed assertion, a timeout, Ctrl-C);
* `kill_group(proc)`: SIGKILL the group, reap the process, wait for the group to be gone;
* `live_processes(pgid=..., ancestor=...)`: the processes (not zombies) of a group, or below a
  process, read from /proc (Linux; empty elsewhere).

Every process a test run starts carries `MOVIEBOT_TEST_RUN=<token>` in its environment (set by
tests/conftest.py, or by `.ci/run`, and inherited), whatever session or parent it ends up with.
At the end of the session tests/conftest.py looks for live processes carrying the token
(`leftover_processes`), kills them and fails the run; `.ci/run` looks again after pytest has
exited.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import timeouts

PROC = Path("/proc")
MARKER_ENV = "MOVIEBOT_TEST_RUN"  # every process of a test run inherits it (tests/conftest.py)
# Under pytest-xdist each worker's processes carry its id too: a worker's end-of-session check
# looks at its own processes only, never at the other workers' (still running) ones.
WORKER_ENV = "MOVIEBOT_TEST_WORKER"


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, process group) of `pid`, or None if it is gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()  # the name may hold spaces and parentheses
    return fields[0], int(fields[1]), int(fields[2])


def _command(pid: int) -> str:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return "?"
    return raw.replace(b"\0", b" ").decode(errors="replace").strip() or "?"


def live_processes(*, pgid: int | None = None, ancestor: int | None = None) -> dict[int, str]:
    """pid -> command line of the live (not zombie) processes in process group `pgid` and/or
    below process `ancestor` (its children, their children...)."""
    if not PROC.is_dir():
        return {}
    table: dict[int, tuple[str, int, int]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            table[int(entry.name)] = stat
    found: set[int] = set()
    if pgid is not None:
        found |= {pid for pid, (_state, _ppid, group) in table.items() if group == pgid}
    if ancestor is not None:
        children: dict[int, list[int]] = {}
        for pid, (_state, ppid, _group) in table.items():
            children.setdefault(ppid, []).append(pid)
        todo = list(children.get(ancestor, []))
        while todo:
            pid = todo.pop()
            found.add(pid)
            todo.extend(children.get(pid, []))
    return {pid: _command(pid) for pid in sorted(found)
            if pid in table and table[pid][0] != "Z" and pid != os.getpid()}


def spawn(args: Sequence[str], **popen: Any) -> subprocess.Popen[Any]:
    """Popen in a new session (its own process group, led by the process)."""
    popen.setdefault("start_new_session", True)
    return subprocess.Popen(list(args), **popen)


def kill_group(proc: subprocess.Popen[Any], timeout: float | None = None) -> None:
    """SIGKILL `proc`'s whole process group (if it still has one), reap `proc`, and wait
    (bounded) until no live process of the group is left."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    with contextlib.suppress(Exception):
        proc.communicate(timeout=timeouts.scaled(10))
    deadline = time.monotonic() + (timeout if timeout is not None else timeouts.scaled(10))
    while live_processes(pgid=proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)


@contextlib.contextmanager
def running(args: Sequence[str], **popen: Any) -> Iterator[subprocess.Popen[Any]]:
    """`spawn(args)`; whatever happens in the block, the group is killed afterwards (after a
    clean stop in the block this only reaps)."""
    proc = spawn(args, **popen)
    try:
        yield proc
    finally:
        kill_group(proc)


class Lines:
    """A subprocess's text stream read on a thread, line by line, so a test can wait for a
    line with a deadline (a blocking `readline()` ignores any timeout while the process is
    silent)."""

    def __init__(self, stream: Any) -> None:
        self.lines: list[str] = []
        self.ended = False
        self._taken = 0
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        try:
            for line in stream:
                with self._changed:
                    self.lines.append(line.rstrip("\n"))
                    self._changed.notify_all()
        finally:
            with self._changed:
                self.ended = True
                self._changed.notify_all()

    def wait_until(self, done: Any, timeout: float) -> list[str]:
        """The lines so far once `done(lines)` holds or the stream ends; AssertionError
        (with the lines) after `timeout` seconds."""
        with self._changed:
            ok = self._changed.wait_for(lambda: self.ended or done(self.lines), timeout)
            lines = list(self.lines)
        assert ok, f"timed out after {timeout:.0f} s:\n" + "\n".join(lines)
        self._taken = len(lines)
        return lines

    def rest(self, timeout: float) -> str:
        """The lines not returned by `wait_until` yet, once the stream has ended."""
        self._thread.join(timeout)
        with self._changed:
            rest = self.lines[self._taken:]
            self._taken = len(self.lines)
        return "".join(line + "\n" for line in rest)


def marked_processes(token: str, worker: str = "") -> dict[int, str]:
    """pid -> command line of the live processes started with `MARKER_ENV=token` (and, when
    `worker` is given, `WORKER_ENV=worker`) in their environment (whatever their parent,
    session or group now), other than this one."""
    needles = {f"{MARKER_ENV}={token}".encode()}
    if worker:
        needles.add(f"{WORKER_ENV}={worker}".encode())
    found: dict[int, str] = {}
    if not PROC.is_dir():
        return found
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()  # empty for a zombie
        except OSError:
            continue
        if needles <= set(environ.split(b"\0")):
            stat = _stat(int(entry.name))
            if stat is not None and stat[0] != "Z":
                found[int(entry.name)] = _command(int(entry.name))
    return found


def is_interpreter_helper(command: str) -> bool:
    """multiprocessing's resource tracker or fork server: started by the test process itself,
    they end when it does."""
    return ("multiprocessing.resource_tracker" in command
            or "multiprocessing.forkserver" in command)


def _own_helper(pid: int, command: str) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[1] == os.getpid() and is_interpreter_helper(command)


def leftover_processes(token: str, *, grace: float, worker: str = "") -> dict[int, str]:
    """The processes of this test run (`marked_processes(token, worker)`) still alive after
    `grace` seconds, other than this process's own interpreter helpers."""
    deadline = time.monotonic() + grace
    while True:
        left = {pid: command for pid, command in marked_processes(token, worker).items()
                if not _own_helper(pid, command)}
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.1)


def kill_all(pids: dict[int, str]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def fail_on_leftovers(session: Any, token: str, *, grace: float,
                      worker: str = "") -> dict[int, str]:
    """pytest_sessionfinish: the processes of the run (of this xdist `worker` only, when
    given) still alive after `grace` seconds are listed, killed, and fail the run (exit code
    1). Returns them."""
    import pytest

    left = leftover_processes(token, grace=grace, worker=worker)
    if not left:
        return left
    kill_all(left)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [f"{len(left)} process(es) started by the tests outlived them (killed now):",
             *(f"  pid {pid}: {command[:200]}" for pid, command in left.items())]
    for line in lines:
        if reporter is not None:
            reporter.write_line(line, red=True)
        else:
            print(line, file=sys.stderr)
    if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    return left


def main(argv: list[str]) -> int:
    """`python tests/processes.py TOKEN` (`.ci/run`, after pytest has exited): list and kill
    the processes of that run still alive; exit 1 if there were any."""
    left = leftover_processes(argv[0], grace=timeouts.scaled(5))
    for pid, command in left.items():
        print(f"left running after the tests: pid {pid}: {command[:200]}", file=sys.stderr)
    kill_all(left)
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
