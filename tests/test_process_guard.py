"""The session guard (tests/conftest.py, tests/processes.py): a process a test starts and
leaves running fails the run and is killed; `processes.running` kills a whole process group on
every exit path, also when the test fails inside the block."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import processes
import pytest
import timeouts

TESTS = Path(__file__).resolve().parent

CONFTEST = '''
import os
import processes

TOKEN = os.environ[processes.MARKER_ENV]


def pytest_sessionfinish(session, exitstatus):
    processes.fail_on_leftovers(session, TOKEN, grace=0.5)
'''

LEAK = '''
import subprocess
import sys


def test_leaves_a_process_behind(tmp_path):
    # A child that starts a grandchild in a session of its own, then the test forgets both.
    code = ("import subprocess, sys, time; "
            "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'], "
            "start_new_session=True); print('GRANDCHILD', child.pid, flush=True); "
            "time.sleep(120)")
    proc = subprocess.Popen([sys.executable, "-c", code])
    print("LEAKED", proc.pid, flush=True)
'''


def _inner_pytest(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_inner.py").write_text(body)
    env = {**os.environ, processes.MARKER_ENV: uuid.uuid4().hex,
           "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
                           "--rootdir", str(tmp_path), str(tmp_path / "test_inner.py")],
                          cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=timeouts.scaled(120))


def test_a_process_left_behind_fails_the_run_and_is_killed(tmp_path):
    result = _inner_pytest(tmp_path, LEAK)
    output = result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, output
    assert "1 passed" in output
    assert "2 process(es) started by the tests outlived them (killed now)" in output, output
    leaked = [int(output.split(f"{what} ", 1)[1].split()[0])
              for what in ("LEAKED", "GRANDCHILD")]
    deadline = time.monotonic() + timeouts.scaled(10)
    while any(map(_alive, leaked)):  # SIGKILLed: gone once reaped
        assert time.monotonic() < deadline, "the leaked processes are still alive"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_clean_run_passes(tmp_path):
    result = _inner_pytest(tmp_path, "def test_nothing():\n    pass\n")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "outlived" not in result.stdout


def test_running_kills_the_whole_group_when_the_block_fails():
    code = ("import subprocess, sys, time; "
            "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); "
            "print('ready', flush=True); time.sleep(120)")
    with pytest.raises(AssertionError), processes.running(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout.readline().strip() == "ready"
        group = proc.pid
        assert len(processes.live_processes(pgid=group)) == 2  # the process and its child
        raise AssertionError("the test fails inside the block")
    assert processes.live_processes(pgid=group) == {}


def test_a_worker_sees_only_its_own_processes():
    """Under pytest-xdist each worker checks the processes carrying its own id: another
    worker's (still running) processes are neither reported nor killed by it."""
    token = uuid.uuid4().hex
    code = "print('ready', flush=True); import time; time.sleep(120)"
    started = []
    try:
        for worker in ("gw0", "gw1"):
            env = {**os.environ, processes.MARKER_ENV: token, processes.WORKER_ENV: worker}
            proc = processes.spawn([sys.executable, "-c", code], env=env,
                                   stdout=subprocess.PIPE, text=True)
            started.append(proc)
            assert proc.stdout.readline().strip() == "ready"
        gw0, gw1 = started
        assert set(processes.marked_processes(token, "gw0")) == {gw0.pid}
        assert set(processes.marked_processes(token, "gw1")) == {gw1.pid}
        assert set(processes.marked_processes(token)) == {gw0.pid, gw1.pid}  # the controller
    finally:
        for proc in started:
            processes.kill_group(proc)
