"""Genres: the MovieLens vocabulary, how genre lists are written and how typed names resolve.

A guild's vocabulary is the MovieLens list plus every genre already used in its catalog; typed
names match it case-insensitively and resolve to the canonical spelling. Stored genre lists are
`|`-separated, each genre with single spaces and no `|`.

The MovieLens genres are stored in English and shown in the reader's language (`shown_genre`,
`shown_genres`: context "genre" in the catalogs); a genre a server added itself is shown as
written. A member may type a MovieLens genre in any language the bot speaks ("Komödie",
"Comédie", "Comedia"): it resolves to the stored "Comedy".
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping

from bot.domain.errors import DomainError
from bot.domain.titles import strip_controls
from bot.i18n import _, current, pgettext, speaking
from bot.i18n.catalogs import languages

MOVIELENS_GENRES: tuple[str, ...] = (
    "Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "IMAX", "Musical", "Mystery", "Romance", "Sci-Fi",
    "Thriller", "War", "Western",
)
NO_GENRES = "(no genres listed)"
MAX_GENRES = 10
MAX_GENRE_LENGTH = 100
_SPLIT = re.compile(r"[,|]")


def _translated() -> dict[str, str]:
    """Each MovieLens genre in the current language (literal calls: the catalogs' extractor
    reads them)."""
    return {
        "Action": pgettext("genre", "Action"), "Adventure": pgettext("genre", "Adventure"),
        "Animation": pgettext("genre", "Animation"), "Children": pgettext("genre", "Children"),
        "Comedy": pgettext("genre", "Comedy"), "Crime": pgettext("genre", "Crime"),
        "Documentary": pgettext("genre", "Documentary"), "Drama": pgettext("genre", "Drama"),
        "Fantasy": pgettext("genre", "Fantasy"), "Film-Noir": pgettext("genre", "Film-Noir"),
        "Horror": pgettext("genre", "Horror"), "IMAX": pgettext("genre", "IMAX"),
        "Musical": pgettext("genre", "Musical"), "Mystery": pgettext("genre", "Mystery"),
        "Romance": pgettext("genre", "Romance"), "Sci-Fi": pgettext("genre", "Sci-Fi"),
        "Thriller": pgettext("genre", "Thriller"), "War": pgettext("genre", "War"),
        "Western": pgettext("genre", "Western"),
    }


@functools.cache
def _names(language: str) -> dict[str, str]:
    with speaking(language):
        return _translated()


def shown_genre(genre: str) -> str:
    """A stored genre as the reader reads it: a MovieLens genre in the current language, any
    other as written."""
    return _names(current()).get(genre, genre)


def shown_genres(genres: Iterable[str]) -> str:
    """Genres for a line of text: "Comédie, Drame"."""
    return ", ".join(shown_genre(genre) for genre in genres)


@functools.cache
def _every_language() -> dict[str, str]:
    """casefolded MovieLens genre name in any language the bot speaks -> stored name."""
    return {name.casefold(): genre for language in languages()
            for genre, name in _names(language).items()}


def stored_genre(text: str) -> str:
    """What a member typed as the stored genre it names ("Komödie" -> "Comedy"); anything
    else as typed."""
    return _every_language().get(clean_genre(text).casefold(), text)


def clean_genre(name: str) -> str:
    """One genre name as stored: controls removed, single spaces, no `|`."""
    return " ".join(strip_controls(str(name)).replace("|", " ").split())


def join_genres(genres: Iterable[str]) -> str:
    """The stored form: cleaned, de-duplicated, `|`-separated."""
    seen: list[str] = []
    for genre in genres:
        name = clean_genre(genre)
        if name and name not in seen:
            seen.append(name)
    return "|".join(seen)


@functools.lru_cache(maxsize=8192)
def split_genres(text: str | None) -> tuple[str, ...]:
    """A stored or file genre list (`A|B`, or MovieLens' "(no genres listed)") as a tuple.

    Memoised: every `Movie` read from the database goes through here, and a catalog has few
    distinct genre lists (benchmarks/many_guilds.py: 1.6 s of the event loop's 19.6 s CPU in a
    30 s window went to re-splitting the same strings, issue 24)."""
    text = (text or "").strip()
    if not text or text.lower() == NO_GENRES:
        return ()
    return tuple(g for g in (clean_genre(part) for part in text.split("|")) if g)


def canonical_genres(genres: Iterable[str]) -> tuple[str, ...]:
    """A genre list from a file, as `/movies add` would store it: MovieLens names in their
    canonical spelling ("sci-fi" -> "Sci-Fi"), others cleaned (they join the vocabulary),
    duplicates dropped; DomainError beyond MAX_GENRES or MAX_GENRE_LENGTH."""
    known = vocabulary(())
    found: list[str] = []
    for genre in genres:
        name = clean_genre(genre)
        if not name:
            continue
        if len(name) > MAX_GENRE_LENGTH:
            raise DomainError(_("A genre is at most {n} characters.").format(
                n=MAX_GENRE_LENGTH))
        name = known.get(name.casefold(), name)
        if name not in found:
            found.append(name)
    if len(found) > MAX_GENRES:
        raise DomainError(_("At most {n} genres per movie.").format(n=MAX_GENRES))
    return tuple(found)


def vocabulary(guild_genres: Iterable[str]) -> dict[str, str]:
    """casefolded name -> canonical spelling: the guild's catalog genres plus MovieLens' (also
    by their names in every language the bot speaks)."""
    known = dict(_every_language())  # a MovieLens genre typed in any language
    known.update({g.casefold(): g for g in guild_genres})
    known.update({g.casefold(): g for g in MOVIELENS_GENRES})
    return known


def resolve_genre(text: str, known: Mapping[str, str]) -> str | None:
    """The canonical spelling of one typed genre, or None when it is not in `known`."""
    return known.get(clean_genre(text).casefold())


def parse_genre_list(text: str | None, known: Mapping[str, str]) -> tuple[str, ...]:
    """Comma- or pipe-separated genres, each from `known`, or DomainError naming the unknown
    ones (as typed; the caller escapes the message before showing it)."""
    if text is None:
        return ()
    found: list[str] = []
    unknown: list[str] = []
    for part in _SPLIT.split(strip_controls(text)):
        name = " ".join(part.split())
        if not name:
            continue
        canonical = known.get(name.casefold())
        if canonical is None:
            unknown.append(name)
        elif canonical not in found:
            found.append(canonical)
    if unknown:
        raise UnknownGenresError(unknown, sorted(set(known.values()), key=str.casefold))
    if not found:
        raise DomainError(_("The genres are empty: leave the option out, or type genres like "
                            "'Comedy, Drama'."))
    if len(found) > MAX_GENRES:
        raise DomainError(_("At most {n} genres per movie.").format(n=MAX_GENRES))
    return tuple(found)


class UnknownGenresError(DomainError):
    """Some typed genres are not in the vocabulary; `unknown` as typed, `valid` the choices."""

    def __init__(self, unknown: list[str], valid: list[str]) -> None:
        super().__init__(f"Unknown genre: {', '.join(unknown)}.")
        self.unknown = unknown
        self.valid = valid
