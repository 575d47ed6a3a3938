"""Text from outside (TMDB, catalog and dataset files) made safe to store, on either backend.

PostgreSQL refuses a NUL character in text and UTF-8 refuses lone surrogates, where SQLite
keeps both: one such character in a cached overview made a whole `db copy` fail. So text is
cleaned where it enters storage: NUL and the other control characters and lone surrogates are
removed, tabs (and newlines, unless kept) become spaces. Printable text passes unchanged.
"""

from __future__ import annotations

import unicodedata


def clean_text(text: str, *, newlines: bool = False) -> str:
    """`text` without control characters or lone surrogates (see the module docstring)."""
    if text.isprintable():
        return text
    out = []
    for char in text:
        if char == "\n" and newlines:
            out.append(char)
        elif char in "\t\r\n":
            out.append(" ")
        elif unicodedata.category(char) not in ("Cc", "Cs"):
            out.append(char)
    return "".join(out)


def clean_optional(text: str | None, *, newlines: bool = False) -> str | None:
    """`clean_text` of a value that may be missing; None stays None."""
    return None if text is None else clean_text(text, newlines=newlines)
