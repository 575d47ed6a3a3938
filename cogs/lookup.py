"""Movie parameters: autocomplete choices and re-validation of whatever was submitted.

Autocomplete is only a suggestion: a member can type anything and submit, so every command
resolves the submitted value again here, in the invoking guild (a title another guild added is
never found).
"""

from __future__ import annotations

import discord
from discord import app_commands

from cogs.errors import UserError
from cogs.text import choice_label, safe, strip_controls

MAX_QUERY = 200
MAX_CHOICES = 25


async def movie_choices(interaction: discord.Interaction,
                        current: str) -> list[app_commands.Choice[str]]:
    """Up to 25 'Title (Year)' choices whose value is '#<movie id>'."""
    query = strip_controls(current).strip()[:MAX_QUERY]
    if interaction.guild_id is None or not query:
        return []
    movies = await interaction.client.storage.search_movies(
        interaction.guild_id, query, limit=MAX_CHOICES)
    return [app_commands.Choice(name=choice_label(m), value=f"#{m.id}") for m in movies]


async def resolve_movie(interaction: discord.Interaction, value: str):
    """The movie the member meant, or a UserError that suggests close titles."""
    text = strip_controls(value or "").strip()
    if not text:
        raise UserError("Type a movie title (pick one from the suggestions).")
    if len(text) > MAX_QUERY:
        raise UserError(f"That title is too long (at most {MAX_QUERY} characters).")
    storage = interaction.client.storage
    movie = await storage.resolve_movie(interaction.guild_id, text)
    if movie is not None:
        return movie
    suggestions = [] if text.startswith("#") else await storage.search_movies(
        interaction.guild_id, text, limit=5)
    if suggestions:
        listed = "\n".join(f"• {safe(m.label)}" for m in suggestions)
        raise UserError(f"I don't know a movie called “{safe(text, 80)}”. Did you mean:\n"
                        f"{listed}\nPick one from the suggestions while typing.")
    raise UserError(f"I don't know a movie called “{safe(text, 80)}”. Check the spelling, or "
                    "ask a moderator to add it with `/movies add`.")


async def genre_choices(interaction: discord.Interaction,
                        current: str) -> list[app_commands.Choice[str]]:
    """The guild's genres containing what was typed (prefix matches first), at most 25."""
    genres = await interaction.client.storage.genres(interaction.guild_id)
    needle = strip_controls(current).strip().casefold()
    matches = [g for g in genres if needle in g.casefold()]
    matches.sort(key=lambda g: (not g.casefold().startswith(needle), g.casefold()))
    return [app_commands.Choice(name=g[:100], value=g[:100]) for g in matches[:MAX_CHOICES]]
