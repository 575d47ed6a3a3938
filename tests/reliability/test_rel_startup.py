"""Start-up as an admin meets it (issue 14, rows 2, 3 and 5), in subprocesses running the real
`main()`: Discord unreachable (a closed port) or flaky (HTTP 502 from the emulator) is retried
with one log line per attempt and a growing, jittered backoff, and SIGTERM stops it cleanly at
any point; a rejected token or refused intents end with one line and exit code 78; `sync`
without network ends with one line and exit code 1. The start-up
line names the config, the database, the version and the features; no voice warnings."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import timeouts
from processes import Lines, kill_group, running, spawn
from rel_support import subprocess_env

from bot.about import version

pytestmark = pytest.mark.slow
HELPER = Path(__file__).resolve().parent / "start_helper.py"
ATTEMPT = re.compile(r"cannot reach Discord \(attempt (\d+)\): (.+); retrying in ([\d.]+) s$")


def _config(tmp_path: Path, token: str = "test-token") -> Path:
    path = tmp_path / "moviebot.toml"
    path.write_text(f'[discord]\ntoken = "{token}"\n[storage]\ndatabase = "db/bot.sqlite3"\n'
                    '[logging]\nlevel = "DEBUG"\n', encoding="utf-8")
    path.chmod(0o600)
    return path


class Bot:
    """The helper process: its stderr read on a thread (`processes.Lines`)."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        self.stderr = Lines(proc.stderr)


@pytest.fixture
def helper(tmp_path: Path) -> Iterator[Callable[..., Bot]]:
    """Start the helper (in a process group of its own); every group started is killed when
    the test ends, whichever way it ends."""
    started: list[subprocess.Popen] = []

    def run(mode: str, token: str = "test-token") -> Bot:
        proc = spawn([sys.executable, str(HELPER), mode, str(_config(tmp_path, token))],
                     env=subprocess_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                     text=True)
        started.append(proc)
        return Bot(proc)

    try:
        yield run
    finally:
        for proc in started:
            kill_group(proc)


def _lines_until(bot: Bot, done, timeout: float = 30) -> list[str]:
    """stderr lines until `done(lines)` holds (or the process ends); `timeout` is what a
    quiet machine needs, scaled by the run's timeout factor."""
    return bot.stderr.wait_until(done, timeouts.scaled(timeout))


def _stop(bot: Bot) -> tuple[int, str]:
    """SIGTERM, then its exit code and the rest of its stderr."""
    bot.proc.send_signal(signal.SIGTERM)
    code = bot.proc.wait(timeout=timeouts.scaled(15))
    return code, bot.stderr.rest(timeouts.scaled(10))


def test_unreachable_discord_is_retried_one_line_per_attempt_until_sigterm(helper):
    proc = helper("closed")
    lines = _lines_until(proc, lambda ls: sum(bool(ATTEMPT.search(li)) for li in ls) >= 4)
    code, rest = _stop(proc)
    attempts = [ATTEMPT.search(li) for li in lines if ATTEMPT.search(li)]
    assert [int(m[1]) for m in attempts] == list(range(1, len(attempts) + 1))
    assert all("cannot connect to 127.0.0.1:" in m[2] for m in attempts), attempts[0][2]
    # Exponential with jitter: attempt k waits at most base * 2**(k-1), capped (0.05, 0.4 s).
    waits = [float(m[3]) for m in attempts]
    assert all(w <= min(0.4, 0.05 * 2 ** k) + 0.05 for k, w in enumerate(waits)), waits
    output = "\n".join(lines) + rest
    assert "Traceback" not in output and "unexpected error" not in output
    assert code == 0, output
    assert "received SIGTERM: shutting down" in rest and "stopped cleanly" in rest


def test_flaky_discord_connects_after_retries_and_the_start_line_says_what_runs(
        tmp_path, helper):
    proc = helper("flaky")
    lines = _lines_until(proc, lambda ls: any("connected to Discord as" in li for li in ls))
    code, rest = _stop(proc)
    output = "\n".join(lines) + "\n" + rest
    attempts = [m for m in map(ATTEMPT.search, lines) if m]
    assert len(attempts) == 2 and all("HTTP 502" in m[2] for m in attempts), output
    assert "reached Discord after 2 failed attempts" in output
    start = next(li for li in lines if "starting:" in li)
    config = tmp_path / "moviebot.toml"
    assert f"moviebot {version()} starting: config {config};" in start
    assert f"database {(tmp_path / 'db' / 'bot.sqlite3').resolve()};" in start
    assert "features: training mode " in start
    assert "logging in using static token" not in output  # one line per attempt, not two
    # Quiet by default even at DEBUG: no per-statement aiosqlite lines, no HTTP request lines,
    # and no warnings about voice libraries a bot without voice does not need.
    assert "aiosqlite" not in output and "discord.http" not in output
    assert "PyNaCl" not in output and "davey" not in output and "voice will NOT" not in output
    assert code == 0 and "stopped cleanly" in rest
    assert "Traceback" not in output


def test_sigterm_during_a_login_that_hangs_stops_cleanly(helper):
    proc = helper("hanging")
    lines = _lines_until(proc, lambda ls: any("starting:" in li for li in ls))
    time.sleep(0.5)  # the login request is on its way and gets no answer
    started = time.monotonic()
    code, rest = _stop(proc)
    assert time.monotonic() - started < timeouts.scaled(10)
    output = "\n".join(lines) + rest
    assert code == 0, output
    assert "stopped cleanly" in rest and "Traceback" not in output


@pytest.mark.parametrize(("mode", "token", "fix"), [
    ("bad-token", "a-wrong-token", "Discord rejected the bot token: copy a fresh one"),
    ("intents", "test-token", "Discord refused the bot's gateway intents"),
])
def test_a_refused_token_or_intents_ends_with_one_line_and_exit_78(helper, mode, token, fix):
    bot = helper(mode, token)
    code = bot.proc.wait(timeout=timeouts.scaled(60))
    err = bot.stderr.rest(timeouts.scaled(10))
    assert code == 78, err
    fixes = [line for line in err.splitlines() if fix in line]
    assert len(fixes) == 1, err
    assert "Traceback" not in err and "retrying" not in err
    assert token not in err


def test_sync_without_network_is_one_line_and_a_failure(tmp_path):
    # Issue 21, item 4: `sync` offline ended with CRITICAL and a ~60-line traceback.
    config = tmp_path / "sync.toml"
    config.write_text('[discord]\ntoken = "test-token"\n[storage]\ndatabase = "bot.sqlite3"\n',
                      encoding="utf-8")
    config.chmod(0o600)
    with running([sys.executable, str(HELPER), "sync-closed", str(config)],
                 env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                 text=True) as proc:
        out, err = proc.communicate(timeout=timeouts.scaled(120))
    result = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 1, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Cannot reach Discord, nothing was synced: cannot connect to "
                               "127.0.0.1:"), lines[0]
    assert "run `python -m bot sync` again" in lines[0]
    assert "Synced" not in result.stdout


def test_gateway_reconnects_are_logged_on_one_line():
    # discord.py logs each gateway reconnect with logger.exception(...): a full traceback per
    # attempt. The bot's handler keeps the message and the cause, on one line.
    import logging

    from bot.reconnect_log import OneLineReconnects

    try:
        raise ConnectionResetError(104, "Connection reset by peer")
    except ConnectionResetError:
        record = logging.getLogger("discord.client").makeRecord(
            "discord.client", logging.ERROR, __file__, 1, "Attempting a reconnect in %.2fs",
            (3.5,), sys.exc_info())
    assert OneLineReconnects().filter(record)
    text = logging.Formatter("%(message)s").format(record)
    assert text == "Attempting a reconnect in 3.50s ([Errno 104] Connection reset by peer)"


def test_the_start_line_never_shows_database_credentials():
    from bot.about import describe_database

    assert describe_database("postgresql://bot:s3cret@db.example:5432/movies") == \
        "postgresql://db.example:5432/movies"
    assert describe_database(Path("postgresql://bot:s3cret@db.example/movies")) == \
        "postgresql://db.example/movies"  # a URL kept in a Path (one slash lost)
    assert describe_database("data/x.sqlite3") == str(Path("data/x.sqlite3").resolve())
