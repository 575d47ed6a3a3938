"""Refusals the service layer raises; the cogs turn each into a message for the member.

Each carries the data the message needs (the movie, the cap...), never Discord formatting: the
cogs render and escape. `ShuttingDown` lives in `gate.py`; rule violations of a single value
(score, title, year, genre) are `bot.domain.DomainError`.
"""

from __future__ import annotations

from bot.domain.models import Movie


class ServiceError(Exception):
    """A request the rules refuse; nothing was changed."""


class MovieNotFound(ServiceError):
    """The movie is not (or no longer) visible in this guild."""

    def __init__(self, movie: Movie | None = None) -> None:
        super().__init__("movie not in this guild's catalog")
        self.movie = movie


class NotRated(ServiceError):
    """The member has not rated this movie (or has no ratings at all: `movie` is None)."""

    def __init__(self, movie: Movie | None = None) -> None:
        super().__init__("not rated")
        self.movie = movie


class DuplicateMovie(ServiceError):
    """The movie is already visible in the guild as `existing`."""

    def __init__(self, existing: Movie) -> None:
        super().__init__("duplicate movie")
        self.existing = existing


class MovieCapReached(ServiceError):
    """The guild has added as many movies as `cap` allows."""

    def __init__(self, cap: int) -> None:
        super().__init__(f"cap of {cap} reached")
        self.cap = cap


class PermissionRequired(ServiceError):
    """The member lacks a Discord permission for this (`permission`: discord.py's name)."""

    def __init__(self, permission: str, action: str) -> None:
        super().__init__(f"{permission} needed to {action}")
        self.permission = permission
        self.action = action


class RatingsPrivate(ServiceError):
    """The guild keeps ratings private: only the member's own are shown."""
