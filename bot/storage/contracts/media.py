"""The storage contract, part three: media servers (linked accounts and their history,
libraries, requests, notices)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence

from bot.domain.library import LibraryItem, NotifyTarget, SeerrRequest
from bot.domain.media import HistoryWrite, MediaLink, SeenMovie

from ..models import (
    Movie,
)


class MediaContract(ABC):
    """Media servers: linked accounts and their history, libraries, requests, notices."""

    # ------------------------------------------------------ media links
    @abstractmethod
    async def save_media_link(self, link: MediaLink) -> None:
        """Create or replace the member's link to the service (a new account starts over:
        the old account's history goes)."""

    @abstractmethod
    async def media_link(self, guild_id: int, user_id: int, service: str) -> MediaLink | None:
        """The member's link to the service, or None."""

    @abstractmethod
    async def media_links(self, guild_id: int, user_id: int) -> list[MediaLink]:
        """Every link the member has in the guild."""

    @abstractmethod
    async def media_account_owner(self, guild_id: int, service: str,
                                  account_id: str) -> int | None:
        """The member of the guild who linked this account of the service, if any."""

    @abstractmethod
    async def media_links_due(self, now: float, limit: int = 100) -> list[MediaLink]:
        """Links whose next sync is due (oldest first)."""

    @abstractmethod
    async def update_media_tokens(self, guild_id: int, user_id: int, service: str,
                                  access: str | None, refresh: str | None,
                                  expires_at: float | None) -> None:
        """Store a link's refreshed tokens (sealed by the service layer) and their expiry."""

    @abstractmethod
    async def media_synced(self, guild_id: int, user_id: int, service: str, *,
                           synced_at: float | None, next_sync_at: float | None,
                           summary: str) -> None:
        """Record a finished sync: when, when the next is due, and what it found."""

    @abstractmethod
    async def movies_by_tmdb(self, guild_id: int, tmdb_ids: Iterable[int]) -> dict[int, Movie]:
        """{TMDB id: movie} for the ids visible in the guild (its own first)."""

    @abstractmethod
    async def save_media_history(self, guild_id: int, user_id: int, service: str,
                                 seen: Sequence[tuple[int, float | None, int | None]]
                                 ) -> HistoryWrite:
        """Record a sync's watched movies ((movie id, watched at, rating 1-10 | None), one
        per movie) and write its ratings (source = the service) where the member has none
        of their own, in one transaction."""

    @abstractmethod
    async def seen_movie_ids(self, guild_id: int, user_id: int) -> list[int]:
        """Every movie a linked account says the member watched (any service)."""

    @abstractmethod
    async def media_history(self, guild_id: int, user_id: int) -> list[SeenMovie]:
        """The member's synced history, newest first (for /export)."""

    @abstractmethod
    async def delete_media_link(self, guild_id: int, user_id: int,
                                service: str) -> tuple[MediaLink | None, int]:
        """Remove the link, its history and the ratings it brought; returns the removed link
        (its tokens, to revoke) and how many ratings went."""

    @abstractmethod
    async def delete_member_media(self, guild_id: int, user_id: int) -> list[MediaLink]:
        """Remove every link of the member in the guild and their synced history (their
        ratings go with /forgetme's); returns the removed links (tokens to revoke)."""

    @abstractmethod
    async def guild_media_links(self, guild_id: int) -> list[MediaLink]:
        """Every link in the guild (a purge revokes their tokens first)."""

    # ------------------------------------------------------ library, requests, notices
    @abstractmethod
    async def replace_library(self, server: str, items: Sequence[LibraryItem],
                              now: float) -> tuple[list[LibraryItem], bool]:
        """Make `items` the media server's whole library (server: jellyfin | plex); returns
        the items that were not in it before, and whether it held anything before."""

    @abstractmethod
    async def library_items(self, server: str | None = None) -> list[LibraryItem]:
        """The stored library (of one server, or of all)."""

    @abstractmethod
    async def library_movies(self, guild_id: int) -> dict[int, LibraryItem]:
        """{movie id: its library item} for the movies visible in the guild that the media
        server has: matched by TMDB id, IMDb id, then title + year where no id differs."""

    @abstractmethod
    async def claim_seerr_request(self, tmdb_id: int, seerr_user_id: int,
                                  now: float) -> SeerrRequest | None:
        """Claim the movie's Seerr request: None when this call claimed it (only one caller
        ever does), else the request already there."""

    @abstractmethod
    async def seerr_request(self, tmdb_id: int) -> SeerrRequest | None:
        """The movie's request, if one was claimed."""

    @abstractmethod
    async def update_seerr_request(self, tmdb_id: int, request_id: int | None,
                                   status: str) -> None:
        """Record Seerr's request id (None: keep it) and the status last seen."""

    @abstractmethod
    async def release_seerr_request(self, tmdb_id: int) -> None:
        """Forget a claim whose request failed (a later press may try again)."""

    @abstractmethod
    async def set_notify(self, guild_id: int, user_id: int, on: bool, now: float) -> None:
        """Turn the member's "now available" DMs on or off in the guild."""

    @abstractmethod
    async def notify_on(self, guild_id: int, user_id: int) -> bool:
        """Whether the member asked for "now available" DMs in the guild."""

    @abstractmethod
    async def notify_targets(self, tmdb_ids: Iterable[int],
                             imdb_ids: Iterable[str] = ()) -> list[NotifyTarget]:
        """The opted-in members with one of these movies (by TMDB or IMDb id) on their
        watchlist, in every guild."""

    @abstractmethod
    async def item_notify_targets(self, server: str,
                                  item_ids: Sequence[str]) -> list[NotifyTarget]:
        """The opted-in members with the movie one of these library items is (matched as
        `library_movies` does) on their watchlist, in every guild."""

    @abstractmethod
    async def claim_notified(self, guild_id: int, user_id: int, movie_id: int,
                             now: float) -> bool:
        """Record the member's notice for the movie; False when they already had one."""

    @abstractmethod
    async def notify_record(self, guild_id: int,
                            user_id: int) -> tuple[float | None, list[tuple[str, float]]]:
        """For /export: since when the member has "now available" DMs on (None: off) and
        the notices sent ("Title (Year)", sent at), oldest first."""
