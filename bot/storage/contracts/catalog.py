"""The storage contract, part one: the catalog and the servers (movies, search, settings, saved
models, the prior, guilds)."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from bot.domain.models import MovieDetails, MovieFacts

from ..models import (
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
    SavedModel,
)


class CatalogContract(ABC):
    """The catalog and the servers: movies, search, settings, saved models, the prior, guilds."""

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
    async def movie_facts(self, guild_id: int) -> list[MovieFacts]:
        """Every visible movie's year, genres and cached TMDB details (tonight's filters)."""

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
