"""Letters of other scripts that look like Latin ones: the cross-script part of Unicode's
confusables data (UTS #39, `confusables.txt`), for title skeletons (`search.skeleton`).

Why a table of our own rather than a library: the one maintained pure-Python package with the
data (confusable-homoglyphs) lists look-alikes per character but computes no UTS #39
skeleton, the ones that do are unmaintained since 2021 or a young native extension, and what
duplicate titles need is small and reviewable: a member must not add "Аlien" (Cyrillic А) next
to "Alien". Compatibility look-alikes (fullwidth, mathematical, circled letters) are already
folded by NFKD in `search.normalize`. Deliberately left out are UTS #39's within-Latin
mappings (0 -> O, 1 -> l, rn -> m): those are characters members type on purpose and that
appear in real titles ("Se7en", "1941", "Rocky II"), so they would refuse genuine movies.

Each letter maps to the Latin letter it looks like, in the case it looks like (so "Н" -> "H"
though "н" looks like no Latin letter); the skeleton is then case folded like any title.
"""

from __future__ import annotations

_PAIRS = {
    # Cyrillic capitals and small letters
    "А": "A", "В": "B", "Е": "E", "Ѕ": "S", "І": "I", "Ј": "J", "К": "K", "М": "M",
    "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T", "Х": "X", "У": "Y", "Ү": "Y",
    "Ԛ": "Q", "Ԝ": "W", "Ӏ": "l", "Ԁ": "d",
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "ѕ": "s",
    "і": "i", "ј": "j", "ԁ": "d", "һ": "h", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ү": "y",
    # Greek capitals and small letters
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
    "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "Ϲ": "C", "Ϳ": "J",
    "α": "a", "ο": "o", "ρ": "p", "ν": "v", "ι": "i", "γ": "y", "ϲ": "c", "ϳ": "j",
    # Armenian
    "Օ": "O", "Ս": "U", "Լ": "L", "օ": "o", "ս": "u", "հ": "h", "ո": "n",
    # Cherokee capitals
    "Ꭺ": "A", "Ᏼ": "B", "Ꮯ": "C", "Ꭰ": "D", "Ꭼ": "E", "Ꮐ": "G", "Ꮋ": "H", "Ꭻ": "J",
    "Ꮶ": "K", "Ꮮ": "L", "Ꮇ": "M", "Ꮲ": "P", "Ꮢ": "R", "Ꮪ": "S", "Ꭲ": "T", "Ꮩ": "V",
    "Ꮃ": "W", "Ꮓ": "Z",
    # Latin letters outside ASCII that look like ASCII ones and do not decompose
    "ı": "i", "ȷ": "j", "ɑ": "a", "ɡ": "g", "ɩ": "i", "ʏ": "y", "ᴄ": "c", "ᴏ": "o",
    "ᴠ": "v", "ᴡ": "w", "ᴢ": "z",
}

LATIN_LOOKALIKES: dict[int, str] = str.maketrans(_PAIRS)
"""For `str.translate`: look-alike letter -> the Latin letter it resembles."""
