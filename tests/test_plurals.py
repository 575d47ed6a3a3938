"""Counts agree with their nouns in what people read (issue 21, item 9): "Imported 1 movie",
never "Imported 1 movies" or "1 movie(s)".

Besides examples of the fixed messages, a scan of the sources (bot/, cogs/, console/) finds any
f-string that puts a counted value right before a plural noun, any "%d nouns" log format and any
"(s)": each count must go through `bot.domain.plural.plural` (or be a constant above 1, such as
a limit).
"""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path

from bot.catalog.importer import ImportSummary
from bot.domain.plural import plural
from bot.service.privacy import ConsentRequired

REPO = Path(__file__).resolve().parents[1]
SOURCES = [p for folder in ("bot", "cogs", "console") for p in (REPO / folder).rglob("*.py")]
NOUNS = (r"(movies|ratings|members|rows|commands|servers|guilds|users|attendees|options|tables|"
         r"jobs|fits|votes|picks|titles|files|scores|attempts|calls|entries|items|lines|people|"
         r"films|days|hours|minutes)(?![=+\w])")
NOUN = re.compile(r"^ (?:catalog |bad |failed )?" + NOUNS)
# Counted values that are constants or limits (always above 1), and values that are words (a
# name, a genre), not counts.
CONSTANT = re.compile(r"^[A-Z_][A-Z0-9_]*$|(?:^|[._])(max|cap|limit)\w*$")
WORDS = re.compile(r"^(safe|plain_name)\(|name|owner|source|genre| if ")


def test_plural_agrees_with_the_count():
    assert plural(1, "movie") == "1 movie"
    assert plural(0, "movie") == "0 movies"
    assert plural(2, "rating") == "2 ratings"
    assert plural(1, "person", "people") == "1 person"
    assert plural(3, "person", "people") == "3 people"
    assert plural(12_345, "movie") == "12,345 movies"


def test_the_messages_of_the_issue_read_right_for_one():
    summary = ImportSummary(added=1, bad_rows=[(3, "no title")])
    assert summary.line("films.csv") == ("Imported 1 movie (0 already present, 1 bad row) from "
                                         "films.csv")
    assert str(ConsentRequired(frozenset({5}))) == "1 member must consent"


def _counted_before_a_noun(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.JoinedStr):
            continue
        parts = node.values
        for value, after in itertools.pairwise(parts):
            if not (isinstance(value, ast.FormattedValue) and isinstance(after, ast.Constant)
                    and isinstance(after.value, str) and NOUN.match(after.value)):
                continue
            source = ast.unparse(value.value)
            if CONSTANT.search(source) or WORDS.search(source) or source.startswith("plural("):
                continue
            found.append((node.lineno, f"{{{source}}}{after.value[:20]}"))
    return found


def test_no_count_in_the_sources_is_followed_by_a_fixed_plural():
    offenders = []
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        for line, snippet in _counted_before_a_noun(tree):
            offenders.append(f"{path.relative_to(REPO)}:{line}: {snippet}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                value = node.value.replace("http(s)", "")
                if "(s)" in value or re.search(r"%[0-9,]*d " + NOUNS, value):
                    offenders.append(f"{path.relative_to(REPO)}:{node.lineno}: {value[:40]!r}")
    assert offenders == []
