"""Exceptions raised by the storage layer."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import Movie


class StorageError(Exception):
    """A storage problem worth a one-line message (bad database file, failed migration...)."""


class SchemaTooNewError(StorageError):
    """The database was written by a newer bot: its schema version is above what we know."""

    def __init__(self, path: str, found: int, supported: int) -> None:
        self.path = path
        self.found = found
        self.supported = supported
        super().__init__(
            f"{path}: database schema version {found} is newer than this bot supports "
            f"(up to version {supported}); it was written by a newer version of the bot. "
            f"Upgrade the bot, or point it at another database file."
        )


class MigrationError(StorageError):
    """A migration failed; it was rolled back and the database is unchanged."""


class DuplicateMovieError(StorageError):
    """A movie with the same normalised title and year is already visible in that guild."""

    def __init__(self, existing: Movie) -> None:
        self.existing = existing
        super().__init__(f"{existing.label} is already in the catalog (#{existing.id})")


class GuildMovieCapError(StorageError):
    """The guild already has as many movies of its own as its cap allows."""

    def __init__(self, cap: int) -> None:
        super().__init__(f"the guild has reached its cap of {cap} added movies")
        self.cap = cap


class WatchlistCapError(StorageError):
    """The member's watchlist in that guild already holds as many movies as its cap allows."""

    def __init__(self, cap: int) -> None:
        super().__init__(f"the watchlist has reached its cap of {cap} movies")
        self.cap = cap


class UnknownMovieError(StorageError, LookupError):
    """The movie does not exist or is not visible in that guild."""
