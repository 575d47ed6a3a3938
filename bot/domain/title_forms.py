"""The forms of a movie title that are compared (pure functions, no SQL): what
storage stores (`normalize`, `skeleton`, `search_text`) and what imports and linking match.

Two forms of a title exist:

* the *display* title, stored in `movies.title` in natural order ("The Matrix",
  "La Cité des enfants perdus"), produced by `display_title`;
* the *normalised* title, stored in `movies.norm_title` and used for duplicate detection,
  exact resolution and search: accents folded, case folded, punctuation removed, spaces
  collapsed and one leading English article dropped ("matrix", "cite des enfants perdus").
  Letters and digits of every script count: Latin text keeps exactly the ASCII form it
  always had, while Greek, Cyrillic, CJK, Hangul, Arabic, Indic and other letters are kept
  (case folded; accents dropped where they are accents: Greek, Cyrillic, Hebrew and Arabic
  vowel marks; kept where they make the letter: kana voicing, Indic vowel signs), and other
  scripts' decimal digits become ASCII ("Война и мир" -> "воина и мир", "千と千尋の神隠し" stays);
* the *skeleton*, stored in `movies.skeleton` (migration 5): the normalised form after
  mapping letters of other scripts that look like Latin ones to those (Unicode UTS #39
  confusables, the cross-script part), so "Аlien" with a Cyrillic А has the skeleton of
  "Alien" and is refused as a duplicate of it (`skeleton`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.domain.confusables import LATIN_LOOKALIKES
from bot.domain.stored_text import clean_text
from bot.domain.years import is_valid_year

# Articles that MovieLens moves to the end ("Matrix, The"); moved back to the front for display.
TRAILING_ARTICLES = (
    "The", "A", "An", "Le", "La", "Les", "L'", "Il", "El", "Der", "Die", "Das", "Los", "Las",
    "Lo", "Gli", "Un", "Une", "Una", "Ein", "Eine", "Det", "Den", "Het", "Os", "As", "O",
)
# Leading articles dropped for matching ("The Matrix" and "Matrix" are the same title).
# Only English ones: dropping "Die" from "Die Hard" or "La" from "La La Land" would do harm.
LEADING_ARTICLES = ("the", "a", "an")


_TRAILING_RE = re.compile(
    r"^(?P<body>.+?),\s*(?P<article>" + "|".join(re.escape(a) for a in TRAILING_ARTICLES)
    + r")\s*$",
    re.IGNORECASE,
)
_YEAR_SUFFIX_RE = re.compile(
    r"^(?P<title>.*?)\s*\(\s*(?P<year>\d{4})(?:\s*[-–]\s*\d{0,4})?\s*\)\s*$")
_ALT_SUFFIX_RE = re.compile(r"^(?P<title>.+?)\s*\((?P<alt>[^()]+)\)\s*$")
_YEAR_QUERY_RE = re.compile(r"^(?P<title>.*?)[\s,]*\(?\s*(?P<year>\d{4})\s*\)?\s*$")
_ELISION_RE = re.compile(r"\b([cdjlmnst])['’](?=\w)")
_DROP_CHARS_RE = re.compile(r"['’`.]")
_NON_WORD_RE = re.compile(r"[^0-9a-z]+")
_NON_WORD_RE_WIDE = re.compile(r"\s+")


def _marks_are_accents(code: int) -> bool:
    """Whether combining marks on this base character are accents to fold away: Latin,
    Greek, Cyrillic, Armenian, Hebrew, Arabic and Syriac (below U+0780), their extension
    blocks, and presentation forms. Elsewhere (kana voicing, Indic vowel signs, Thai,
    Thaana vowels) a mark is part of the letter and stays."""
    return (code < 0x0780 or 0x08A0 <= code <= 0x08FF or 0x1C80 <= code <= 0x1C8F
            or 0x1D00 <= code <= 0x1FFF or 0x2C60 <= code <= 0x2C7F
            or 0x2DE0 <= code <= 0x2DFF or 0xA640 <= code <= 0xA69F
            or 0xA720 <= code <= 0xA7FF or 0xAB30 <= code <= 0xAB6F
            or 0xFB00 <= code <= 0xFEFF)


def fold(text: str) -> str:
    """Accents stripped (NFKD minus combining marks) and case folded. Marks that are part of
    a letter in their script (see `_marks_are_accents`) are kept, recomposed (NFC)."""
    decomposed = unicodedata.normalize("NFKD", text)
    if decomposed.isascii():
        return decomposed.casefold()
    out: list[str] = []
    keep_marks = False
    for char in decomposed:
        if unicodedata.combining(char):
            if keep_marks:
                out.append(char)
            continue
        keep_marks = not _marks_are_accents(ord(char))
        out.append(char)
    # Letters that do not decompose into base + accent.
    stripped = "".join(out).translate(_SPECIAL_LETTERS)
    if keep_marks or any(not _marks_are_accents(ord(c)) for c in stripped):
        stripped = unicodedata.normalize("NFC", stripped)  # "カ" + voicing mark -> "ガ"
    return stripped.casefold()


def _latin_block(code: int) -> bool:
    """Latin (and the symbols sharing its blocks): only [0-9a-z] of these survive
    normalisation, as they always did."""
    return (code < 0x0370 or 0x1D00 <= code <= 0x1DBF or 0x1E00 <= code <= 0x1EFF
            or 0x2000 <= code <= 0x2BFF or 0x2C60 <= code <= 0x2C7F
            or 0xA720 <= code <= 0xA7FF or 0xAB30 <= code <= 0xAB6F
            or 0xFB00 <= code <= 0xFB06 or 0xFF00 <= code <= 0xFFEF)


def _word_chars(text: str) -> str:
    """[0-9a-z], plus letters, marks and digits of non-Latin scripts (other scripts' decimal
    digits as ASCII); everything else becomes a space."""
    out = []
    for char in text:
        if "a" <= char <= "z" or "0" <= char <= "9":
            out.append(char)
            continue
        code = ord(char)
        category = unicodedata.category(char)
        if code < 0x80 or _latin_block(code) or category[0] not in "LMN":
            out.append(" ")
        elif category == "Nd":
            out.append(str(unicodedata.decimal(char)))
        else:
            out.append(char)
    return "".join(out)


_SPECIAL_LETTERS = str.maketrans({
    "ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE", "ł": "l",
    "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "þ": "th", "ı": "i",
})


def display_title(title: str) -> str:
    """Natural order for a MovieLens-style title: "Matrix, The" -> "The Matrix" (control
    characters removed, spaces collapsed)."""
    title = " ".join(clean_text(title).split())
    match = _TRAILING_RE.match(title)
    if not match:
        return title
    body, article = match.group("body"), match.group("article")
    # Keep the article's capitalisation as written in the canonical list.
    canonical = next(a for a in TRAILING_ARTICLES if a.lower() == article.lower())
    if canonical.endswith("'"):
        return canonical + body
    return f"{canonical} {body}"


def normalize(title: str) -> str:
    """The matching form of a title (or of a query): see the module docstring."""
    text = fold(display_title(title))
    text = text.replace("&", " and ")
    text = _ELISION_RE.sub(r"\1 ", text)  # French elision: "l'auberge" -> "l auberge"
    text = _DROP_CHARS_RE.sub("", text)  # "A.I." -> "ai", "Schindler's" -> "schindlers"
    if text.isascii():
        text = _NON_WORD_RE.sub(" ", text).strip()
    else:  # letters of other scripts are words too
        text = _NON_WORD_RE_WIDE.sub(" ", _word_chars(text)).strip()
    words = text.split()
    if len(words) > 1 and words[0] in LEADING_ARTICLES:
        words = words[1:]
    return " ".join(words)


def skeleton(title: str) -> str:
    """The title's look-alike form: letters of other scripts that look like Latin letters
    mapped to those (`confusables`), then normalised. Two titles with one skeleton look the
    same to a member ("Аlien" with a Cyrillic А, "Alien"); genuine titles in any script
    keep distinct skeletons unless they differ only by look-alike letters."""
    decomposed = unicodedata.normalize("NFKD", title)
    return normalize(decomposed.translate(LATIN_LOOKALIKES))


@dataclass(frozen=True, slots=True)
class ParsedTitle:
    title: str  # display form
    year: int | None
    alt_title: str | None = None


def parse_title(raw: str, *, alt: bool = True) -> ParsedTitle:
    """Split "Title, The (Alt Title, La) (1995)" into display title, alternative title, year.

    Accepts titles without a year ("Babylon 5") and year ranges ("(2007-2013)", first year kept).
    With `alt=False` a parenthesised part other than the year stays in the title.
    """
    text = " ".join(raw.split())
    year: int | None = None
    match = _YEAR_SUFFIX_RE.match(text)
    if match and match.group("title"):
        candidate = int(match.group("year"))
        if is_valid_year(candidate):
            year = candidate
            text = match.group("title")
    alt_title: str | None = None
    match = _ALT_SUFFIX_RE.match(text) if alt else None
    if match:
        alt_text = match.group("alt").strip()
        alt_text = re.sub(r"^(a\.k\.a\.|aka)\s+", "", alt_text, flags=re.IGNORECASE)
        if alt_text:
            alt_title = display_title(alt_text)
            text = match.group("title")
    return ParsedTitle(display_title(text), year, alt_title)


_SUBTITLE_RE = re.compile(r"\s*:\s+|\s+[-–—]\s+")


def _title_forms(raw: str) -> list[str]:
    """Display forms a title is known by: the title without its parenthesised alternates,
    each alternate (a.k.a. stripped), then the whole title as written. A year is ignored."""
    text = " ".join(raw.split())
    match = _YEAR_SUFFIX_RE.match(text)
    if match and match.group("title"):
        text = match.group("title")
    whole = text
    alternates: list[str] = []
    while match := _ALT_SUFFIX_RE.match(text):
        alt_text = re.sub(r"^(a\.k\.a\.|aka)\s+", "", match.group("alt").strip(),
                          flags=re.IGNORECASE)
        if alt_text:
            alternates.append(alt_text)
        text = match.group("title")
    return [text, *reversed(alternates), whole]


def _unique(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def title_variants(raw: str) -> tuple[str, ...]:
    """Normalised forms of a title for matching movies across datasets, main title first.

    "Seven (a.k.a. Se7en) (1995)" -> ("seven", "se7en", "seven aka se7en"); every trailing
    parenthesised alternate counts ("Bicycle Thieves (a.k.a. The Bicycle Thief) (Ladri di
    biciclette) (1948)"), and trailing articles are handled as by `normalize`.
    """
    return _unique([normalize(form) for form in _title_forms(raw)])


def subtitle_variants(raw: str) -> tuple[str, ...]:
    """Normalised head and tail of each form of a "Head: Tail" or "Head - Tail" title, and
    head + tail without a middle part ("Star Wars: Episode IV - A New Hope" -> "star wars",
    "new hope", "star wars a new hope"); empty without one.
    Weaker than `title_variants`: match with them only on an exact year, when unambiguous."""
    parts: list[str] = []
    for form in _title_forms(raw)[:-1]:  # not the whole title as written
        pieces = _SUBTITLE_RE.split(display_title(form))
        if len(pieces) > 1:
            parts += [normalize(pieces[0]), normalize(pieces[-1])]
        if len(pieces) > 2:
            parts.append(normalize(f"{pieces[0]} {pieces[-1]}"))
    full = set(title_variants(raw))
    return tuple(p for p in _unique(parts) if p not in full)


def search_text(title: str, alt_title: str | None = None) -> str:
    """What the FTS index holds for a movie: normalised title, then "|" alt title."""
    norm = normalize(title)
    if alt_title:
        alt = normalize(alt_title)
        if alt and alt != norm:
            return f"{norm}|{alt}"
    return norm


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed search query: normalised text and an optional wanted year."""

    text: str  # normalised, year removed when one was recognised
    full: str  # normalised, as typed (for titles like "Wonder Woman 1984" or "1917")
    year: int | None


def parse_query(raw: str) -> Query:
    """Normalise a query; a trailing "1984" or "(1984)" after other words is a wanted year."""
    raw = " ".join(raw.split())
    full = normalize(raw)
    match = _YEAR_QUERY_RE.match(raw)
    if match:
        year = int(match.group("year"))
        rest = normalize(match.group("title"))
        if rest and is_valid_year(year):
            return Query(rest, full, year)
    return Query(full, full, None)
