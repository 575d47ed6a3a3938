"""One error handler for every slash command, button, menu and form: each failure becomes a
short ephemeral message.

`UserError` carries a message meant for the member (bad input, missing permission, nothing to
show); anything else is a bug: it is logged with a reference id and the member sees that id.
The `cogs.error_handler` extension installs it on the command tree; views and modals call
`report_failure` from their `on_error`. (A plain module, not an extension, so `UserError` is one
class for the life of the process.)
"""

from __future__ import annotations

import logging
import math
import secrets
from typing import Any

import discord
from discord import app_commands

from bot.domain.errors import DomainError
from bot.domain.genres import UnknownGenresError, shown_genre
from bot.i18n import N_, _, number
from bot.service.errors import (
    DuplicateMovie,
    MovieCapReached,
    MovieNotFound,
    NotRated,
    PermissionRequired,
    RatingsPrivate,
)
from bot.service.gate import SHUTTING_DOWN, ShuttingDown
from bot.service.privacy import ConsentRequired
from bot.service.watchlist import AlreadyRated, NotOnWatchlist, WatchlistFull
from cogs.ui.text import NO_PINGS, movie_label, safe

log = logging.getLogger(__name__)

# discord.py's permission names where Discord's own interface says something else.
PERMISSION_NAMES = {"manage_guild": N_("Manage Server"), "administrator": N_("Administrator")}
# What the services say a permission is needed for (`PermissionRequired.action`).
ACTIONS = (N_("run the set-up checklist"), N_("change the server settings"),
           N_("add movies in this server"))


def _permission(name: str) -> str:
    return _(PERMISSION_NAMES[name]) if name in PERMISSION_NAMES \
        else name.replace("_", " ").title()


class UserError(app_commands.AppCommandError):
    """A problem the member can fix; `message` is shown to them as-is (already safe text)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def send_ephemeral(interaction: discord.Interaction, content: str | None = None,
                         **kwargs: Any) -> None:
    """Reply ephemerally, whether or not the interaction was already answered. After a
    deferral ("thinking…") the deferred message itself is replaced, so it never hangs."""
    kwargs.setdefault("allowed_mentions", NO_PINGS)
    response = interaction.response
    if not response.is_done():
        await response.send_message(content, ephemeral=True, **kwargs)
    elif response.type == discord.InteractionResponseType.deferred_channel_message:
        await interaction.edit_original_response(content=content, embed=None, view=None,
                                                 **kwargs)
    else:
        await interaction.followup.send(content or "", ephemeral=True, **kwargs)


def describe(error: Exception) -> str | None:
    """The member-facing text for an expected failure, or None for a bug."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, UserError):
        return error.message
    service_message = describe_refusal(error)
    if service_message is not None:
        return service_message
    if isinstance(error, app_commands.CommandOnCooldown):
        return _("Slow down a little: try again in {seconds} s.").format(
            seconds=max(1, math.ceil(error.retry_after)))
    if isinstance(error, app_commands.MissingPermissions):
        perms = ", ".join(_permission(p) for p in error.missing_permissions)
        return _("You need the {permission} permission for this.").format(permission=perms)
    if isinstance(error, app_commands.NoPrivateMessage):
        return _("This command works in a server, not in direct messages.")
    if isinstance(error, app_commands.TransformerError):
        return _("That value is not valid for this option.")
    if isinstance(error, app_commands.CheckFailure):
        return str(error) or _("You can't use this command here.")
    return None


def describe_refusal(error: Exception) -> str | None:
    """The message for a refusal of the service layer or a broken domain rule, or None."""
    if isinstance(error, ShuttingDown):
        return _(SHUTTING_DOWN)
    if isinstance(error, UnknownGenresError):
        valid = ", ".join(shown_genre(g) for g in error.valid) or _("none yet")
        return _("Unknown genre: {unknown}. Valid genres: {valid}.").format(
            unknown=safe(", ".join(error.unknown), 100), valid=safe(valid, 1500))
    if isinstance(error, DomainError):
        return safe(str(error), 1900)
    if isinstance(error, MovieNotFound):
        if error.movie is None:
            return _("That movie is no longer in this server's catalog.")
        return _("{movie} is no longer in this server's catalog.").format(
            movie=movie_label(error.movie))
    if isinstance(error, NotRated):
        if error.movie is None:
            return _("You have no ratings in this server, so there is nothing to delete.")
        return _("You haven't rated **{movie}**, so there is nothing to remove.").format(
            movie=movie_label(error.movie))
    if isinstance(error, DuplicateMovie):
        return _("That movie is already in the catalog as {movie}.").format(
            movie=movie_label(error.existing))
    if isinstance(error, MovieCapReached):
        return _("This server has reached its limit of {cap} added movies, so no more can be "
                 "added. Ask the bot's host if you need more.").format(cap=number(error.cap))
    if isinstance(error, PermissionRequired):
        return _("You need the {permission} permission to {action}.").format(
            permission=_permission(error.permission), action=_(error.action))
    if isinstance(error, ConsentRequired):
        return _("This server keeps ratings private, so everyone named in `group` has to agree "
                 "first: run the command again and ask them to press Agree.")
    if isinstance(error, AlreadyRated):
        return _("You rated **{movie}** {score}/10 already, so it stays off your "
                 "watchlist.").format(movie=movie_label(error.movie), score=error.score)
    if isinstance(error, NotOnWatchlist):
        return _("**{movie}** is not on your watchlist.").format(movie=movie_label(error.movie))
    if isinstance(error, WatchlistFull):
        return _("Your watchlist holds its limit of {cap} movies: remove some with "
                 "`/watchlist remove` first.").format(cap=number(error.cap))
    if isinstance(error, RatingsPrivate):
        return _("This server keeps ratings private: you can only see your own with "
                 "`/ratings`.")
    return None


async def report_failure(interaction: discord.Interaction, error: Exception) -> None:
    """Tell the member what went wrong; log bugs with a reference id they can quote."""
    message = describe(error)
    if message is None:
        reference = secrets.token_hex(4)
        if isinstance(error, app_commands.CommandInvokeError):
            error = error.original
        data: dict[str, Any] = dict(interaction.data or {})
        where = (interaction.command.qualified_name if interaction.command
                 else data.get("custom_id", "?"))
        log.error("interaction failed ref=%s where=%r guild=%s user=%s", reference, where,
                  interaction.guild_id, interaction.user.id, exc_info=error)
        message = _("Something went wrong on our side (reference `{reference}`). Please try "
                    "again.").format(reference=reference)
    try:
        await send_ephemeral(interaction, message)
    except discord.HTTPException:
        log.warning("could not deliver an error message for interaction %s", interaction.id)


async def on_tree_error(interaction: discord.Interaction,
                        error: app_commands.AppCommandError) -> None:
    await report_failure(interaction, error)
