"""`python -m bot` as a person runs it: missing token and bad config end in one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import timeouts

REPO = Path(__file__).resolve().parents[1]


def run_bot(*args: str, cwd: Path, extra_env: dict[str, str] | None = None):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISCORD_TOKEN", "MOVIEBOT_CONFIG", "MOVIEBOT_DATABASE")}
    env["PYTHONPATH"] = str(REPO)
    env.update(extra_env or {})
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeouts.scaled(60))


def test_without_a_token_it_stops_with_one_line_saying_how_to_provide_one(tmp_path):
    result = run_bot(cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "DISCORD_TOKEN" in lines[0] and "[discord] token" in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "moviebot.sqlite3").exists()  # nothing created before the check


def test_invalid_config_names_file_and_key_in_one_line(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[discord]\ntoken = "x"\n[training]\nworkers = 0\n')
    config.chmod(0o600)
    result = run_bot("--config", str(config), cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(config) in lines[0] and "'training.workers'" in lines[0]


def test_help_lists_every_subcommand(tmp_path):
    result = run_bot("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("run", "sync", "catalog", "console", "backup", "purge"):
        assert command in result.stdout
