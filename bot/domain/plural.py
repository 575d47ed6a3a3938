"""Counts in words for logs and the command line: "1 movie", "2 movies", "0 movies" (English).

What members read in Discord goes through `bot.i18n.ngettext` instead, with each language's
catalog and plural rule ("0 film" in French); this is the same gettext `ngettext`, on the
source language (English), whatever language an interaction speaks, so log lines written
while handling a German member stay English.
"""

from __future__ import annotations

import gettext

_ENGLISH = gettext.NullTranslations()  # the msgids: English, with English's plural rule


def plural(count: int, singular: str, many: str | None = None) -> str:
    """`count` and the noun that agrees with it: `many` (default: singular + "s") unless 1."""
    noun = _ENGLISH.ngettext(singular, many if many is not None else singular + "s", count)
    return f"{count:,} {noun}" if abs(count) >= 10_000 else f"{count} {noun}"
