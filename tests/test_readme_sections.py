"""The README an admin reads in ten minutes (issue 27 item 5): what the bot does with one
picture, then every section the issue lists, in a contents line that links them; benchmarks and
history live in benchmarks/README.md. (The generated configuration table, the invite command,
the Docker one-liner and the buildx recipe have their own tests: test_config_docs, test_invite,
test_image.)"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
# Each section the issue names -> the README heading that holds it.
SECTIONS = {
    "the two set-up commands": "Quick start",
    "console": "Try it without Discord",
    "Discord setup with invite": "Create the Discord application",
    "commands": "Commands",
    "configuration table": "Configuration",
    "media servers": "Media servers",
    "movie night": "Movie night",
    "Docker/Unraid": "Docker",
    "scaling out": "Scaling out",
    "backups": "Backup and restore",
    "privacy": "Privacy",
    "troubleshooting": "Troubleshooting",
}


def _headings() -> list[str]:
    return re.findall(r"^## (.+)$", README, flags=re.MULTILINE)


def test_every_section_the_issue_lists_is_there_and_in_the_contents() -> None:
    headings = _headings()
    contents = next(line for line in README.split("\n\n") if line.startswith("Contents:"))
    for what, heading in SECTIONS.items():
        assert heading in headings, what
        anchor = "#" + re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-")
        assert f"]({anchor})" in contents, (what, anchor)


def test_what_it_does_comes_first_with_one_picture_that_exists() -> None:
    intro = README.split("\n## ", 1)[0]
    pictures = re.findall(r"!\[([^\]]+)\]\(([^)]+)\)", intro)
    assert len(pictures) == 1
    alt, path = pictures[0]
    assert len(alt) > 20 and (REPO / path).is_file()


def test_the_setup_commands_unraid_and_benchmarks_are_pointed_to() -> None:
    docker = README.split("\n## Docker\n", 1)[1].split("\n## ", 1)[0]
    assert "unraid/moviebot.xml" in docker and (REPO / "unraid" / "moviebot.xml").is_file()
    assert "python -m bot invite" in README
    assert "benchmarks/README.md" in README and (REPO / "benchmarks" / "README.md").is_file()
