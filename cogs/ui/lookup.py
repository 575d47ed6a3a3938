"""Movie and genre parameters: the `MovieParam` transformer and genre autocomplete.

`MovieParam` (an `app_commands.Transformer`, as in discord.py's `examples/app_commands/
transformers.py`) gives every movie option the same behaviour: autocomplete offers up to 25
"Title (Year)" choices whose value is "#<movie id>", and whatever was submitted — a choice or
free text, since autocomplete is only a suggestion — is resolved again in the invoking guild, so
another server's titles are never found. An unknown title is a member-fixable error that
suggests close titles. Autocompletes are within each member's budget (`cogs.ui.budgets`): over
it, the suggestions are empty and nothing is read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import discord
from discord import app_commands

from bot.domain.genres import shown_genre
from bot.domain.models import Movie
from bot.domain.titles import MAX_QUERY_LENGTH, strip_controls
from bot.i18n import _
from cogs.errors import UserError
from cogs.ui.budgets import may_autocomplete
from cogs.ui.text import choice_label, safe

if TYPE_CHECKING:
    from bot.client import MovieBot

MAX_CHOICES = 25  # Discord's limit for autocomplete choices


def bot_of(interaction: discord.Interaction) -> MovieBot:
    """The interaction's client, typed as the bot it is."""
    return cast("MovieBot", interaction.client)


class MovieTransformer(app_commands.Transformer):
    """A movie option: autocomplete by title, resolve to a `Movie` visible in this guild."""

    async def autocomplete(self, interaction: discord.Interaction,  # type: ignore[override]
                           value: str) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None or not may_autocomplete(interaction):
            return []  # over the member's budget: nothing read
        movies = await bot_of(interaction).app.catalog.search(
            interaction.guild_id, value, limit=MAX_CHOICES)
        return [app_commands.Choice(name=choice_label(m), value=f"#{m.id}") for m in movies]

    async def transform(self, interaction: discord.Interaction, value: str) -> Movie:
        text = strip_controls(value or "").strip()
        if not text:
            raise UserError(_("Type a movie title (pick one from the suggestions)."))
        if len(text) > MAX_QUERY_LENGTH:
            raise UserError(_("That title is too long (at most {limit} characters).").format(
                limit=MAX_QUERY_LENGTH))
        if interaction.guild_id is None:
            raise app_commands.NoPrivateMessage()
        found = await bot_of(interaction).app.catalog.lookup(interaction.guild_id, text)
        if found.movie is not None:
            return found.movie
        if found.ambiguous:
            listed = "\n".join(f"• {safe(m.label)}" for m in found.suggestions)
            raise UserError(_("Which {title}? Several movies have that title:\n{listed}\nPick "
                              "one from the suggestions while typing (they show the year), or "
                              "add the year, e.g. “{example}”.").format(
                title=safe(text, 80), listed=listed,
                example=safe(found.suggestions[0].label, 80)))
        if text.startswith("#"):  # an id that is malformed, out of range or not visible here
            raise UserError(_("I don't know a movie “{title}” in this server. Start typing a "
                              "title and pick one from the suggestions.").format(
                title=safe(text, 40)))
        if found.suggestions:
            listed = "\n".join(f"• {safe(m.label)}" for m in found.suggestions)
            raise UserError(_("I don't know a movie called “{title}”. Did you mean:\n{listed}\n"
                              "Pick one from the suggestions while typing.").format(
                title=safe(text, 80), listed=listed))
        raise UserError(_("I don't know a movie called “{title}”. Check the spelling, or ask a "
                          "moderator to add it with `/movies add`.").format(title=safe(text, 80)))


MovieParam = app_commands.Transform[Movie, MovieTransformer]


async def genre_choices(interaction: discord.Interaction,
                        current: str) -> list[app_commands.Choice[str]]:
    """The guild's genres containing what was typed (prefix matches first), at most 25."""
    if interaction.guild_id is None or not may_autocomplete(interaction):
        return []
    genres = await bot_of(interaction).app.catalog.genres(interaction.guild_id)
    needle = strip_controls(current).strip().casefold()
    # shown in the member's language (a MovieLens genre), found by that name or the stored one
    named = [(shown_genre(g), g) for g in genres]
    matches = [(shown, g) for shown, g in named
               if needle in shown.casefold() or needle in g.casefold()]
    matches.sort(key=lambda m: (not m[0].casefold().startswith(needle), m[0].casefold()))
    return [app_commands.Choice(name=shown[:100], value=g[:100])
            for shown, g in matches[:MAX_CHOICES]]
