"""The version an admin sees and where its changes are written (issue 21, item 9): the version
was stuck at 0.1.0 and the README's Upgrading pointed at release notes that did not exist.
`python -m bot --version` shows pyproject's version; CHANGELOG.md (Keep a Changelog) has a
section for it. Also the README's `training.mode` default (it said "thread"; the code: "auto").
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from datetime import date
from pathlib import Path

from bot.about import version
from bot.config import TrainingSettings

REPO = Path(__file__).resolve().parents[1]
SECTIONS = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def project_version() -> str:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "version"]


def test_version_flag_prints_the_projects_version(tmp_path):
    environ = {k: v for k, v in os.environ.items() if k != "MOVIEBOT_CONFIG"}
    environ["PYTHONPATH"] = str(REPO)
    result = subprocess.run([sys.executable, "-m", "bot", "--version"], cwd=tmp_path,
                            env=environ, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"moviebot {project_version()}"
    assert version() == project_version() != "0.1.0"


def test_the_changelog_has_a_section_for_this_version():
    text = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert text.startswith("# Changelog\n")
    assert "Keep a Changelog" in text
    releases = re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$", text, re.M)
    assert releases[0] == ("Unreleased", "")
    number, day = releases[1]
    assert number == project_version()
    date.fromisoformat(day)
    numbers = [tuple(int(p) for p in n.split(".")) for n, _ in releases[1:]]
    assert numbers == sorted(numbers, reverse=True)
    headings = set(re.findall(r"^### (.+)$", text, re.M))
    assert headings <= SECTIONS, headings - SECTIONS
    this_release = text.split(f"## [{number}]", 1)[1].split("\n## [", 1)[0]
    assert this_release.count("\n- ") >= 5


def test_the_readme_gives_the_codes_training_mode_default():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    row = re.search(r"^\| training \| mode \| \"(\w+)\" \|", readme, re.M)
    assert row and row.group(1) == TrainingSettings().mode == "auto"
    assert "CHANGELOG.md" in readme.split("## Upgrading", 1)[1]
