"""`benchmarks/pictures.py` still runs (at toy size; the figures come from a full run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_pictures_benchmark_runs_at_toy_size() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "pictures.py"), "--movies", "300",
         "--members", "60", "--ratings", "3000", "--repeat", "1"],
        capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| /")]
    names = [row.split(" | ")[0] for row in rows]
    assert names[0].startswith("| /taste map, ") and names[0].endswith(" movies + 60 members")
    assert names[1:] == ["| /movies info distribution", "| /ratings summary",
                         "| /recommend card, 10 picks"]
    assert all(row.endswith("KB |") for row in rows)
