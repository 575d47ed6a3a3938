"""TMDB posters and details on embeds (`bot.service.details`; only with a TMDB key).

`add_details` puts the poster as the embed's thumbnail and the overview, runtime and
original title as fields; the text is TMDB's, escaped like any other outside text.
"""

from __future__ import annotations

import discord

from bot.domain.models import Movie, MovieDetails
from bot.i18n import _
from cogs.ui.text import safe


def runtime_text(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d} min" if hours else f"{rest} min"  # the same in de/fr/es


def add_details(embed: discord.Embed, movie: Movie, details: MovieDetails | None, *,
                overview_limit: int = 1000, label: str = "") -> None:
    """Poster thumbnail and detail fields for `movie` (nothing when `details` is None)."""
    if details is None:
        return
    if details.poster_url:
        embed.set_thumbnail(url=details.poster_url)
    prefix = f"{label} " if label else ""
    if details.overview:
        embed.add_field(name=(prefix + _("Overview"))[:256],
                        value=safe(details.overview, overview_limit), inline=False)
    if details.runtime:
        embed.add_field(name=(prefix + _("Runtime"))[:256], value=runtime_text(details.runtime))
    original = details.original_title
    if original and original.casefold() != movie.title.casefold():
        embed.add_field(name=(prefix + _("Original title"))[:256], value=safe(original, 200))
