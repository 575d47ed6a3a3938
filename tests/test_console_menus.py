"""The console reaches every select menu on a message (issue 21, item 9): the `/recommend` card
has two menus with the same movies ("Rate one of these…" and "Add to watchlist…"), and
`select OPTION` always took the first. `select MENU: OPTION` picks the menu by a word of its
placeholder or its number. The same session checks the movie-night text reads right when the
starter is the console's "you" (it said "or when you ends it")."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

SCRIPT = """\
/recommend count:3
select watchlist: #2
select 2: #3
select rate: #1
7
select nothing: x
/watchlist show
/movienight members:"@ana @ben" candidates:3
"""


def _blocks(output: str) -> dict[str, str]:
    blocks: dict[str, str] = {}
    command = ""
    for line in output.splitlines():
        if re.match(r"^\w+> ", line):
            command = line.split("> ", 1)[1]
            blocks[command] = ""
        elif command:
            blocks[command] += line + "\n"
    return blocks


def test_select_reaches_the_second_menu_and_movie_night_text_reads_right() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("MOVIEBOT_CONFIG", None)
    result = subprocess.run([sys.executable, "-m", "bot", "console"], input=SCRIPT,
                            capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    blocks = _blocks(result.stdout)
    card = blocks["/recommend count:3"]
    menus = re.findall(r"^\[▾ (.+?)…\] \{(.+)\}$", card, re.M)
    assert [name for name, _ in menus][:2] == ["Rate one of these", "Add to watchlist"], card
    titles = menus[1][1].split(" | ")

    assert f"Added **{titles[1]}** to your watchlist." in blocks["select watchlist: #2"]
    assert f"Added **{titles[2]}** to your watchlist." in blocks["select 2: #3"]
    rated = blocks["select rate: #1"]
    assert f"[form] Rate {titles[0]}" in rated and f"Rated **{titles[0]}** 7/10." in rated
    error = blocks["select nothing: x"]
    assert "menus: 1: rate one of these, 2: add to watchlist" in error, error
    shown = blocks["/watchlist show"]
    assert titles[1] in shown and titles[2] in shown and titles[0] not in shown

    night = blocks['/movienight members:"@ana @ben" candidates:3']
    assert "or sooner if ended by you." in night, night
    assert not re.search(r"\byou (ends|presses|is)\b", result.stdout)
