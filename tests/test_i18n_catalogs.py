"""The translations (issue 27 item 1): every catalog compiles and covers every string members
may read (what the code marks and every command, option and choice the tree syncs); names obey
Discord's rules; placeholders survive translation; a string a catalog lacks falls back to its
English text, never to a key; plurals, numbers and dates follow the language."""

from __future__ import annotations

import datetime as dt
import re
import string

import pytest
from babel.messages.pofile import read_po
from discord import Locale, app_commands
from discord.app_commands import TranslationContext
from discord.app_commands import TranslationContextLocation as Where

from bot import i18n
from bot.i18n import _, language_for, ngettext, number, speaking
from bot.i18n.catalogs import compile_po, languages, po_path
from bot.i18n.extract import command_strings, template
from bot.i18n.translator import CatalogTranslator, translate, valid_name

TRANSLATED = [language for language in languages() if language != "en"]


def _fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def test_german_french_and_spanish_are_spoken() -> None:
    assert {"de", "fr", "es"} <= set(TRANSLATED)


@pytest.mark.parametrize("language", TRANSLATED)
def test_each_catalog_compiles_with_its_plural_rule(language: str) -> None:
    catalog = compile_po(po_path(language))
    assert catalog.info().get("plural-forms", "").startswith("nplurals=")
    assert catalog.info().get("language") == language


@pytest.mark.parametrize("language", TRANSLATED)
def test_each_catalog_covers_every_string_with_the_same_placeholders(language: str) -> None:
    catalog = compile_po(po_path(language))
    with po_path(language).open("rb") as file:
        source = read_po(file, locale=language)
    missing, broken = [], []
    for message in template():
        if not message.id:
            continue
        if isinstance(message.id, tuple):  # a plural: every form of it
            singular, plural = message.id
            forms = [catalog.npgettext(message.context, singular, plural, n)
                     if message.context else catalog.ngettext(singular, plural, n)
                     for n in (1, 2, 5)]
            if forms[0] == singular and forms[1] == plural and language != "en":
                missing.append(singular)
            for form in forms:
                if _fields(form) - _fields(plural) - _fields(singular):
                    broken.append((singular, form))
            continue
        text = (catalog.pgettext(message.context, message.id) if message.context
                else catalog.gettext(message.id))
        entry = source.get(message.id, context=message.context)
        if entry is None or entry.fuzzy or not entry.string:
            missing.append(f"{message.context or ''}|{message.id}")
        elif _fields(text) != _fields(message.id):
            broken.append((message.id, text))
    assert missing == [], f"{language} lacks {len(missing)} strings: run python -m bot.i18n.extract"
    assert broken == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_translated_names_obey_discords_rules_and_stay_apart(language: str) -> None:
    """Discord refuses a whole sync over one bad name: lowercase letters, digits, - and _,
    1-32 characters; descriptions and choices 1-100; two options of one command never share
    a name in any language."""
    per_command: dict[str, list[str]] = {}
    for message, context, where in command_strings():
        assert isinstance(message, str)
        location = {"command": Where.command_name, "option": Where.parameter_name}.get(
            context or "", Where.command_description)
        text = translate(message, language, location) or message
        if context:
            assert valid_name(text), (language, message, text)
        else:
            assert 1 <= len(text) <= 100, (language, message, len(text))
        if context == "option":
            per_command.setdefault(where, []).append(text)
    for where, names in per_command.items():
        assert len(names) == len(set(names)), (language, where, names)
    assert not any(re.search(r"\s", name) for names in per_command.values() for name in names)


def test_a_missing_string_falls_back_to_english_never_to_a_key() -> None:
    with speaking("de"):
        assert _("A sentence no catalog has.") == "A sentence no catalog has."
        assert ngettext("{n} thing nobody has", "{n} things nobody has", 3) == \
            "{n} things nobody has"
        assert _("Commands") == "Befehle"
    assert _("Commands") == "Commands"  # outside an interaction: English


def test_locales_map_to_catalogs() -> None:
    assert language_for("de") == "de"
    assert language_for("es-ES") == language_for("es-419") == "es"
    assert language_for("en-US") == language_for("en-GB") == "en"
    assert language_for("ja") is None and language_for(None) is None


def test_plurals_follow_each_languages_rule() -> None:
    with speaking("en"):
        assert ngettext("{n} movie", "{n} movies", 0) == "{n} movies"
    # French counts 0 and 1 as singular, German and Spanish only 1.
    fr = compile_po(po_path("fr"))
    de = compile_po(po_path("de"))
    assert fr.plural(0) == 0 and fr.plural(2) == 1
    assert de.plural(0) == 1 and de.plural(1) == 0


def test_numbers_and_dates_in_the_languages_format() -> None:
    day = dt.date(2026, 12, 7)
    with speaking("de"):
        assert number(12345.5) == "12.345,5"
        assert date(day) == "07.12.2026"
    with speaking("fr"):
        assert number(12345.5).replace("\u202f", " ") == "12 345,5"
    with speaking("en"):
        assert number(12345.5) == "12,345.5"
        assert number(3, digits=1) == "3.0"
        assert date(day) == "Dec 7, 2026"


async def test_the_translator_gives_discord_the_localised_names() -> None:
    translator = CatalogTranslator()
    name = TranslationContext(Where.command_name, None)
    option = TranslationContext(Where.parameter_name, None)
    assert await translator.translate(app_commands.locale_str("rate"), Locale.german,
                                      name) == "bewerten"
    assert await translator.translate(app_commands.locale_str("help"), Locale.french,
                                      name) == "aide"
    assert await translator.translate(app_commands.locale_str("movie"),
                                      Locale.latin_american_spanish, option) == "película"
    # English and languages without a catalog: no localisation (Discord shows the name).
    assert await translator.translate(app_commands.locale_str("rate"), Locale.american_english,
                                      name) is None
    assert await translator.translate(app_commands.locale_str("rate"), Locale.japanese,
                                      name) is None


def date(value: dt.date) -> str:
    return i18n.date(value)


def test_counts_read_right_in_each_language() -> None:
    """"1 movie", "2 movies" in every language, each with its own rule."""
    def count(n: int) -> str:
        return ngettext("{score} from {n} rating", "{score} from {n} ratings", n).format(
            score="8/10", n=number(n))

    with speaking("en"):
        assert [count(n) for n in (0, 1, 2)] == ["8/10 from 0 ratings", "8/10 from 1 rating",
                                                 "8/10 from 2 ratings"]
    with speaking("de"):
        assert [count(n) for n in (1, 2, 1500)] == ["8/10 aus 1 Bewertung",
                                                    "8/10 aus 2 Bewertungen",
                                                    "8/10 aus 1.500 Bewertungen"]
    with speaking("fr"):  # French: 0 and 1 take the singular
        assert [count(n) for n in (0, 1, 2)] == ["8/10 sur 0 note", "8/10 sur 1 note",
                                                 "8/10 sur 2 notes"]
    with speaking("es"):
        assert [count(n) for n in (1, 2)] == ["8/10 de 1 valoración", "8/10 de 2 valoraciones"]
