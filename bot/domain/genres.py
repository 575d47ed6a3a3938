"""Genres: the MovieLens vocabulary, how genre lists are written and how typed names resolve.

A guild's vocabulary is the MovieLens list plus every genre already used in its catalog; typed
names match it case-insensitively and resolve to the canonical spelling. Stored genre lists are
`|`-separated, each genre with single spaces and no `|`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from bot.domain.errors import DomainError
from bot.domain.titles import strip_controls
from bot.i18n import _

MOVIELENS_GENRES: tuple[str, ...] = (
    "Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "IMAX", "Musical", "Mystery", "Romance", "Sci-Fi",
    "Thriller", "War", "Western",
)
NO_GENRES = "(no genres listed)"
MAX_GENRES = 10
MAX_GENRE_LENGTH = 100
_SPLIT = re.compile(r"[,|]")


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


def split_genres(text: str | None) -> tuple[str, ...]:
    """A stored or file genre list (`A|B`, or MovieLens' "(no genres listed)") as a tuple."""
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
    """casefolded name -> canonical spelling: the guild's catalog genres plus MovieLens'."""
    known = {g.casefold(): g for g in guild_genres}
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
