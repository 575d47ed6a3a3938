"""The try-it console saves the bot's pictures to a folder and prints their paths (a real
`python -m bot console` session in a subprocess, as a person runs it)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import timeouts
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
SCRIPT = """\
as ana
/taste
/movies top
/ratings
"""


@pytest.mark.slow
def test_console_saves_pictures_and_prints_their_paths(tmp_path: Path) -> None:
    folder = tmp_path / "pictures"
    env = {**os.environ, "PYTHONPATH": str(REPO), "MOVIEBOT_CONSOLE_ATTACHMENTS": str(folder)}
    env.pop("MOVIEBOT_CONFIG", None)
    result = subprocess.run([sys.executable, "-m", "bot", "console"], input=SCRIPT,
                            capture_output=True, text=True, cwd=REPO, env=env,
                            timeout=timeouts.scaled(120))
    assert result.returncode == 0, result.stderr
    saved = re.findall(r"\[attachment (\S+) saved to (.+)\]", result.stdout)
    assert [name for name, _path in saved] == ["taste.png", "scores.png", "ratings.png"]
    for name, path in saved:
        file = Path(path)
        assert file.parent == folder and file.name.endswith(name)
        image = Image.open(io.BytesIO(file.read_bytes()))
        image.load()
        assert image.format == "PNG" and image.size[0] >= 600
    assert "📎 taste.png (" in result.stdout  # the message line, as for any attachment
