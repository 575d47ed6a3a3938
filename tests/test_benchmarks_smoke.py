"""Smoke test of the two-process benchmark harness: `benchmarks/many_guilds.py` at toy size.

The benchmarks run on demand, never in CI; this only checks that the harness still works end
to end (database built directly, models pretrained by the bot's refit job, the bot in its own
process logged into the emulator, mixed commands answered, the figures printed). No figure is
asserted: timings on shared machines are not test material.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def test_many_guilds_benchmark_runs_end_to_end(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "many_guilds.py"), "--guilds", "12",
         "--largest", "1500", "--movies", "300", "--rate", "10", "--seconds", "2",
         "--json", str(tmp_path / "figures.json")],
        capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "0 unanswered" in out.stdout
    assert "refits without a change:" in out.stdout
    assert "worst loop stall" in out.stdout
    assert (tmp_path / "figures.json").exists()
