"""Every user-facing string is marked for translation (issue 27 item 1).

An AST scan of every module whose text can reach a member: cogs/ and bot/ (the services, the
pictures' labels and alt texts, the media clients' errors, the domain's refusals, the import
readers...), except the modules only the person running the bot reads (`ADMIN_FACING`, each
with its reason: the command line, logs, start-up errors, the config's documentation), the
translation machinery itself (bot/i18n) and the SQL layer (bot/storage).

What must go through `_()`, `ngettext()` or `pgettext()` (`bot.i18n`): a string literal (or an
f-string with words in it) passed straight to what members read -- a reply (`send_message`,
`send`, `edit_message`, `edit_original_response`, `edit`: content), an embed (`Embed(title=,
description=)`, `add_field(name=, value=)`, `set_footer(text=)`, `set_author(name=)`), a
button, select or form (`Button(label=)`, `SelectOption(label=, description=)`,
`TextInput(label=, placeholder=)`, `Modal(title=)`, `placeholder=`), or the message of an
error whose text is shown as-is (`MEMBER_ERRORS`: `UserError`, `DomainError`, `MediaProblem`,
`MediaUnavailable`, ... and the `super().__init__(message)` of their subclasses). Text without
letters (emoji, punctuation) passes. So must any f-string with words in it (English composed,
then shown), except in log lines, exceptions for developers and command declarations (the
tree's strings are extracted from the command objects, `bot.i18n.extract`), and any sentence
kept in a variable named for text (`text = "..."`, `TEXT_NAMES`) before it is sent.

A string in a scanned module that no member reads (a developer's exception message the cogs
reword, an HTTP header) is listed in `NO_MEMBER_READS` with its reason; an entry that no longer
matches anything fails, so the lists stay exact. Files not converted yet would wait in
NOT_YET_MARKED (empty: it may only shrink).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCANNED = ("cogs", "bot")
NOT_SCANNED = {
    "bot/i18n": "the translation machinery (its English is the fallback of every catalog)",
    "bot/storage": "SQL and the storage layer's errors (logs and the admin's command line)",
    "bot/locale": "the catalogs",
}
# Modules only the person running the bot reads: English by design (logs, the command line,
# start-up errors, the config and its documentation, the worker's job checks).
ADMIN_FACING = {
    "bot/__init__.py": "the package's lazy names: an AttributeError for a programmer",
    "bot/__main__.py": "the command line (python -m bot ...)",
    "bot/about.py": "the start-up log line and --version",
    "bot/backups.py": "python -m bot backup",
    "bot/catalog": "python -m bot catalog ... (admin catalog import: per-row errors printed "
                   "on the admin's terminal; members import with /import, bot/service)",
    "bot/cluster.py": "sharding config checks at start-up",
    "bot/config.py": "config file errors at start-up",
    "bot/config_docs.py": "the README's generated config table",
    "bot/config_sections.py": "the config's declaration (documented in the README)",
    "bot/db_copy.py": "python -m bot db copy",
    "bot/dbcheck.py": "start-up database checks",
    "bot/errors.py": "one-line start-up failures printed by python -m bot",
    "bot/health.py": "python -m bot health (the container's health check)",
    "bot/invite.py": "python -m bot invite",
    "bot/lifecycle.py": "connection retries and shutdown (log lines)",
    "bot/metrics.py": "the Prometheus endpoint",
    "bot/prior": "python -m bot prior ... (the taste prior's CLI and its log lines)",
    "bot/privacy.py": "the purge's log lines and python -m bot purge",
    "bot/redaction.py": "log redaction",
    "bot/stats.py": "python -m bot stats",
    "bot/tmdb.py": "TMDB errors (logged; members see the details or nothing)",
    "bot/worker_cli.py": "python -m bot worker",
    "bot/service/queue.py": "the fit worker's job checks (log lines)",
}
# Strings in scanned modules that no member reads: (file, start of the text) -> why.
NO_MEMBER_READS = {
    ("bot/service/errors.py", "f'cap of"): "MovieCapReached: the cog words it with the cap",
    ("bot/service/errors.py", "f'{permission} needed"): "PermissionRequired: worded by the "
                                                        "cog with the permission's name",
    ("bot/service/watchlist.py", "f'watchlist cap"): "WatchlistFull: worded by the cog",
    ("bot/service/privacy.py", "f\"{plural(len(members)"): "ConsentRequired: the cog asks "
                                                          "the members by name",
    ("bot/domain/genres.py", "f\"Unknown genre"): "UnknownGenresError: the cog words it with "
                                                 "the valid genres",
    ("bot/media/jellyfin.py", "f'MediaBrowser Token"): "an HTTP header",
    ("bot/domain/guild_settings.py", "f'Ratings a member needs"): "a setting's description "
                                                                 "for the console and README",
    ("bot/domain/guild_settings.py", "f'Taste dimensions"): "a setting's description for the "
                                                           "console and README",
    ("bot/domain/guild_settings.py", "f\"How strongly"): "a setting's description for the "
                                                        "console and README",
    ("bot/client.py", "f\"{server_name(guild.name)}"): "a join/leave log line",
    ("bot/media/secrets.py", "\"[security] secret_key"): "TokenBox.note: a start-up log line",
    ("bot/service/details.py", "f'no answer within"): "TmdbUnavailable: only logged (the "
                                                     "media sync's TMDB look-ups)",
}
SOURCES = sorted(path for folder in SCANNED for path in (REPO / folder).rglob("*.py")
                 if not any(str(path.relative_to(REPO)).startswith(skip)
                            for skip in (*NOT_SCANNED, *ADMIN_FACING)))
COGS = SOURCES  # (the name the scan had when it covered cogs/ only)
# Not converted yet: a file may wait here (with a reason) and comes off once it is marked.
NOT_YET_MARKED: set[str] = set()
# Errors whose message is shown to the member as it is (`str(error)`).
MEMBER_ERRORS = {"UserError", "DomainError", "ImportFileError", "MediaProblem", "NotConfigured",
                 "NoSeerrUser", "NoLibrary", "SourceUnavailable", "MediaError",
                 "MediaUnavailable", "AccountNotFound", "DeviceFlowEnded", "NothingToDraw"}
# Positional arguments read by members (by call name) and keywords read by members.
POSITIONAL = {"send_message": 0, "send": 0, "edit_message": 0,
              **dict.fromkeys(MEMBER_ERRORS, 0)}
KEYWORDS = {"content", "title", "description", "name", "value", "text", "label",
            "placeholder"}
SINKS = {"send_message", "send", "edit_message", "edit_original_response", "edit", "Embed",
         "add_field", "set_footer", "set_author", "Button", "SelectOption", "TextInput",
         "Modal", "Select", "insert_field_at", "set_field_at", *MEMBER_ERRORS,
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


def _error_messages(tree: ast.AST) -> list[ast.expr]:
    """The message a member error's subclass hands `super().__init__` (shown as it is)."""
    found = []
    for cls in ast.walk(tree):
        if not isinstance(cls, ast.ClassDef) or not {_name(b) for b in cls.bases} & MEMBER_ERRORS:
            continue
        for node in ast.walk(cls):
            if isinstance(node, ast.Call) and _name(node.func) == "__init__" and node.args \
                    and isinstance(node.func, ast.Attribute) \
                    and isinstance(node.func.value, ast.Call) \
                    and _name(node.func.value.func) == "super":
                found.append(node.args[0])
    return found


# Variables that hold text for members: a literal with words assigned to one is English
# composed for a reply (`text = "No picks yet."`, then sent), unless marked.
TEXT_NAMES = {"text", "message", "content", "note", "reason", "title", "label", "detail",
              "hint", "heading", "line", "description", "problem", "answer"}
_SENTENCE = re.compile(r"[A-Za-z]{2,}[,.:;!?'’]* +[A-Za-z]{2,} +[A-Za-z]{2,}")


def _assigned_text(tree: ast.AST) -> list[ast.expr]:
    """Literals with a few words assigned to a variable named for text (`TEXT_NAMES`)."""
    found: list[ast.expr] = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign | ast.AugAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        names = {t.id if isinstance(t, ast.Name) else t.attr if isinstance(t, ast.Attribute)
                 else "" for t in targets}
        if names & TEXT_NAMES:
            found += [sub for sub in ast.walk(value)
                      if isinstance(sub, ast.Constant) and isinstance(sub.value, str)
                      and _SENTENCE.search(sub.value) and not _inside_call(value, sub)]
    return found


def _inside_call(root: ast.expr, leaf: ast.Constant) -> bool:
    """Whether `leaf` is an argument of a call under `root` (`_("..."`), a log line...):
    those calls are judged by the rules above."""
    return any(isinstance(call, ast.Call) and any(leaf is sub for sub in ast.walk(call))
               for call in ast.walk(root))


def _allowed(line: str) -> bool:
    where, _, text = line.partition(": ")
    return any(where.split(":")[0] == path and text.startswith(start)
               for path, start in NO_MEMBER_READS)


def unmarked(path: Path, *, allowing: bool = True) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = [f"{path.relative_to(REPO)}:{node.lineno}: {ast.unparse(node)[:60]}"
             for node in _composed(tree)]
    found += [f"{path.relative_to(REPO)}:{node.lineno}: {ast.unparse(node)[:60]}"
              for node in _error_messages(tree) if _words(node)]
    found += [f"{path.relative_to(REPO)}:{node.lineno}: {ast.unparse(node)[:60]}"
              for node in _assigned_text(tree)]
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
    return [line for line in found if not (allowing and _allowed(line))]


def test_user_facing_strings_are_marked_for_translation() -> None:
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


def test_the_allow_lists_name_only_what_exists() -> None:
    """Each admin-facing module exists, and each string no member reads is still there
    (unmarked, as listed): a stale entry would hide nothing but mislead."""
    assert [name for name in ADMIN_FACING if not (REPO / name).exists()] == []
    lines = [line for path, _start in NO_MEMBER_READS
             for line in unmarked(REPO / path, allowing=False)]
    stale = [(path, start) for path, start in NO_MEMBER_READS
             if not any(line.split(":")[0] == path and line.partition(": ")[2].startswith(start)
                        for line in lines)]
    assert stale == []


def test_the_scan_covers_the_services_pictures_and_media_clients() -> None:
    scanned = {str(path.relative_to(REPO)) for path in SOURCES}
    assert {"bot/service/pictures.py", "bot/service/import_formats.py", "bot/media/http.py",
            "bot/render/charts.py", "bot/domain/night_time.py", "cogs/help.py"} <= scanned
    assert not scanned & {"bot/__main__.py", "bot/catalog/formats.py", "bot/i18n/extract.py"}


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


def test_the_scan_finds_unmarked_member_errors(tmp_path: Path) -> None:
    """An error shown as it is (a media client's, a service's refusal, a subclass's own
    message) is text for members, and so is a sentence kept in a variable named for text
    before it is sent; a developer's ValueError is not."""
    sample = tmp_path / "bot" / "sample.py"
    sample.parent.mkdir()
    sample.write_text(
        "class Gone(MediaProblem):\n"
        "    def __init__(self):\n"
        "        super().__init__('That account is gone.')\n"
        "class Fine(MediaProblem):\n"
        "    def __init__(self):\n"
        "        super().__init__(_('That account is gone.'))\n"
        "def f(name):\n"
        "    raise MediaUnavailable('Plex is down')\n"
        "def g():\n"
        "    raise ValueError('a developer reads this one')\n"
        "def h():\n"
        "    raise DomainError(_('Marked.'))\n"
        "def k(picks):\n"
        "    text = ('I found no movie you have not rated.' if picks else _('Marked too.'))\n"
        "    label = 'ok'\n"
        "    log.info('a log line with words in it')\n")
    global REPO
    saved, REPO = REPO, tmp_path
    try:
        lines = unmarked(sample)
    finally:
        REPO = saved
    assert sorted(line.split(":")[1] for line in lines) == ["14", "3", "8"]
