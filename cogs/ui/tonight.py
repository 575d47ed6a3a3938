"""Tonight's filters as typed in a command, and where to watch as shown (issue 26 items 4-5).

`tonight_filters` checks the options (`UserError` for a bad one) into `bot.service.tonight.
Tonight`; `add_where_to_watch` adds a "Where to watch" field (each movie's providers in the
server's region) that always ends with the JustWatch credit TMDB's terms require.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import discord

from bot.domain.genres import stored_genre
from bot.domain.models import Movie
from bot.domain.watch import JUSTWATCH
from bot.i18n import _
from bot.service.tonight import Tonight
from cogs.errors import UserError
from cogs.ui.text import movie_label, safe

_LANGUAGE = re.compile(r"[A-Za-z]{2,3}")
FIELD = 1024


def tonight_filters(runtime_max: int | None = None, min_year: int | None = None,
                    max_year: int | None = None, certification: str | None = None,
                    language: str | None = None, exclude_genre: str | None = None) -> Tonight:
    if min_year is not None and max_year is not None and min_year > max_year:
        raise UserError(_("`min_year` is after `max_year`: no movie fits."))
    if language is not None and not _LANGUAGE.fullmatch(language.strip()):
        raise UserError(_("A language is a two-letter code, e.g. en, fr, ja."))
    rating = " ".join(certification.split()) if certification is not None else None
    excluded = (stored_genre(" ".join(exclude_genre.split())) if exclude_genre is not None
                else None)  # a MovieLens genre may be typed in any language
    return Tonight(runtime_max=runtime_max, min_year=min_year, max_year=max_year,
                   certification=rating or None,
                   language=language.strip().lower() if language is not None else None,
                   exclude_genre=excluded or None)


def where_lines(items: Sequence[tuple[Movie, str | None]], limit: int = 10) -> list[str]:
    return [f"**{movie_label(movie, 60)}**: {safe(line, 200)}"
            for movie, line in items if line][:limit]


def with_credit(lines: Sequence[str], room: int = FIELD) -> str:
    """The lines, cut to fit `room` with the JustWatch credit always at the end."""
    credit = f"*{_(JUSTWATCH)}*"
    body = "\n".join(lines)
    space = room - len(credit) - 1
    if len(body) > space:
        body = body[:space - 1].rsplit("\n", 1)[0] or body[:space - 1]
    return f"{body}\n{credit}"


def add_where_to_watch(embed: discord.Embed, items: Sequence[tuple[Movie, str | None]]) -> None:
    """A "Where to watch" field for the movies TMDB lists providers of (none: no field)."""
    lines = where_lines(items)
    if lines:
        embed.add_field(name=_("Where to watch"), value=with_credit(lines), inline=False)
