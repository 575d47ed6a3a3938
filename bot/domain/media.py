"""Linked media accounts as the services and storage pass them around (issue 25)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.domain.models import Movie


@dataclass(frozen=True, slots=True)
class MediaLink:
    """A member's linked account on one service, in one guild. The tokens are as stored
    (encrypted when a secret key is configured, see `bot.media.secrets`) and never shown."""

    guild_id: int
    user_id: int
    service: str  # jellyfin | plex | trakt | letterboxd
    account_id: str
    account_name: str
    linked_at: float
    access_token: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    token_expires_at: float | None = None
    synced_at: float | None = None
    next_sync_at: float | None = None
    sync_summary: str = ""

    def with_tokens(self, access: str | None, refresh: str | None,
                    expires_at: float | None) -> MediaLink:
        return replace(self, access_token=access, refresh_token=refresh,
                       token_expires_at=expires_at)


@dataclass(frozen=True, slots=True)
class SeenMovie:
    """One movie of a member's synced history (for /export)."""

    service: str
    movie: Movie
    watched_at: datetime | None
    rating: int | None


@dataclass(frozen=True, slots=True)
class HistoryWrite:
    """What saving a sync's history changed: movies new to the history, ratings written
    (new, or a service's rating that changed), and ratings left alone because the member
    gave their own."""

    history_new: int
    ratings_written: int
    ratings_kept: int
