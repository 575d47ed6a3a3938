"""The storage contract: every query the bot makes, behind one small async API.

`Storage` is abstract (Red-DiscordBot's `BaseDriver` is the model): services and cogs depend on
it alone, and each backend implements all of it — `sqlite.SqliteStorage` (one file, aiosqlite)
and `postgres.PostgresStorage` (asyncpg), composed from one mixin per data area. The contract
tests in `tests/storage` run on both. `open_storage(settings)` (in `bot.storage`) picks the
backend; `Storage.open(path)` opens an SQLite file.

Guild scoping is part of the contract: a movie is *visible* in guild G when `movies.guild_id
IS NULL` (the shared catalog) or `movies.guild_id = G` (added by G). Methods taking a guild id
never return, rate or resolve a movie that is not visible in that guild.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Self

import numpy as np

from bot.domain.library import LibraryItem, NotifyTarget, SeerrRequest
from bot.domain.media import HistoryWrite, MediaLink, SeenMovie
from bot.domain.models import ImportCounts, MovieDetails, NotInterested, WatchlistEntry
from bot.domain.movie_nights import NightEvent, StoredNight
from bot.domain.not_interested import MAX_NOT_INTERESTED
from bot.domain.watchlist import MAX_WATCHLIST

from .errors import StorageError
from .migration import Migration
from .models import (
    BulkResult,
    CatalogLinkRow,
    DatabaseSummary,
    GuildName,
    GuildSettings,
    Movie,
    MovieRow,
    PriorLink,
    PriorMovie,
    PriorStatus,
    RatedMovie,
    RatingArrays,
    SavedModel,
)


class Storage(ABC):
    """The bot's storage (see the module docstring and docs/architecture.md)."""

    path: Path  # the SQLite file; for PostgreSQL the URL without its password (messages only)
    database: str  # what a refit job opens (`bot.storage.bulk.connect`): a path or a URL

    # The backend `Storage.open(path)` opens a file with (set by `bot.storage`: the contract
    # knows no backend).
    file_backend: ClassVar[type[Storage] | None] = None

    # ----------------------------------------------------------------- lifecycle
    @classmethod
    async def open(
        cls, path: str | os.PathLike[str], *, migrations: list[Migration] | None = None
    ) -> Storage:
        """Open the SQLite database at `path` (creating it and its folder), set pragmas,
        apply migrations. A `postgresql://` URL is refused (StorageError): `open_storage`
        picks the backend."""
        backend = Storage.file_backend
        if backend is None or backend is cls:
            raise StorageError("no storage backend opens files")
        return await backend.open(path, migrations=migrations)

    @abstractmethod
    async def close(self) -> None:
        """Close every connection."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        await self.close()

    # ------------------------------------------------------ movies
    @abstractmethod
    async def add_movie(
        self,
        title: str,
        year: int | None,
        genres: Iterable[str] = (),
        *,
        guild_id: int | None = None,
        movielens_id: int | None = None,
        imdb_id: str | None = None,
        tmdb_id: int | None = None,
        alt_title: str | None = None,
        guild_cap: int | None = None,
    ) -> Movie:
        """Add one movie (guild_id None = shared catalog) and return it.

        Raises DuplicateMovieError(existing) when a movie with the same normalised title and
        year is already visible in that guild, or one that looks the same (the same
        `title_forms.skeleton`: "Аlien" with a Cyrillic А and "Alien"), or one with the same
        MovieLens id; ValueError for
        an empty or overlong title, and GuildMovieCapError when the guild already has
        `guild_cap` movies of its own (checked inside the insert's transaction, so concurrent
        adds cannot overshoot the cap).
        """

    @abstractmethod
    async def add_movies_bulk(self, rows: Sequence[MovieRow]) -> BulkResult:
        """Insert catalog movies (guild_id NULL) in one transaction; existing ones are skipped.

        A row is "existing" when a catalog movie has the same normalised title and year or
        the same MovieLens id. Missing MovieLens/IMDb/TMDb ids and empty genres of an
        existing movie are filled in from the row. Rows with an empty title count as existing.
        """

    @abstractmethod
    async def get_movie(self, guild_id: int | None, movie_id: int) -> Movie | None:
        """The movie with this id if it is visible in the guild, else None."""

    @abstractmethod
    async def get_movies(self, guild_id: int | None, ids: Iterable[int]) -> dict[int, Movie]:
        """The visible movies among `ids`, by id (invisible or unknown ids are left out)."""

    @abstractmethod
    async def movie_ids_with_genre(self, guild_id: int | None, genre: str) -> set[int]:
        """Ids of visible movies tagged with `genre` (case-insensitive, whole genre)."""

    @abstractmethod
    async def genres(self, guild_id: int | None) -> list[str]:
        """The distinct genres of the visible movies, sorted."""

    @abstractmethod
    async def count_guild_movies(self, guild_id: int) -> int:
        """How many movies this guild added (the catalog is not counted)."""

    @abstractmethod
    async def movie_count(self) -> int:
        """All movies in the database (catalog and every guild's)."""

    @abstractmethod
    async def catalog_count(self) -> int:
        """Movies in the shared catalog (guild_id NULL)."""

    @abstractmethod
    async def movies_by_imdb(self, guild_id: int, imdb_ids: Iterable[str]) -> dict[str, Movie]:
        """{IMDb id ("tt0114709"): movie} for the ids visible in the guild (its own first)."""

    @abstractmethod
    async def movies_by_title(self, guild_id: int,
                              norm_titles: Iterable[str]) -> dict[str, list[Movie]]:
        """{normalised title: the visible movies with it (the guild's own first)}."""

    @abstractmethod
    async def movie_details(self, movie_ids: Iterable[int]) -> dict[int, MovieDetails]:
        """The cached TMDB details of these movies (whatever their age)."""

    @abstractmethod
    async def link_movie_ids(self, movie_id: int, tmdb_id: int | None,
                             imdb_id: str | None) -> None:
        """Record a movie's TMDB and IMDb ids where it has none yet (a guild-added movie
        found on TMDB), so later imports match it by IMDb id."""

    @abstractmethod
    async def save_movie_details(self, details: MovieDetails) -> None:
        """Cache (or refresh) one movie's TMDB details; a movie gone meanwhile is skipped."""

    # ------------------------------------------------------ search
    @abstractmethod
    async def search_movies(
        self, guild_id: int | None, query: str, limit: int = 25, offset: int = 0
    ) -> list[Movie]:
        """Visible movies matching `query`, best first (typo, article and accent tolerant).

        Candidates come from the FTS5 trigram index (titles containing every query word; when
        those are few, also titles sharing any of the query's trigrams, best bm25 first) plus
        a prefix scan of the normalised titles (the only source for queries under three
        characters); they are ranked in Python by `search.Scorer`. A trailing year in
        the query ("dune 1984", "Dune (1984)") ranks that year's movie first.
        """

    @abstractmethod
    async def resolve_movie(self, guild_id: int | None, text: str) -> Movie | None:
        """The one movie meant by `text`, or None.

        Accepts an autocomplete value "#<id>" (only if visible in the guild) or an exact title,
        with or without "(Year)" (compared in normalised form). A title without a year that
        several visible movies share is ambiguous: None.
        """

    # ----------------------------------------------------- ratings
    @abstractmethod
    async def upsert_rating(
        self, guild_id: int, user_id: int, movie_id: int, score: int, *, unwatch: bool = False
    ) -> int | None:
        """Set a member's score (1..10) for a movie; returns the previous score or None.

        One row per guild+member+movie: re-rating updates score and updated_at. With
        `unwatch`, the movie leaves the member's watchlist in the same transaction (they
        watched it). Raises ValueError for a score outside 1..10 and UnknownMovieError when the
        movie is not visible in the guild.
        """

    @abstractmethod
    async def delete_rating(self, guild_id: int, user_id: int, movie_id: int) -> bool:
        """Remove one rating; True if there was one."""

    @abstractmethod
    async def delete_member_ratings(self, guild_id: int, user_id: int) -> int:
        """Remove all of a member's ratings in a guild; returns how many."""

    @abstractmethod
    async def get_rating(self, guild_id: int, user_id: int, movie_id: int) -> int | None:
        """A member's score for a movie, or None."""

    @abstractmethod
    async def member_ratings(
        self, guild_id: int, user_id: int, limit: int | None = None, offset: int = 0
    ) -> list[RatedMovie]:
        """A member's ratings in a guild, newest first."""

    @abstractmethod
    async def member_rating_arrays(self, guild_id: int,
                                   user_id: int) -> tuple[np.ndarray, np.ndarray]:
        """(movie ids int64, scores float32) of a member's ratings in a guild, movie order:
        what the recommender needs, without building a Movie per rating."""

    @abstractmethod
    async def count_member_ratings(self, guild_id: int, user_id: int) -> int:
        """How many movies the member rated in the guild."""

    @abstractmethod
    async def guild_has_ratings(self, guild_id: int) -> bool:
        """Whether anyone in the guild has rated a movie (one indexed lookup)."""

    @abstractmethod
    async def movie_stats(self, guild_id: int, movie_id: int) -> tuple[float | None, int]:
        """(mean score, number of ratings) of a movie in a guild; (None, 0) when unrated."""

    @abstractmethod
    async def score_counts(self, guild_id: int, movie_ids: Iterable[int]) -> dict[int, int]:
        """{score: how many ratings of these movies in the guild have it} (score charts; the
        covering index answers it, movie by movie)."""

    @abstractmethod
    async def score_totals(self, guild_id: int) -> dict[int, tuple[int, int]]:
        """{movie id: (sum of scores, number of ratings)} for every movie rated in the guild
        (what `/movies top` ranks; one pass over the covering index)."""

    @abstractmethod
    async def guild_score_total(self, guild_id: int) -> tuple[int, int]:
        """(sum of scores, number of ratings) over all of the guild's ratings."""

    @abstractmethod
    async def guild_ratings(self, guild_id: int) -> RatingArrays:
        """All of a guild's ratings as numpy columns, from one SELECT on the bulk connection.

        SQLite packs each member's ratings into two strings (movie ids comma-separated, scores
        one character each), so the result has one row per member instead of one per rating
        and numpy parses the strings in C: no Python object per rating. Members are read in
        chunks of RATINGS_CHUNK and parsed off the event loop. Rows come in primary-key order
        (member, then movie). user_ids/movie_ids are int64, scores float32.
        """

    @abstractmethod
    async def ratings_version(self, guild_id: int) -> tuple[int, int]:
        """(ratings version, number of ratings) of the guild: the version grows with every
        change of its ratings (kept by triggers); (0, 0) for a guild without ratings."""

    @abstractmethod
    async def import_history(self, guild_id: int, user_id: int,
                             ratings: Sequence[tuple[int, int]],
                             watchlist: Sequence[int] = (), *,
                             watchlist_cap: int = MAX_WATCHLIST) -> ImportCounts:
        """Write a member's imported ratings ((movie id, score 1..10), one per movie) and
        watchlist in one transaction: all of it or, on any error, none. Rated movies leave
        the watchlist; watchlisted movies the member has rated are skipped, and those past
        `watchlist_cap` (counted with what the watchlist already holds) are left off."""

    # --------------------------------------------------- watchlist
    @abstractmethod
    async def watchlist_add(self, guild_id: int, user_id: int, movie_id: int, *,
                            cap: int = MAX_WATCHLIST) -> bool:
        """Put a visible movie on the member's watchlist; False if it already was there.
        UnknownMovieError when the movie is not visible in the guild, WatchlistCapError when
        the watchlist already holds `cap` movies (checked in the insert's transaction)."""

    @abstractmethod
    async def watchlist_add_members(self, guild_id: int, user_ids: Iterable[int],
                                    movie_id: int, *, cap: int = MAX_WATCHLIST) -> int:
        """Put one movie on several members' watchlists (those who have not rated it and
        whose watchlist holds fewer than `cap` movies); returns how many watchlists gained
        it."""

    @abstractmethod
    async def watchlist_remove(self, guild_id: int, user_id: int,
                               movie_ids: Iterable[int]) -> int:
        """Take movies off the member's watchlist; returns how many were on it."""

    @abstractmethod
    async def watchlist(self, guild_id: int, user_id: int, limit: int | None = None,
                        offset: int = 0) -> list[WatchlistEntry]:
        """The member's watchlist in the guild, newest first."""

    @abstractmethod
    async def count_watchlist(self, guild_id: int, user_id: int) -> int:
        """How many movies the member's watchlist in the guild holds."""

    @abstractmethod
    async def watchlist_counts(self, guild_id: int,
                               user_ids: Iterable[int]) -> dict[int, int]:
        """{movie id: how many of these members have it on their watchlist}."""

    @abstractmethod
    async def delete_member_watchlist(self, guild_id: int, user_id: int) -> int:
        """Empty the member's watchlist in the guild; returns how many entries it had."""

    # ---------------------------------------------- not interested
    @abstractmethod
    async def not_interested_add(self, guild_id: int, user_id: int, movie_id: int, *,
                                 cap: int = MAX_NOT_INTERESTED) -> bool:
        """Hide a visible movie from the member's picks; False if it already was hidden.
        UnknownMovieError when the movie is not visible in the guild. At `cap` entries the
        oldest is forgotten (in the same transaction)."""

    @abstractmethod
    async def not_interested_remove(self, guild_id: int, user_id: int,
                                    movie_ids: Iterable[int]) -> int:
        """Show movies in the member's picks again; returns how many were hidden."""

    @abstractmethod
    async def not_interested_ids(self, guild_id: int, user_id: int) -> list[int]:
        """Ids of the movies the member hid in the guild, by id."""

    @abstractmethod
    async def not_interested(self, guild_id: int, user_id: int, limit: int | None = None,
                             offset: int = 0) -> list[NotInterested]:
        """The movies the member hid from their picks in the guild, newest first."""

    @abstractmethod
    async def count_not_interested(self, guild_id: int, user_id: int) -> int:
        """How many movies the member hid in the guild."""

    @abstractmethod
    async def delete_member_not_interested(self, guild_id: int, user_id: int) -> int:
        """Forget every movie the member hid in the guild; returns how many there were."""

    # ---------------------------------------------------- settings
    @abstractmethod
    async def get_guild_settings(self, guild_id: int) -> GuildSettings:
        """The guild's settings (defaults when it never changed any)."""

    @abstractmethod
    async def update_guild_settings(self, guild_id: int, **changes: Any) -> GuildSettings:
        """Change some settings (keyword names as in GuildSettings); returns the new settings.

        ValueError for an unknown name or a bad value; None resets a numeric setting to the
        config default.
        """

    @abstractmethod
    async def setup_step_done(self, name: str) -> bool:
        """Whether the one-off set-up step `name` (e.g. "starter_catalog") was done here."""

    @abstractmethod
    async def mark_setup_step(self, name: str) -> None:
        """Record the set-up step `name` as done (again: keeps the first time)."""

    # ------------------------------------------------ saved models
    @abstractmethod
    async def save_model(self, guild_id: int, blob: bytes, *,
                         ratings_version: int | None = None, settings_key: str = "") -> bool:
        """Store the guild's serialised model (on the bulk connection), trained on ratings
        version `ratings_version` (None: the current one) with `settings_key`. A model of
        older ratings never replaces a newer one: returns False then."""

    @abstractmethod
    async def delete_model(self, guild_id: int) -> None:
        """Forget the guild's saved model (a member was forgotten): an empty tombstone at the
        current ratings version, so a fit of older ratings still running cannot save the
        forgotten member back."""

    @abstractmethod
    async def load_model(self, guild_id: int) -> bytes | None:
        """The guild's saved model blob, or None (none saved, or forgotten)."""

    @abstractmethod
    async def load_model_state(self, guild_id: int) -> SavedModel | None:
        """The saved model with the ratings version and settings it was trained on."""

    # ------------------------------------------------------- prior
    @abstractmethod
    async def save_prior(
        self,
        blob: bytes,
        *,
        source: str,
        id_kind: str,
        movies: Sequence[PriorMovie],
        stored_keys: Iterable[int],
        links: Sequence[PriorLink],
        dataset_users: int,
        dataset_ratings: int,
    ) -> None:
        """Install (replace) the taste prior in one transaction.

        `blob` is `TastePrior.to_bytes()`; `movies` the dataset's whole movie list;
        `stored_keys` the movies whose factors the blob holds; `links` the catalog movies
        linked to them (ones naming an unknown movie or an unstored key are dropped).
        """

    @abstractmethod
    async def replace_prior_links(self, links: Sequence[PriorLink]) -> bool:
        """Replace every catalog link of the installed prior (and stamp `linked_at`).

        False (nothing written) when no prior is installed.
        """

    @abstractmethod
    async def has_prior(self) -> bool:
        """True when a taste prior is installed."""

    @abstractmethod
    async def prior_stamp(self) -> tuple[float, float] | None:
        """(built_at, linked_at) of the installed prior, or None: a change means refits."""

    @abstractmethod
    async def load_prior(self) -> bytes | None:
        """The installed prior's blob (`TastePrior.from_bytes`), or None (bulk connection)."""

    @abstractmethod
    async def prior_links(self) -> tuple[np.ndarray, np.ndarray]:
        """(catalog movie ids int64, prior keys int64) of the links, by movie id; both empty
        when no prior is installed. Feed them to `TastePrior.for_movies(ids, keys)`."""

    @abstractmethod
    async def prior_status(self) -> PriorStatus | None:
        """What is installed (source, dates, sizes, link counts), or None."""

    @abstractmethod
    async def prior_movies(self, *, stored_only: bool = False) -> list[PriorMovie]:
        """The installed prior's dataset movies (only those in the blob if `stored_only`)."""

    @abstractmethod
    async def prior_stored_keys(self) -> set[int]:
        """Keys of the prior movies whose factors the blob holds."""

    @abstractmethod
    async def catalog_link_rows(self) -> list[CatalogLinkRow]:
        """Every shared-catalog movie with what linking compares (ids, title, year)."""

    @abstractmethod
    async def delete_prior(self) -> bool:
        """Remove the taste prior (blob, movie list, links); True if one was installed."""

    # ------------------------------------------------------ guilds
    @abstractmethod
    async def mark_guild_left(
        self, guild_id: int, at: datetime | float | None = None
    ) -> None:
        """Record that the bot left (was removed from) the guild at `at` (default: now); an
        earlier record stands, so the grace period is never restarted."""

    @abstractmethod
    async def guilds_with_data(self) -> set[int]:
        """Every guild that has ratings, added movies, settings or a saved model here."""

    @abstractmethod
    async def save_guild_names(self, guilds: Iterable[GuildName]) -> None:
        """Remember each server's name and member count (for `stats`), replacing older ones."""

    @abstractmethod
    async def mark_guild_joined(self, guild_id: int) -> None:
        """The bot is (back) in the guild: cancel a pending purge."""

    @abstractmethod
    async def guilds_left_before(self, cutoff: datetime | float) -> list[int]:
        """Guilds the bot left before `cutoff` (candidates for purge_guild)."""

    @abstractmethod
    async def member_tables(self) -> dict[str, tuple[str, ...]]:
        """The tables of the schema with a `user_id` column (members' rows): {name: columns}."""

    @abstractmethod
    async def forget_member_rows(self, guild_id: int, user_id: int,
                                 tables: Sequence[str]) -> dict[str, int]:
        """Delete a member's rows in a guild from each of `tables` (keyed by guild_id and
        user_id: the member-data registry's), all in one transaction; {table: rows deleted}."""

    @abstractmethod
    async def purge_guild(self, guild_id: int,
                          member_tables: Sequence[str] | None = None) -> int:
        """Delete everything a guild stored: members' rows (`member_tables`, the member-data
        registry's; None: every table with a `user_id` column), its movies, settings, model.

        Returns the number of rows deleted (all tables together). The shared catalog stays.
        """


    @abstractmethod
    async def summary(self, busiest: int = 5) -> DatabaseSummary:
        """The database in a few numbers (`python -m bot stats`); reads only."""

    @abstractmethod
    async def backup(self, dest_path: str | os.PathLike[str]) -> Path:
        """Copy the database to `dest_path` with SQLite's online backup API.

        Written to a temporary file next to the destination, then renamed, so a failed
        backup never leaves a half-written file under the final name.
        """

    # ------------------------------------------------------ movie nights
    @abstractmethod
    async def save_movie_night(self, night: StoredNight) -> None:
        """Store an open movie-night vote with its members' parts (replacing what was stored
        for it)."""

    @abstractmethod
    async def movie_night_vote(self, guild_id: int, night_id: int, user_id: int,
                               vote: int | None) -> None:
        """A member's button vote in a stored night (they now take part)."""

    @abstractmethod
    async def delete_movie_night(self, guild_id: int, night_id: int) -> None:
        """Forget a night (it closed) and its members' parts."""

    @abstractmethod
    async def open_movie_nights(self, guild_ids: Sequence[int]) -> list[StoredNight]:
        """The stored nights of these guilds, soonest to close first."""

    @abstractmethod
    async def save_night_event(self, event: NightEvent) -> None:
        """Store a winner's scheduled event until its reminder (replacing one stored)."""

    @abstractmethod
    async def delete_night_event(self, guild_id: int, event_id: int) -> None:
        """The event's reminder is done (or the event is gone)."""

    @abstractmethod
    async def night_events(self, guild_ids: Sequence[int]) -> list[NightEvent]:
        """The stored events of these guilds, soonest reminder first."""

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
