"""Building the catalog template and bringing the catalogs up to date (for developers and the
catalog tests; the bot itself only reads the `.po` files).

`python -m bot.i18n.extract` writes `bot/locale/moviebot.pot` and merges it into each
language's `.po` (new strings appear untranslated, gone ones are dropped, changed ones are
marked fuzzy), then lists what each language still lacks. The template holds:

* every string marked in the code (`_`, `ngettext`, `pgettext`, `N_`) under `bot/` and `cogs/`,
  found by Babel's Python extractor;
* every slash command's name (context `command`), option name (context `option`), description
  and fixed choice name, read from the cogs' command objects (what the tree syncs), so the
  command declarations need no marking.

A new language: `mkdir -p bot/locale/<lang>/LC_MESSAGES`, copy the template there as
`moviebot.po` (set its `Language:` and `Plural-Forms:` headers), run this, translate.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po
from discord import app_commands
from discord.ext import commands

from bot.i18n.catalogs import DOMAIN, LOCALE_DIR, SOURCE_LANGUAGE, languages, po_path

REPO = LOCALE_DIR.parents[1]
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2)}
SOURCES = ("bot", "cogs")
TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"
Entry = tuple[str | tuple[str, ...], str | None, str]  # msgid (or pair), context, where


def code_strings() -> Iterator[Entry]:
    """The marked strings of the code (Babel's extractor)."""
    method_map = [("**.py", "python")]
    for folder in SOURCES:
        for filename, lineno, message, _comments, context in extract_from_dir(
                str(REPO / folder), method_map, keywords=KEYWORDS):
            yield message, context, f"{folder}/{filename}:{lineno}"


def _text(value: object) -> str | None:
    if isinstance(value, app_commands.locale_str):
        return value.message
    return value if isinstance(value, str) and value and value != "…" else None


def _command_strings(command: app_commands.Command | app_commands.Group,
                     where: str) -> Iterator[Entry]:
    yield command.name, "command", where
    if description := _text(command.description):
        yield description, None, where
    if isinstance(command, app_commands.Group):
        for child in command.commands:
            if isinstance(child, app_commands.Command | app_commands.Group):
                yield from _command_strings(child, f"{where} {child.name}")
        return
    for param in command.parameters:
        yield param.display_name, "option", where
        if description := _text(param.description):
            yield description, None, where
        for choice in param.choices:
            yield choice.name, None, where


def command_strings() -> Iterator[Entry]:
    """Names, descriptions and choices of every slash command the bot's extensions declare."""
    from bot.client import EXTENSIONS

    for extension in EXTENSIONS:
        module = importlib.import_module(extension)
        for _name, cog in inspect.getmembers(module, inspect.isclass):
            if not issubclass(cog, commands.Cog) or cog.__module__ != module.__name__:
                continue
            for command in cog.__cog_app_commands__:
                if isinstance(command, app_commands.Command | app_commands.Group):
                    yield from _command_strings(command, f"{extension} /{command.name}")


def template() -> Catalog:
    """The catalog template: every string members may read, in English."""
    # The template's date stays as it was (no churn in the catalogs when nothing changed).
    created = None
    if TEMPLATE.exists():
        with TEMPLATE.open("rb") as existing:
            created = read_po(existing).creation_date
    catalog = Catalog(domain=DOMAIN, project="moviebot", locale=None, fuzzy=False,
                      creation_date=created)
    for message, context, where in (*code_strings(), *command_strings()):
        path, _, line = where.partition(":")
        catalog.add(message, context=context,
                    locations=[(path, int(line))] if line.isdigit() else [(path, 0)])
    return catalog


def update(languages_: tuple[str, ...] | None = None) -> dict[str, list[str]]:
    """Write the template, merge it into each catalog; what each language lacks."""
    pot = template()
    with TEMPLATE.open("wb") as out:
        write_po(out, pot, width=100, omit_header=False, include_lineno=False)
    missing: dict[str, list[str]] = {}
    for language in languages_ or languages():
        if language == SOURCE_LANGUAGE:
            continue
        path = po_path(language)
        with path.open("rb") as source:
            catalog = read_po(source, locale=language, domain=DOMAIN)
        catalog.update(pot, no_fuzzy_matching=True)
        with path.open("wb") as out:
            write_po(out, catalog, width=100, ignore_obsolete=True, include_lineno=False)
        missing[language] = untranslated(catalog)
    return missing


def untranslated(catalog: Catalog) -> list[str]:
    """The msgids of `catalog` without a (non-fuzzy) translation."""
    lacking = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            msgid = message.id[0] if isinstance(message.id, tuple) else message.id
            lacking.append(f"{message.context + ': ' if message.context else ''}{msgid}")
    return lacking


def main() -> int:
    missing = update()
    for language, lacking in missing.items():
        print(f"{language}: {len(lacking)} untranslated")
        for msgid in lacking:
            print(f"  {msgid}")
    print(f"template: {Path(TEMPLATE).relative_to(REPO)}")
    return 1 if any(missing.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
