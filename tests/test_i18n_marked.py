"""Every user-facing string in the cogs is marked for translation (issue 27 item 1).

An AST scan of cogs/: a string literal (or an f-string with words in it) passed straight to
what members read -- a reply (`send_message`, `send`, `edit_message`, `edit_original_response`,
`edit`: content), an embed (`Embed(title=, description=)`, `add_field(name=, value=)`,
`set_footer(text=)`, `set_author(name=)`), a button, select or form (`Button(label=)`,
`SelectOption(label=, description=)`, `TextInput(label=, placeholder=)`, `Modal(title=)`,
`placeholder=`) or an error shown as-is (`UserError(...)`) -- must go through `_()`,
`ngettext()` or `pgettext()` (`bot.i18n`). Text without letters (emoji, punctuation) passes.
So must any f-string with words in it (text composed in English, then sent), except in log
lines, exceptions for developers and command declarations (the tree's strings are extracted
from the command objects, `bot.i18n.extract`).

Files not converted yet are listed in NOT_YET_MARKED: the list may only shrink (a listed file
with nothing left to mark fails too, so it is taken off when done).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COGS = sorted((REPO / "cogs").rglob("*.py"))
# Not converted yet: a file may wait here (with a reason) and comes off once it is marked.
NOT_YET_MARKED: set[str] = set()
# Positional arguments read by members (by call name) and keywords read by members.
POSITIONAL = {"send_message": 0, "send": 0, "UserError": 0, "edit_message": 0}
KEYWORDS = {"content", "title", "description", "name", "value", "text", "label",
            "placeholder"}
SINKS = {"send_message", "send", "edit_message", "edit_original_response", "edit", "Embed",
         "add_field", "set_footer", "set_author", "Button", "SelectOption", "TextInput",
         "Modal", "UserError", "Select", "insert_field_at", "set_field_at",
         "button", "select",  # discord.ui's decorators (N_ there, _ at run time)
         "__init__"}  # a Select's or Button's super().__init__(placeholder=..., label=...)
# Keywords that are not text for members on these calls.
NOT_TEXT = {("add_field", "inline")}


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _words(node: ast.expr) -> bool:
    """A literal (or f-string) with letters in its fixed text: English to translate."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return any(ch.isalpha() for ch in node.value)
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.Constant) and any(ch.isalpha() for ch in str(v.value))
                   for v in node.values)
    if isinstance(node, ast.BinOp):
        return _words(node.left) or _words(node.right)
    if isinstance(node, ast.IfExp):
        return _words(node.body) or _words(node.orelse)
    return False


# An f-string with words in its fixed text ("Rated {x} 9/10."), outside the places below, is
# English composed for members: it must be a `_("...").format(...)` instead.
WORDS = re.compile(r"[A-Za-z]{2,}[,.:;!?'’]* +[A-Za-z]{2,}")
NOT_FOR_MEMBERS = {"debug", "info", "warning", "error", "exception", "critical",  # logs
                   "ValueError", "RuntimeError", "TypeError", "AssertionError", "LookupError",
                   "describe", "command", "Group", "rename"}  # command declarations: the tree


def _composed(tree: ast.AST) -> list[ast.JoinedStr]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) in NOT_FOR_MEMBERS:
            skipped.update(id(sub) for sub in ast.walk(node))
    return [node for node in ast.walk(tree)
            if isinstance(node, ast.JoinedStr) and id(node) not in skipped
            and WORDS.search("".join(str(v.value) for v in node.values
                                     if isinstance(v, ast.Constant)))]


def unmarked(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = [f"{path.relative_to(REPO)}:{node.lineno}: {ast.unparse(node)[:60]}"
             for node in _composed(tree)]
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        if name not in SINKS:
            continue
        texts = [kw.value for kw in node.keywords
                 if kw.arg in KEYWORDS and (name, kw.arg) not in NOT_TEXT]
        if name in POSITIONAL and len(node.args) > POSITIONAL[name]:
            texts.append(node.args[POSITIONAL[name]])
        for text in texts:
            if _words(text):
                found.append(f"{path.relative_to(REPO)}:{text.lineno}: "
                             f"{ast.unparse(text)[:60]}")
    return found


def test_user_facing_strings_in_the_cogs_are_marked_for_translation() -> None:
    offenders = [line for path in COGS
                 if str(path.relative_to(REPO)) not in NOT_YET_MARKED
                 for line in unmarked(path)]
    assert offenders == [], "wrap these in _() / ngettext() (bot.i18n):\n" + \
        "\n".join(offenders)


def test_the_not_yet_marked_list_only_shrinks() -> None:
    existing = {str(path.relative_to(REPO)) for path in COGS}
    done = sorted(name for name in NOT_YET_MARKED & existing
                  if not unmarked(REPO / name))
    assert done == [], f"fully marked now: take them off NOT_YET_MARKED: {done}"


def test_the_scan_finds_an_unmarked_reply(tmp_path: Path) -> None:
    sample = tmp_path / "cogs" / "sample.py"
    sample.parent.mkdir()
    sample.write_text(
        "async def f(i, _):\n"
        "    await i.response.send_message('Nothing here yet.')\n"
        "    await i.response.send_message(_('Marked.'))\n"
        "    e = Embed(title=f'{n} movies', description='🎬')\n"
        "    e.add_field(name=_('Score'), value=str(5), inline=True)\n"
        "    text = f'Rated {title} with a score of {score}.'\n"
        "    log.info(f'rated {title} here')\n")
    global REPO
    saved, REPO = REPO, tmp_path
    try:
        lines = unmarked(sample)
    finally:
        REPO = saved
    assert sorted(line.split(":")[1] for line in lines) == ["2", "4", "6"]
