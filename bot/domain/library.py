"""What the media server's library holds, requests handed to Seerr, and "now available"
notices, as the services and storage pass them around (issue 25, items 3-5)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LibraryItem:
    """One movie in a library of the configured Jellyfin or Plex server (`server`: jellyfin |
    plex): its id there, what it is called, its TMDB/IMDb ids when the server knows them, and
    the address of its page on the server (for the "in the library" link)."""

    server: str
    item_id: str
    title: str
    year: int | None
    tmdb_id: int | None
    imdb_id: str | None
    url: str


@dataclass(frozen=True, slots=True)
class SeerrRequest:
    """A movie the bot asked Seerr for (one per TMDB id, whoever pressed Request): the Seerr
    user it was made as, Seerr's request id (None while it is being made) and the last
    status the bot saw."""

    tmdb_id: int
    seerr_user_id: int
    request_id: int | None
    status: str
    requested_at: float


@dataclass(frozen=True, slots=True)
class NotifyTarget:
    """A member who asked for "now available" DMs and has the movie on their watchlist."""

    guild_id: int
    user_id: int
    movie_id: int
    label: str  # "Title (Year)"
