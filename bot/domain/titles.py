"""Movie titles: how long they may be and what makes one usable.

The matching form of a title (accents and case folded, articles dropped) lives in
`bot.domain.title_forms.normalize`; this module holds the limits and the cleaning of what a member
typed. Catalog files may carry longer titles than a member may type.
"""

from __future__ import annotations

import unicodedata

from bot.domain.errors import DomainError
from bot.i18n import _

MAX_TITLE_LENGTH = 300
"""Longest title stored (catalog imports included)."""
MAX_ADDED_TITLE_LENGTH = 200
"""Longest title a member may type in `/movies add`."""
MAX_QUERY_LENGTH = 200
"""Longest search text or movie option value looked up."""

# Zero-width and bidirectional controls that can hide or reorder text.
INVISIBLE = frozenset({
    "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\ufeff",
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
    "\u2066", "\u2067", "\u2068", "\u2069"})


def strip_controls(text: str) -> str:
    """Remove control and invisible formatting characters; newlines and tabs become spaces."""
    out = []
    for char in text:
        if char in "\r\n\t":
            out.append(" ")
        elif char in INVISIBLE or unicodedata.category(char) in ("Cc", "Cf"):
            continue
        else:
            out.append(char)
    return "".join(out)


def clean_title(text: str, *, limit: int = MAX_ADDED_TITLE_LENGTH) -> str:
    """A typed title with controls removed and spaces collapsed, or DomainError."""
    clean = " ".join(strip_controls(text).split())
    if not clean:
        raise DomainError(_("The title is empty: type the movie's title."))
    if len(clean) > limit:
        raise DomainError(_("That title is too long (at most {limit} characters).").format(
            limit=limit))
    return clean
