"""/rate and /unrate: a member's own 1-10 score for a movie, in the server they run it in.

/rate shows what the model predicts for the movie from the member's other ratings (when the
guild's model is in memory; worked out beside the write, never folded in first) and, on a
re-rate, the previous score. /unrate removes a rating; scores are always
1..10, there is no "score 0 means delete". The service folds the member's new taste in at once
and retrains the guild's model in the background.

`rate_text` renders a rating for both /rate and the recommendation list's score form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.scores import MAX_SCORE, MIN_SCORE
from bot.i18n import _
from bot.service.ratings import RateOutcome
from cogs.ui.acks import reply, within_ack
from cogs.ui.guild import guild_id_of
from cogs.ui.lookup import MovieParam
from cogs.ui.text import NO_PINGS, movie_label, stars

if TYPE_CHECKING:
    from bot.client import MovieBot


def rate_text(outcome: RateOutcome) -> str:
    """'Rated **Alien (1979)** 9/10 (changed from 7/10). I predicted 8.2/10.'"""
    label = movie_label(outcome.movie)
    score, previous = outcome.score, outcome.previous
    if previous is None:
        text = _("Rated **{movie}** {score}.").format(movie=label, score=stars(score))
    elif previous == score:
        text = _("**{movie}** stays at {score} (you had already given it that score).").format(
            movie=label, score=stars(score))
    else:
        text = _("Rated **{movie}** {score} (changed from {previous}).").format(
            movie=label, score=stars(score), previous=stars(previous))
    if outcome.predicted is not None:
        text += " " + _("I predicted {score}.").format(score=stars(round(outcome.predicted, 1)))
    return text


class Rating(commands.Cog):
    """Rating commands."""

    def __init__(self, bot: MovieBot) -> None:
        self.bot = bot

    @app_commands.command(name="rate", description="Rate a movie from 1 (awful) to 10 "
                                                   "(a favourite)")
    @app_commands.guild_only()
    @app_commands.describe(
        movie="The movie to rate (pick one from the suggestions)",
        score="Your score, from 1 (awful) to 10 (a favourite)",
    )
    async def rate(self, interaction: discord.Interaction, movie: MovieParam,
                   score: app_commands.Range[int, MIN_SCORE, MAX_SCORE]) -> None:
        guild_id = guild_id_of(interaction)
        outcome = await within_ack(interaction, self.bot.app.ratings.rate(
            guild_id, interaction.user.id, movie, score))
        await reply(interaction, rate_text(outcome))

    @app_commands.command(name="unrate", description="Remove your rating of a movie")
    @app_commands.guild_only()
    @app_commands.describe(movie="The movie whose rating you want to remove")
    async def unrate(self, interaction: discord.Interaction, movie: MovieParam) -> None:
        guild_id = guild_id_of(interaction)
        previous = await self.bot.app.ratings.unrate(guild_id, interaction.user.id,
                                                     movie)
        await interaction.response.send_message(
            _("Removed your rating of **{movie}** (it was {score}).").format(
                movie=movie_label(movie), score=stars(previous)),
            ephemeral=True, allowed_mentions=NO_PINGS)


async def setup(bot: MovieBot) -> None:
    await bot.add_cog(Rating(bot))
