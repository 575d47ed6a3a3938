"""The message catalogs: one gettext `.po` file per language under `bot/locale/<lang>/
LC_MESSAGES/moviebot.po`, read with Babel and compiled in memory when first used.

No compile step at build or install time: the `.po` sources are the catalogs (Babel's
`read_po`, then `write_mo` into memory and the standard library's `GNUTranslations`, which
knows each language's plural rule from the file's `Plural-Forms` header). A language is
available as soon as its folder exists; English is the source language (the msgids), so it has
no catalog, and a string a catalog lacks falls back to its English msgid.
"""

from __future__ import annotations

import functools
import gettext
import io
import logging
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

log = logging.getLogger(__name__)

LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
DOMAIN = "moviebot"
SOURCE_LANGUAGE = "en"


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def languages() -> tuple[str, ...]:
    """The languages members can read: English and each language with a catalog, sorted."""
    found = sorted(p.parents[1].name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return (SOURCE_LANGUAGE, *found)


def language_names() -> tuple[tuple[str, str], ...]:
    """(language, its name in itself) for each language: "Deutsch", "Español"."""
    return tuple((language, (Locale.parse(language).get_display_name(language)
                             or language).capitalize())
                 for language in languages())


def compile_po(path: Path) -> gettext.GNUTranslations:
    """A `.po` file as ready-to-use translations (fuzzy entries left out, as msgfmt does)."""
    with path.open("rb") as source:
        catalog = read_po(source, locale=path.parents[1].name, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalog of `language` (English, or a language without a catalog: the msgids)."""
    path = po_path(language)
    if language == SOURCE_LANGUAGE or not path.exists():
        return gettext.NullTranslations()
    return compile_po(path)


def load_all() -> None:
    """Read every catalog now (at start-up, in a thread) rather than on a first interaction."""
    for language in languages():
        translations(language)
