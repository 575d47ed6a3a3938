"""matplotlib's config folder (issue 21, item 9): the container's user has a read-only home, and
matplotlib warned at every start ("Matplotlib created a temporary cache directory ...") and
rebuilt its font cache each time. The Dockerfile sets MPLCONFIGDIR (and builds the cache in the
image); elsewhere `bot.render` sets it when it is unset and the default folders cannot be
written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from bot.render.mplconfig import ensure_mplconfigdir

REPO = Path(__file__).resolve().parents[1]
DRAW = """
import os, numpy as np
from bot.render import Distribution, draw_distribution
picture = draw_distribution(Distribution("Alien", np.arange(10)))
print(os.environ.get("MPLCONFIGDIR", ""))
"""


def _environment(home: Path, **extra: str) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items()
               if k not in ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")}
    environ.update(HOME=str(home), PYTHONPATH=str(REPO), **extra)
    return environ


def test_an_unwritable_home_gets_a_private_folder_and_no_warning(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")  # nobody, root included, can make folders under it
    result = subprocess.run([sys.executable, "-c", DRAW], env=_environment(blocker / "home"),
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Matplotlib created a temporary" not in result.stderr, result.stderr
    assert "MPLCONFIGDIR" not in result.stderr
    folder = Path(result.stdout.strip().splitlines()[-1])
    assert folder.is_dir() and folder.name.startswith("moviebot-matplotlib-")
    assert folder.stat().st_mode & 0o077 == 0  # private


def test_a_set_or_a_writable_folder_is_left_alone(tmp_path):
    assert ensure_mplconfigdir({"MPLCONFIGDIR": "/somewhere", "HOME": "/nonexistent/x"}) is None
    environ = {"HOME": str(tmp_path)}
    assert ensure_mplconfigdir(environ) is None and "MPLCONFIGDIR" not in environ


def test_the_image_sets_it_and_builds_the_font_cache():
    text = re.sub(r"\\\n", " ", (REPO / "Dockerfile").read_text(encoding="utf-8"))
    env = next(line for line in text.splitlines() if line.startswith("ENV "))
    assert "MPLCONFIGDIR=/tmp/matplotlib" in env
    assert 'python -c "import matplotlib.font_manager"' in text
    assert 'chown -R moviebot "$MPLCONFIGDIR"' in text
