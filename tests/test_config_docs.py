"""The README's configuration tables are generated (bot/config_docs.py) and cannot drift: they
must equal what the settings declarations render, every setting of `config.example.toml`
(commented-out ones included) must be documented, and every documented one must exist."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from bot.config import Settings
from bot.config_docs import ROWS, _value, documented_keys, render_readme

REPO = Path(__file__).resolve().parents[1]


def test_the_readme_tables_are_what_the_declarations_render():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert render_readme(readme) == readme, (
        "README.md's generated tables are out of date: run `python -m bot.config_docs`")


def _example_keys() -> set[tuple[str, str]]:
    """Every `key = value` of config.example.toml under its section, commented out or not."""
    keys: set[tuple[str, str]] = set()
    section = ""
    for raw in (REPO / "config.example.toml").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        uncommented = line.lstrip("#").strip()
        if match := re.fullmatch(r"\[([a-z_.]+)\]", uncommented):
            section = match.group(1)
        elif match := re.fullmatch(r"([a-z_]+) = .*", uncommented):
            if section == "logging.levels":
                continue  # logger names, not settings
            keys.add((section, match.group(1)))
    tomllib.loads((REPO / "config.example.toml").read_text(encoding="utf-8"))  # it parses
    return keys


def test_every_setting_of_the_example_config_is_documented_and_vice_versa():
    documented = documented_keys() - {("logging.levels", "*logger name*")}
    example = _example_keys()
    assert example - documented == set(), "add these to bot/config_docs.py ROWS"
    assert documented - example == set(), "document these in config.example.toml"


def test_every_documented_setting_exists_in_the_settings_declaration():
    settings = Settings()
    for row in ROWS:
        for path in row.paths():
            if path is not None:
                _value(settings, path)  # AttributeError names a stale row
