"""What members read, in their language: gettext catalogs chosen per interaction.

`_("text")`, `ngettext("{n} movie", "{n} movies", n)` and `pgettext(context, text)` translate
into the *current language*: a context variable the bot sets for each interaction before any
of its code runs (`MovieBot` sets it from the interaction's `locale`, the member's Discord
client language, falling back to the server's `/settings language:` and then English), so a
cog, a view, a modal or a service called from them needs no language argument. Outside an
interaction (logs, the command line) the language is English.

`N_("text")` only marks a constant for the catalog (translated where it is shown, with `_`).
Numbers and dates use the language's format (`number`, `date`, Babel's CLDR data).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections.abc import Iterator
from contextvars import ContextVar

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

from bot.i18n.catalogs import SOURCE_LANGUAGE, languages, translations

__all__ = ["N_", "_", "current", "date", "language_for", "ngettext", "number", "percent",
           "pgettext", "speaking"]

_language: ContextVar[str] = ContextVar("moviebot_language", default=SOURCE_LANGUAGE)


def language_for(locale: str | None) -> str | None:
    """The catalog language for a Discord locale ("de", "es-ES", "es-419", "en-GB"), or None
    when the bot does not speak it."""
    if not locale:
        return None
    available = languages()
    if locale in available:
        return locale
    base = locale.split("-", 1)[0].lower()
    return base if base in available else None


def current() -> str:
    """The language of the interaction being handled ("en" outside one)."""
    return _language.get()


def set_language(language: str) -> None:
    """Speak `language` for the rest of this task (and the tasks it starts)."""
    _language.set(language if language in languages() else SOURCE_LANGUAGE)


@contextlib.contextmanager
def speaking(language: str | None) -> Iterator[None]:
    """Speak `language` inside the block (e.g. a message a background task posts to a server
    in the server's language)."""
    token = _language.set(language if language in languages() else SOURCE_LANGUAGE)
    try:
        yield
    finally:
        _language.reset(token)


def _(message: str) -> str:
    """`message` in the current language (the English msgid when the catalog lacks it)."""
    return translations(_language.get()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form of `singular`/`plural` that agrees with `count` in the current language (its own
    plural rule: French says "0 film", English "0 movies"). Format the count in yourself:
    `ngettext("{n} movie", "{n} movies", n).format(n=number(n))`."""
    return translations(_language.get()).ngettext(singular, plural, count)


def pgettext(context: str, message: str) -> str:
    """`message` in the current language, told apart by `context` (e.g. a command name)."""
    return translations(_language.get()).pgettext(context, message)


def N_(message: str) -> str:
    """Marks `message` for the catalog without translating it (a constant shown later)."""
    return message


def number(value: float, *, digits: int | None = None) -> str:
    """`value` in the current language's format ("1,234.5" in English, "1.234,5" in German);
    `digits` fixes the decimals shown."""
    return _format_number(value, digits, _babel_locale())


@functools.lru_cache(maxsize=8192, typed=True)  # typed: 8 and 8.0 are cached apart
def _format_number(value: float, digits: int | None, locale: str) -> str:
    """Babel's formatting, memoised: it costs ~0.2 ms a call (pattern parsing, Decimal), and
    the numbers shown are few (scores to one decimal: /recommend formats ~20 per page; 1.0 s
    of the loop's CPU in a 30 s many_guilds window, issue 24)."""
    pattern = None if digits is None else ("#,##0." + "0" * digits if digits else "#,##0")
    return format_decimal(value, format=pattern, locale=locale)


def percent(share: float) -> str:
    """A share (0.87) as the current language writes it: "87%", "87 %"."""
    return format_percent(share, locale=_babel_locale())


def date(value: dt.date | dt.datetime, form: str = "medium") -> str:
    """`value` as the current language writes dates ("Dec 7, 2026", "07.12.2026")."""
    return format_date(value, format=form, locale=_babel_locale())


def _babel_locale() -> str:
    language = _language.get()
    return "en_US" if language == SOURCE_LANGUAGE else language
