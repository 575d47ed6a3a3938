"""Media servers and tracking services members link (issue 25): clients and common types.

One small client per service, each over aiohttp with short timeouts, no redirects and capped
bodies (`bot.media.http`):

* `jellyfin.JellyfinClient`: the server's users and a user's played movies (API key sent only
  as `Authorization: MediaBrowser Token="..."`, the one form Jellyfin 12 accepts);
* `plex.PlexClient`: the server's accounts and an account's watch history (admin token);
* `trakt.TraktClient`: the device flow, 24 h tokens refreshed before expiry, history and
  ratings, within Trakt's GET budget (500 per 5 min) and backing off on 429 `Retry-After`;
* `letterboxd.LetterboxdClient`: a member's public RSS feed (`tmdb:movieId`,
  `letterboxd:memberRating` 0.5-5 -> 1-10);
* `seerr.SeerrClient`: a stub for requests (a later part of the issue).

Every client returns `WatchedMovie`s (`bot.media.models`); matching them to the catalog, the
links and the sync are the service's (`bot.service.media`), the rows storage's.
"""

from bot.media.models import (
    SERVICES,
    AccountNotFound,
    ExternalAccount,
    MediaError,
    MediaUnavailable,
    WatchedMovie,
)

__all__ = [
    "SERVICES",
    "AccountNotFound",
    "ExternalAccount",
    "MediaError",
    "MediaUnavailable",
    "WatchedMovie",
]
