"""The pictures tests reuse the end-to-end fixture (`env`: the real bot against the emulator)
from tests/e2e/conftest.py, loaded by path (tests/ has no packages)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_path = Path(__file__).resolve().parents[1] / "e2e" / "conftest.py"
_spec = importlib.util.spec_from_file_location("e2e_conftest_for_pictures", _path)
assert _spec is not None and _spec.loader is not None
_e2e = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _e2e
_spec.loader.exec_module(_e2e)

env = _e2e.env
e2e_database_url = _e2e.e2e_database_url
Env = _e2e.Env
