"""The domain's value types: a movie, a member's rating of one, a guild's settings.

Plain frozen dataclasses with no I/O; storage returns them, services and cogs pass them around.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

AddMoviePermission = Literal["manage_guild", "everyone"]
ADD_MOVIE_PERMISSIONS: tuple[str, ...] = ("manage_guild", "everyone")


@dataclass(frozen=True, slots=True)
class Movie:
    """One catalog (guild_id None) or guild-added movie."""

    id: int
    title: str
    year: int | None
    genres: tuple[str, ...] = ()
    guild_id: int | None = None
    movielens_id: int | None = None
    imdb_id: str | None = None
    tmdb_id: int | None = None

    @property
    def label(self) -> str:
        """"Title (Year)", or just the title when the year is unknown."""
        return f"{self.title} ({self.year})" if self.year else self.title


@dataclass(frozen=True, slots=True)
class RatedMovie:
    """A member's rating of a movie, as listed by `Storage.member_ratings`."""

    movie: Movie
    score: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class GuildSettings:
    """Per-guild settings; None means "use the config default"."""

    guild_id: int
    add_movie_permission: AddMoviePermission = "manage_guild"
    ratings_visible: bool = True
    min_ratings_for_personal: int | None = None
    features: int | None = None
    regularization: float | None = None
    timezone: str = ""  # IANA name; "" = UTC
    region: str = ""  # ISO 3166-1 alpha-2; "" = not set
    services: str = ""  # the server's streaming services, comma-separated
    reminder_minutes: int = 30  # movie-night event reminder; 0 = none
    language: str = "en"  # replies when a member's own client language is not spoken


@dataclass(frozen=True, slots=True)
class WatchlistEntry:
    """A movie on a member's watchlist, as listed by `Storage.watchlist`."""

    movie: Movie
    added_at: datetime


@dataclass(frozen=True, slots=True)
class NotInterested:
    """A movie a member said they are not interested in, as listed by
    `Storage.not_interested`: hidden from their picks until they undo it."""

    movie: Movie
    since: datetime


@dataclass(frozen=True, slots=True)
class ImportCounts:
    """What `Storage.import_history` wrote in its one transaction."""

    added: int  # new ratings
    changed: int  # existing ratings given another score
    unchanged: int  # existing ratings the file gave the same score
    watchlisted: int  # movies newly on the watchlist
    watchlist_full: int = 0  # movies left off: the watchlist reached its cap


@dataclass(frozen=True, slots=True)
class MovieDetails:
    """What TMDB says about a catalog movie (`bot.tmdb`), cached per movie with its fetch
    time; `tmdb_id` None = TMDB has no such movie (cached too, so it is not asked again)."""

    movie_id: int
    tmdb_id: int | None
    fetched_at: float
    poster_url: str | None = None
    overview: str | None = None
    runtime: int | None = None  # minutes
    original_title: str | None = None
    imdb_id: str | None = None  # from TMDB, for linking a movie (not kept in the cache)
    collection_id: int | None = None  # TMDB collection (a franchise: one per /recommend page)
    original_language: str | None = None  # ISO 639-1, e.g. "en"
    # {region: age rating} and {region: {kind: [service names]}} (`bot.domain.watch`)
    certifications: dict[str, str] = field(default_factory=dict, compare=False)
    providers: dict[str, dict[str, list[str]]] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class MovieFacts:
    """What tonight's filters read of a visible movie: the catalog's year and genres and the
    cached TMDB details (raw JSON for age ratings and providers; `has_details` False when
    TMDB was never asked about it)."""

    movie_id: int
    year: int | None
    genres: str  # "A|B|C"
    runtime: int | None
    original_language: str | None
    certifications: str | None
    providers: str | None
    has_details: bool
