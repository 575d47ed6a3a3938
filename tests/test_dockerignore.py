""".dockerignore and .gitignore keep secrets, data and local environments out (issue 21, item 5).

The build context was 409 MB with `.venv`, the ratings database, `config.toml` (the token) and
`.env`. The patterns are matched here the way Docker matches them (Go's filepath.Match per path
segment, `**` for any number of folders, a matched folder excludes everything under it, `!`
re-includes); every file the Dockerfile copies must stay in the context.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

KEPT_OUT = [
    ".venv/bin/python", "venv/lib/python3.11/site.py", ".git/HEAD", ".git/objects/ab/cdef",
    "moviebot.sqlite3", "moviebot.sqlite3-wal", "moviebot.sqlite3-shm", "data/moviebot.sqlite3",
    "ratings.db", "ratings.db-wal", "old/movies.db-shm", "backups/moviebot-2026-01-01.sqlite3",
    "backups/anything", "config.toml", "cluster.toml", ".env", "deploy/.env", ".env.local",
    "somewhere/config.toml", ".mypy_cache/3.11/x.json", ".ruff_cache/0.17/y",
    ".pytest_cache/v/cache/lastfailed", "bot/__pycache__/client.cpython-311.pyc",
    "tests/__pycache__/x.pyc", "moviebot.egg-info/PKG-INFO", "benchmarks/out/run.json",
]


def dockerignore_patterns() -> list[str]:
    lines = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _segment_regex(pattern: str) -> str:
    out = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.index("]", i)
            out.append("[" + pattern[i + 1:end].replace("!", "^", 1) + "]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """Docker's .dockerignore pattern as a regex over a slash-separated relative path."""
    parts = pattern.strip("/").split("/")
    regex = ""
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "**":
            regex += "(?:.*/)?" if not last else ".*"
        else:
            regex += _segment_regex(part) + ("" if last else "/")
    return re.compile(regex + "$")


def excluded(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves `path` out of the build context: the last matching pattern wins,
    and a pattern matching a parent folder matches the path."""
    prefixes = ["/".join(path.split("/")[:n]) for n in range(1, path.count("/") + 2)]
    result = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        regex = pattern_regex(pattern.removeprefix("!"))
        if any(regex.match(prefix) for prefix in prefixes):
            result = not negate
    return result


def copied_by_the_dockerfile() -> list[str]:
    """The tracked files under every COPY source of the Dockerfile."""
    sources = []
    for line in (REPO / "Dockerfile").read_text(encoding="utf-8").splitlines():
        if line.startswith("COPY "):
            sources += [word.rstrip("/") for word in line.split()[1:-1]
                        if not word.startswith("--")]
    files = subprocess.run(["git", "ls-files", *sources], cwd=REPO, capture_output=True,
                           text=True, check=True).stdout.split()
    assert len(files) > 50
    return files


def test_the_matcher_follows_dockers_rules():
    assert excluded("a/b/c.db", ["**/*.db"]) and excluded("c.db", ["**/*.db"])
    assert not excluded("a/c.db", ["*.db"])  # a pattern without ** matches at the top only
    assert excluded("backups/x/y", ["backups"])
    assert not excluded("keep.db", ["**/*.db", "!keep.db"])


@pytest.mark.parametrize("path", KEPT_OUT)
def test_secrets_data_environments_and_caches_stay_out_of_the_build_context(path):
    assert excluded(path, dockerignore_patterns()), path


def test_every_file_the_dockerfile_copies_stays_in_the_build_context():
    patterns = dockerignore_patterns()
    kept_out = [path for path in copied_by_the_dockerfile() if excluded(path, patterns)]
    assert kept_out == []


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
@pytest.mark.parametrize("path", [".env", "cluster.toml", "config.toml", "moviebot.sqlite3-wal",
                                  "backups/moviebot.sqlite3", ".mypy_cache/x"])
def test_git_ignores_secrets_and_data(path):
    result = subprocess.run(["git", "check-ignore", "--no-index", "-q", path], cwd=REPO)
    assert result.returncode == 0, f"{path} is not in .gitignore"


def test_git_still_tracks_the_example_configs():
    result = subprocess.run(["git", "check-ignore", "--no-index", "config.example.toml",
                             "config.cluster.example.toml"], cwd=REPO, capture_output=True,
                            text=True)
    assert result.returncode == 1 and result.stdout == ""
