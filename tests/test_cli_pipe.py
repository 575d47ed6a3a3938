"""`python -m bot stats | head` (issue 21, item 9): when the reader of the output goes away,
the command ends quietly (exit 141, as a shell reports a writer whose reader left), without
the BrokenPipeError traceback it printed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.storage import Storage

REPO = Path(__file__).resolve().parents[1]


def run_into_a_closed_pipe(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run `python -m bot ARGS` with stdout a pipe nobody reads any more."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write
    environ = {k: v for k, v in os.environ.items()
               if k not in ("DISCORD_TOKEN", "MOVIEBOT_CONFIG", "MOVIEBOT_DATABASE")}
    environ["PYTHONPATH"] = str(REPO)
    try:
        return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, env=environ,
                              stdout=write_end, stderr=subprocess.PIPE, text=True,
                              timeout=120)
    finally:
        os.close(write_end)


async def make_database(path: Path) -> None:
    storage = await Storage.open(path)
    await storage.close()


@pytest.mark.parametrize("args", [["stats"], ["--help"], ["--version"],
                                  ["invite", "--application-id", "123"]])
def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path, args):
    asyncio.run(make_database(tmp_path / "bot.sqlite3"))
    config = tmp_path / "bot.toml"
    config.write_text('[storage]\ndatabase = "bot.sqlite3"\n', encoding="utf-8")
    config.chmod(0o600)
    result = run_into_a_closed_pipe("--config", str(config), *args, cwd=tmp_path)
    assert "Traceback" not in result.stderr and "BrokenPipeError" not in result.stderr, \
        result.stderr
    assert "CRITICAL" not in result.stderr
    # argparse's --help/--version swallow the error themselves (exit 0); the commands say 141.
    assert result.returncode == (0 if args[0].startswith("--") else 141), result.stderr
