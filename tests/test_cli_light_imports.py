"""The light command lines stay light: `python -m bot --version`, `--help` and `health` (Docker's
HEALTHCHECK, run every few seconds) never import the bot's heavy parts.

`import bot` loads its public names on first use (PEP 562), and `bot.__main__` imports what a
subcommand needs inside that subcommand. Checked structurally, not by timing: each command runs
in a fresh interpreter (as `python -m bot` would) and reports which modules it loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import bot

REPO = Path(__file__).resolve().parents[1]
# What the light paths never need: discord.py, SciPy, plotting, the client, the recommender.
HEAVY = ("discord", "scipy", "matplotlib", "recommender", "bot.client", "bot.service", "cogs",
         "emulator")

RUN = """
import json, runpy, sys
sys.argv = ["python -m bot", *json.loads(sys.argv[1])]
try:
    runpy.run_module("bot", run_name="__main__", alter_sys=True)
except SystemExit as exit:
    code = exit.code
else:
    code = 0
sys.stdout.flush()
print("\\nMODULES " + json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def loaded_modules(args: list[str], cwd: Path) -> set[str]:
    """The modules a fresh `python -m bot ARGS` has imported when it ends."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("MOVIEBOT_CONFIG", None)
    result = subprocess.run([sys.executable, "-c", RUN, json.dumps(args)], capture_output=True,
                            text=True, cwd=cwd, env=env, timeout=120)
    line = result.stderr.rpartition("\nMODULES ")[2]
    assert line, result.stderr[-3000:]
    return set(json.loads(line))


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules
                  if any(m == h or m.startswith(h + ".") for h in HEAVY))


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["health"]])
def test_light_commands_do_not_import_the_heavy_parts(args: list[str], tmp_path: Path) -> None:
    modules = loaded_modules(args, tmp_path)
    assert "bot.config" in modules  # the command really ran (it read the settings)
    assert heavy(modules) == []


def test_the_check_sees_a_heavy_import(tmp_path: Path) -> None:
    """`prior build` needs the recommender (and SciPy) even when its path is missing."""
    modules = loaded_modules(["prior", "build", str(tmp_path / "missing")], tmp_path)
    assert {"scipy", "recommender"} <= set(heavy(modules))


def test_the_public_names_still_resolve() -> None:
    from bot.client import MovieBot
    from bot.config import ConfigError, Settings, load_settings

    assert (bot.MovieBot, bot.Settings, bot.ConfigError, bot.load_settings) == (
        MovieBot, Settings, ConfigError, load_settings)
    assert set(bot.__all__) <= set(dir(bot))
    with pytest.raises(AttributeError):
        bot.no_such_name  # noqa: B018
