""""Not interested": hide a pick from /recommend, and show it again from /ratings.

`NotInterestedSelect` sits on every /recommend page (one option per pick on screen): choosing
one hides the movie from the member's picks for good (`bot.service.not_interested`) and takes
it off the page's selects. `UndoNotInterestedSelect` sits on the member's own /ratings: the
movies they hid, newest first; choosing one shows it in their picks again. Replies are
ephemeral and never ping.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

import discord

from bot.domain.models import Movie
from bot.i18n import _
from cogs.errors import UserError
from cogs.lazy_select import LazySelect
from cogs.ui.guild import guild_id_of
from cogs.ui.lookup import bot_of
from cogs.ui.text import NO_PINGS, choice_label, movie_label

MAX_OPTIONS = 25  # Discord's limit on a select's options


def hidden_text(movie: Movie, hidden: bool) -> str:
    if not hidden:
        return _("**{movie}** was already hidden from your picks.").format(
            movie=movie_label(movie))
    return _("Hidden **{movie}** from your picks; movies picked by the same people move down "
             "too. Undo it from `/ratings`.").format(movie=movie_label(movie))


class NotInterestedSelect(LazySelect):
    """'Not interested in…': hide one of the picks on screen from the member's picks."""

    def __init__(self, movies: list[Movie],
                 on_hidden: Callable[[int], Awaitable[None]] | None = None) -> None:
        shown = movies[:MAX_OPTIONS]
        super().__init__(placeholder=_("Not interested in…"), min_values=1, max_values=1,
                         options=[discord.SelectOption(label=choice_label(m), value=str(m.id))
                                  for m in shown])
        self.movies = {m.id: m for m in shown}
        self.on_hidden = on_hidden

    def remove_movie(self, movie_id: int) -> None:
        self.movies.pop(movie_id, None)
        self.options = [o for o in self.options if o.value != str(movie_id)]

    async def callback(self, interaction: discord.Interaction) -> None:
        guild_id = guild_id_of(interaction)
        try:
            movie = self.movies[int(self.values[0])]
        except (KeyError, ValueError, IndexError):
            raise UserError(_("That pick is no longer on the list; run /recommend again.")) \
                from None
        hidden = await bot_of(interaction).app.not_interested.hide(
            guild_id, interaction.user.id, movie)
        await interaction.response.send_message(hidden_text(movie, hidden), ephemeral=True,
                                                allowed_mentions=NO_PINGS)
        if self.on_hidden is not None:
            await self.on_hidden(movie.id)


class UndoNotInterestedSelect(LazySelect):
    """'Show again in my picks…': the movies the member hid, newest first."""

    def __init__(self, movies: list[Movie]) -> None:
        shown = movies[:MAX_OPTIONS]
        super().__init__(placeholder=_("Not interested — show again in my picks…"),
                         min_values=1, max_values=1,
                         options=[discord.SelectOption(label=choice_label(m), value=str(m.id))
                                  for m in shown])
        self.movies = {m.id: m for m in shown}

    async def callback(self, interaction: discord.Interaction) -> None:
        guild_id = guild_id_of(interaction)
        try:
            movie = self.movies[int(self.values[0])]
        except (KeyError, ValueError, IndexError):
            raise UserError(_("That movie is no longer on the list; run /ratings again.")) \
                from None
        undone = await bot_of(interaction).app.not_interested.undo(
            guild_id, interaction.user.id, movie.id)
        self.movies.pop(movie.id, None)
        self.options = [o for o in self.options if o.value != str(movie.id)]
        text = (_("**{movie}** can show up in your picks again.") if undone
                else _("**{movie}** was not hidden.")).format(movie=movie_label(movie))
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)
        view = self.view
        if view is not None:
            if not self.options:
                view.remove_item(self)
            interaction_of = getattr(view, "interaction", None)
            if interaction_of is not None:
                # a deleted message or an expired token: nothing to update
                with contextlib.suppress(discord.HTTPException):
                    await interaction_of.edit_original_response(view=view)
