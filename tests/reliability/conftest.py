"""Reliability tests reuse the end-to-end fixture `env` (real bot + emulator, two guilds).

tests/ has no packages, so the e2e conftest is loaded here under its own module name and its
fixture re-exported. Shared helpers live in rel_support.py.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_E2E = Path(__file__).resolve().parents[1] / "e2e" / "conftest.py"
_spec = importlib.util.spec_from_file_location("reliability_e2e_conftest", _E2E)
assert _spec is not None and _spec.loader is not None
e2e = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = e2e
_spec.loader.exec_module(e2e)

env = e2e.env  # the fixture, re-exported for this folder
