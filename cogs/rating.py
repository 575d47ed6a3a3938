"""/rate and /unrate: a member's own 1-10 score for a movie, in the server they run it in.

/rate shows what the model predicted for the movie before the score was saved (when it had a
prediction) and, on a re-rate, the previous score. /unrate removes a rating; scores are always
1..10, there is no "score 0 means delete". Every change tells the recommendation service, which
folds the member's new taste in at once and retrains the guild's model in the background.

`save_rating` is shared with the recommendation list's "Rate one of these…" modal.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.storage import UnknownMovieError
from cogs.errors import UserError
from cogs.lookup import movie_choices, resolve_movie
from cogs.text import NO_PINGS, movie_label, stars

log = logging.getLogger(__name__)

MIN_SCORE = 1
MAX_SCORE = 10
SCORE_HINT = f"The score must be a whole number from {MIN_SCORE} to {MAX_SCORE}."


def check_score(score: int) -> int:
    """The score if it is in range, else a UserError (Discord's client enforces the range, but
    a submitted value is never trusted)."""
    if isinstance(score, bool) or not isinstance(score, int) or not (
            MIN_SCORE <= score <= MAX_SCORE):
        raise UserError(SCORE_HINT)
    return score


async def save_rating(interaction: discord.Interaction, movie, score: int) -> str:
    """Save the member's score for `movie` in this guild and return the confirmation text.

    The model's prediction is read before the save so it is a genuine guess.
    """
    score = check_score(score)
    bot = interaction.client
    guild_id, user_id = interaction.guild_id, interaction.user.id
    predicted = None
    try:
        predicted = await bot.recommendations.predict(guild_id, user_id, movie.id)
    except Exception:  # a prediction is a nicety; never let it block the rating
        log.exception("prediction failed guild=%s movie=%s", guild_id, movie.id)
    try:
        previous = await bot.storage.upsert_rating(guild_id, user_id, movie.id, score)
    except UnknownMovieError:
        raise UserError(f"{movie_label(movie)} is no longer in this server's catalog.") from None
    await bot.recommendations.rating_changed(guild_id, user_id)

    label = movie_label(movie)
    if previous is None:
        text = f"Rated **{label}** {stars(score)}."
    elif previous == score:
        text = f"**{label}** stays at {stars(score)} (you had already given it that score)."
    else:
        text = f"Rated **{label}** {stars(score)} (changed from {stars(previous)})."
    if predicted is not None:
        text += f" I predicted {stars(round(predicted, 1))}."
    return text


class Rating(commands.Cog):
    """Rating commands."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @app_commands.command(name="rate", description="Rate a movie from 1 (awful) to 10 "
                                                   "(a favourite)")
    @app_commands.guild_only()
    @app_commands.describe(
        movie="The movie to rate (pick one from the suggestions)",
        score="Your score, from 1 (awful) to 10 (a favourite)",
    )
    @app_commands.autocomplete(movie=movie_choices)
    async def rate(self, interaction: discord.Interaction, movie: str,
                   score: app_commands.Range[int, 1, 10]) -> None:
        check_score(score)
        found = await resolve_movie(interaction, movie)
        text = await save_rating(interaction, found, score)
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name="unrate", description="Remove your rating of a movie")
    @app_commands.guild_only()
    @app_commands.describe(movie="The movie whose rating you want to remove")
    @app_commands.autocomplete(movie=movie_choices)
    async def unrate(self, interaction: discord.Interaction, movie: str) -> None:
        found = await resolve_movie(interaction, movie)
        storage = interaction.client.storage
        guild_id, user_id = interaction.guild_id, interaction.user.id
        previous = await storage.get_rating(guild_id, user_id, found.id)
        if previous is None or not await storage.delete_rating(guild_id, user_id, found.id):
            raise UserError(f"You haven't rated **{movie_label(found)}**, so there is nothing "
                            "to remove.")
        await interaction.client.recommendations.rating_changed(guild_id, user_id)
        await interaction.response.send_message(
            f"Removed your rating of **{movie_label(found)}** (it was {stars(previous)}).",
            ephemeral=True, allowed_mentions=NO_PINGS)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Rating(bot))
