"""`python -m bot console`: one scripted session of the real bot in a subprocess, plus the
console's line parser in-process.

The subprocess test feeds a script on stdin (no `quit`: the end of input must end the session
with exit code 0) and checks what a person would read: confirmations, recommendation lists, a
page turned by a button, a rating saved through the select-and-form flow, autocomplete
suggestions, and readable errors for a bad score, an unknown command and an unknown member.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import pytest
import timeouts
from processes import kill_group, spawn

from console import Console, ConsoleError
from emulator import World

REPO = Path(__file__).resolve().parents[1]

SCRIPT = """\
/rate movie:"Toy Story 3" score:9
/rate movie:matr?
/recommend count:5
press Show more
select #1
8
select #1
eleven
/rate movie:"Toy Story 3" score:11
/rate movie:"Toy Story 3" score:abc
/frobnicate
as zed /ratings
as ben /rate movie:"The Matrix" score:3
as ben /ratings
as ana /recommend count:3
/ratings
"""


def _blocks(output: str) -> list[tuple[str, str]]:
    """The session as (command line, what was printed after it) pairs, in order."""
    blocks: list[tuple[str, str]] = []
    for line in output.splitlines():
        if re.match(r"^\w+> ", line):
            blocks.append((line.split("> ", 1)[1], ""))
        elif blocks:
            command, text = blocks[-1]
            blocks[-1] = (command, text + line + "\n")
    return blocks


@pytest.fixture(scope="module")
def session() -> tuple[subprocess.CompletedProcess, list[tuple[str, str]]]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("MOVIEBOT_CONFIG", None)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "console"], input=SCRIPT, capture_output=True,
        text=True, cwd=REPO, env=env, timeout=timeouts.scaled(90))
    return result, _blocks(result.stdout)


def _after(blocks: list[tuple[str, str]], command: str, nth: int = 0) -> str:
    found = [text for line, text in blocks if line == command]
    assert len(found) > nth, f"{command!r} was not echoed; session: {blocks}"
    return found[nth]


@pytest.mark.slow
def test_session_ends_cleanly_at_end_of_input(session) -> None:
    result, blocks = session
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert [line for line, _ in blocks][-1] == "/ratings"


@pytest.mark.slow
def test_rate_confirms_the_score_once_marked_private(session) -> None:
    _, blocks = session
    text = _after(blocks, '/rate movie:"Toy Story 3" score:9')
    assert "Rated **Toy Story 3 (2010)** 9/10." in text
    # Ephemeral replies carry the marker exactly once (it used to be printed twice).
    assert text.count("(only you can see this)") == 1


@pytest.mark.slow
def test_autocomplete_lists_suggestions(session) -> None:
    _, blocks = session
    assert "The Matrix (1999)" in _after(blocks, "/rate movie:matr?")


@pytest.mark.slow
def test_recommend_lists_picks_and_show_more_turns_the_page(session) -> None:
    _, blocks = session
    first = _after(blocks, "/recommend count:5")
    assert re.search(r"^\| 1\. \*\*.+\(\d{4}\)\*\*", first, re.M), first
    assert "[Show more]" in first
    page2 = _after(blocks, "press Show more")
    assert "(updated the message in place)" in page2
    assert re.search(r"^\| 6\. \*\*", page2, re.M) and "— Page 2" in page2, page2
    assert not re.search(r"^\| 1\. \*\*", page2, re.M)


@pytest.mark.slow
def test_select_and_form_save_a_rating_that_ratings_then_shows(session) -> None:
    _, blocks = session
    saved = _after(blocks, "select #1", 0)
    title = re.search(r"\[form\] Rate (.+)", saved).group(1)
    assert "Your score (1-10): 8" in saved  # the next line of the script answered the form
    assert f"Rated **{title}** 8/10." in saved
    assert f"{title} — 8/10" in _after(blocks, "/ratings")


@pytest.mark.slow
def test_bad_input_gets_a_readable_error(session) -> None:
    _, blocks = session
    bad_form = _after(blocks, "select #1", 1)
    assert "“eleven” is not a score" in bad_form and "Nothing was saved" in bad_form
    assert _after(blocks, '/rate movie:"Toy Story 3" score:11').startswith(
        "! score must be from 1 to 10, not 11")
    assert _after(blocks, '/rate movie:"Toy Story 3" score:abc').startswith(
        "! score must be a whole number, not 'abc'")
    assert _after(blocks, "/frobnicate").startswith("! there is no command /frobnicate")
    assert _after(blocks, "as zed /ratings").startswith("! no member called 'zed'")
    # The refused score was not sent: Toy Story 3 keeps its 9.
    assert "Toy Story 3 (2010) — 9/10" in _after(blocks, "/ratings")


@pytest.mark.slow
def test_as_member_acts_as_that_member(session) -> None:
    _, blocks = session
    assert "Rated **The Matrix (1999)** 3/10." in _after(
        blocks, 'as ben /rate movie:"The Matrix" score:3')
    assert "The Matrix (1999) — 3/10" in _after(blocks, "as ben /ratings")
    assert "The Matrix (1999)" not in _after(blocks, "/ratings")
    assert "**Your picks**" in _after(blocks, "as ana /recommend count:3")


@pytest.mark.slow
def test_database_option_keeps_the_database_and_reuses_it(tmp_path) -> None:
    """`--database PATH` writes the demo database there, and a second session over the same
    file starts and answers like the first."""
    database = tmp_path / "demo.db"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("MOVIEBOT_CONFIG", None)
    command = [sys.executable, "-m", "bot", "console", "--database", str(database)]
    for _ in range(2):
        run = subprocess.run(command, input='/rate movie:"Toy Story 3" score:4\n',
                             capture_output=True, text=True, cwd=REPO, env=env,
                             timeout=timeouts.scaled(90))
        assert run.returncode == 0, run.stderr[-3000:]
        assert "Rated **Toy Story 3 (2010)** 4/10" in _after(
            _blocks(run.stdout), '/rate movie:"Toy Story 3" score:4')
        assert database.stat().st_size > 0


# ---------------------------------------------------------------- the line parser, in-process
class _Commands:
    """Stands in for the emulator: the registered shape of /rate and /recommend."""

    COMMANDS: ClassVar[dict[str, list[dict]]] = {
        "rate": [{"name": "movie", "type": 3, "required": True},
                 {"name": "score", "type": 4, "required": True, "min_value": 1,
                  "max_value": 10}],
        "recommend": [{"name": "count", "type": 4}, {"name": "group", "type": 3},
                      {"name": "voice", "type": 7},
                      {"name": "rule", "type": 3, "choices": [
                          {"name": "average", "value": "average"},
                          {"name": "least misery", "value": "least_misery"}]}],
        "import": [{"name": "file", "type": 11, "required": True}],
    }

    def find_command(self, name: str, guild=None) -> dict:
        if name not in self.COMMANDS:
            raise LookupError(name)
        return {"name": name, "options": self.COMMANDS[name]}

    def registered_commands(self, guild=None) -> list[dict]:
        return [self.find_command(name) for name in self.COMMANDS]


@pytest.fixture
def console() -> Console:
    world = World()
    guild = world.create_guild("Demo Club", owner="you", voice_channels=("Cinema",))
    for name in ("ana", "ben"):
        guild.add_member(name)
    return Console(_Commands(), guild, guild.channel("general"), guild.owner)


def test_parse_quoted_values_and_numbers(console) -> None:
    assert console.parse('rate movie:"The Matrix" score:8') == (
        "rate", {"movie": "The Matrix", "score": 8}, None)
    # Unquoted words continue the option before them, as when typing in Discord.
    assert console.parse("rate movie:The Matrix score:8")[1] == {"movie": "The Matrix",
                                                                "score": 8}


def test_parse_mentions_channels_choices_and_focus(console) -> None:
    members = {m.user.username: m for m in console.guild.members.values()}
    command, options, _ = console.parse('recommend group:"@ana @ben @nobody" rule:"least misery"')
    assert command == "recommend"
    assert options["group"] == f"<@{members['ana'].id}> <@{members['ben'].id}> @nobody"
    assert options["rule"] == "least_misery"
    assert console.parse("recommend voice:Cinema")[1]["voice"] is console.guild.channel("Cinema")
    assert console.parse("rate movie:matr?") == ("rate", {"movie": "matr"}, "movie")


def test_an_attachment_option_uploads_a_local_file(console, tmp_path) -> None:
    export = tmp_path / "ratings.csv"
    export.write_bytes(b"Date,Name,Year,Letterboxd URI,Rating\n")
    assert console.parse(f"import file:{export}")[1] == {
        "file": ("ratings.csv", b"Date,Name,Year,Letterboxd URI,Rating\n")}
    with pytest.raises(ConsoleError, match="file: cannot read"):
        console.parse(f"import file:{tmp_path / 'missing.csv'}")


@pytest.mark.parametrize(("line", "message"), [
    ("rate movie:Heat score:0", "score must be from 1 to 10, not 0"),
    ("rate movie:Heat score:x", "score must be a whole number"),
    ("rate film:Heat", "/rate has no option 'film'"),
    ("frobnicate", "there is no command /frobnicate"),
    ('rate movie:"Heat', "cannot read that line"),
    ("recommend rule:worst", 'rule must be one of "average", "least misery"'),
])
def test_parse_errors_are_readable(console, line, message) -> None:
    with pytest.raises(ConsoleError, match=re.escape(message)):
        console.parse(line)


def _read_until(fd: int, needle: str, timeout: float) -> str:
    """Read from a pty until `needle` shows up (or fail after `timeout` seconds)."""
    import select
    import time

    seen = ""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"timed out waiting for {needle!r}; got: {seen[-2000:]!r}"
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the other side closed
                break
            seen += chunk.decode("utf-8", "replace")
    return seen


@pytest.mark.slow
def test_interactive_session_at_a_terminal(tmp_path) -> None:
    """At a terminal the console prompts, answers a typed command, and quits on 'quit'."""
    import pty

    main, child = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(REPO), "HOME": str(tmp_path), "TERM": "dumb"}
    env.pop("MOVIEBOT_CONFIG", None)
    process = spawn([sys.executable, "-m", "bot", "console"], stdin=child, stdout=child,
                    stderr=child, cwd=REPO, env=env, close_fds=True)
    os.close(child)
    try:
        _read_until(main, "you> ", timeouts.scaled(60))
        os.write(main, b'/rate movie:"Toy Story 3" score:7\n')
        answer = _read_until(main, "you> ", timeouts.scaled(30))
        assert "Rated **Toy Story 3 (2010)** 7/10" in answer
        os.write(main, b"quit\n")
        assert process.wait(timeout=timeouts.scaled(30)) == 0
    finally:
        kill_group(process)  # the console and its drawing/training processes, on every path
        os.close(main)
