"""The types every media client returns: watched movies, external accounts, errors."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.i18n import _

SERVICES = ("jellyfin", "plex", "trakt", "letterboxd")
"""The services a member can link, in the order `/link status` lists them."""

SERVICE_NAMES = {"jellyfin": "Jellyfin", "plex": "Plex", "trakt": "Trakt",
                 "letterboxd": "Letterboxd", "seerr": "Seerr"}


class MediaError(Exception):
    """A media service could not do what was asked; the message is one line for a member
    (it never holds a key or a token), worded in the language of the interaction (or the
    server, for a background sync) that asked: `bot.i18n`."""


class MediaUnavailable(MediaError):
    """The service did not answer usefully (down, timed out, refused our credentials)."""


def unexpected(service: str, what: str) -> MediaUnavailable:
    """The service answered `what` (a path, left as it is) with something the client does not
    read: worded in the current language (`bot.i18n`), like every message here."""
    return MediaUnavailable(_("{service} answered {what} with something unexpected").format(
        service=service, what=what))


class AccountNotFound(MediaError):
    """The account named does not exist there (a Letterboxd user without a feed, ...)."""


@dataclass(frozen=True, slots=True)
class ExternalAccount:
    """An account on a service: its id there and the name to show."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class WatchedMovie:
    """One movie a member watched on a service. `rating_1_10` is the member's own rating
    there, on the bot's 1-10 scale (None: watched without a rating)."""

    tmdb_id: int | None
    imdb_id: str | None
    title: str
    year: int | None
    rating_1_10: int | None
    watched_at: datetime | None


def to_scale(value: object, top: float) -> int | None:
    """A rating out of `top` (5 for Letterboxd's stars, 10 for Trakt and Plex) on the 1-10
    scale, rounded half up; None for a missing or nonsensical value."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or number <= 0 or number > top:
        return None
    return max(1, min(10, math.floor(number * 10 / top + 0.5)))


def obj(value: object) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one (services' answers are untrusted)."""
    return value if isinstance(value, dict) else {}


def imdb_id(value: object) -> str | None:
    """An IMDb id ("tt0123456") or None."""
    if isinstance(value, str) and value.startswith("tt") and value[2:].isdigit():
        return value
    return None


def tmdb_id(value: object) -> int | None:
    """A TMDB id (a positive whole number, maybe as text) or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
        return number if number > 0 else None
    return None
