"""The many-guilds guard: `benchmarks/many_guilds.py --quick --check` in CI.

The benchmarks run on demand; this reduced run (200 Zipf guilds, models pretrained by the bot's
own refit job, the bot in its own process logged into the emulator, mixed commands at 50/s)
checks the harness end to end and guards against a regression like round 3's `/rate` collapse
(33-59 s acks at 2,000 guilds, "database is locked"): it fails when any interaction is
acknowledged after Discord's 3 s limit, or never, or when the bot's log says "database is
locked" or "interaction failed". That is Discord's hard limit, not a timing target: the
figures themselves are printed, never asserted.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def test_many_guilds_quick_run_acknowledges_everything_within_discords_limit(
        tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "many_guilds.py"), "--quick", "--check",
         "--seconds", "10", "--json", str(tmp_path / "figures.json")],
        capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-3000:]
    assert "CHECK PASSED" in out.stdout
    assert "0 unanswered" in out.stdout
    assert "refits without a change:" in out.stdout
    assert (tmp_path / "figures.json").exists()


def test_the_check_fails_on_a_late_ack_or_a_locked_database() -> None:
    """The guard itself: a late ack, a missing one and a lock error each fail it."""
    sys.path.insert(0, str(ROOT))
    from benchmarks.many_guilds import check

    class Inter:
        def __init__(self, sent: float, acked: float | None) -> None:
            self.sent_at = sent
            self.callback_received_at = acked

    fine = [Inter(0.0, 0.05), Inter(1.0, 1.2)]
    assert check(fine, fine, "INFO: all good") == 0
    late = [*fine, Inter(2.0, 5.5)]
    assert check(late, late, "") == 1
    assert check([*fine, Inter(3.0, None)], fine, "") == 1
    assert check(fine, fine, "sqlite3.OperationalError: database is locked") == 1
