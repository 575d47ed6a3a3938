"""Making user-supplied text safe to show: no pings, no broken formatting, bounded length."""

from __future__ import annotations

import functools

import discord

from bot.domain.models import Movie
from bot.domain.titles import strip_controls
from bot.i18n import N_, number


def _escape(text: str) -> str:
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


@functools.lru_cache(maxsize=8192)
def safe(text: str, limit: int = 200) -> str:
    """User text for a message or embed: controls removed, markdown and mentions escaped,
    at most `limit` characters *after* escaping (escape, then shorten with an ellipsis at a
    character boundary, so a markdown-heavy title still fits Discord's limits and no escape
    is cut in half). Memoised: the same titles are shown again and again (/recommend's pages
    and selects: 1.2 s of the event loop's CPU in a profiled 30 s many_guilds window, issue
    24)."""
    text = strip_controls(text).strip()
    escaped = _escape(text)
    if len(escaped) <= limit:
        return escaped
    # The longest prefix whose escaped form plus "…" fits (escaping only ever lengthens).
    low, high = 0, min(len(text), limit)
    while low < high:
        middle = (low + high + 1) // 2
        if len(_escape(text[:middle].rstrip())) + 1 <= limit:
            low = middle
        else:
            high = middle - 1
    return _escape(text[:low].rstrip()) + "…"


def movie_label(movie: Movie, limit: int = 200) -> str:
    """'Title (Year)', escaped for display."""
    return safe(movie.label, limit)


def choice_label(movie: Movie) -> str:
    """'Title (Year)' for an autocomplete choice (plain text, at most 100 characters)."""
    return _plain_label(movie.label)


@functools.lru_cache(maxsize=8192)
def _plain_label(text: str) -> str:
    label = strip_controls(text)
    return label if len(label) <= 100 else label[:99] + "…"


def stars(score: float) -> str:
    """A compact score: '8/10' or '7.4/10' ('7,4/10' in German: the reader's number format)."""
    return f"{number(score, digits=0 if float(score).is_integer() else 1)}/10"


NO_PINGS = discord.AllowedMentions.none()

NEW_HERE = N_("new to this server")  # shown with _(NEW_HERE)
"""Marks a pick nobody in the server rated (a candidate the taste prior brought in)."""
__all__ = ["NEW_HERE", "NO_PINGS", "choice_label", "movie_label", "safe", "stars",
           "strip_controls"]
