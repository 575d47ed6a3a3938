"""Fixtures of the media tests: the service imitations (imitations.py), each served on a
free local port."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parent / "imitations.py"


def load():
    """tests/media/imitations.py as a module (tests/ has no packages; e2e tests load it too)."""
    if "media_imitations" in sys.modules:
        return sys.modules["media_imitations"]
    spec = importlib.util.spec_from_file_location("media_imitations", _PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


imitations = load()
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def media():
    return imitations
