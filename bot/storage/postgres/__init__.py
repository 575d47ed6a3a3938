"""The PostgreSQL backend: an asyncpg pool.

`PostgresStorage` is the `Storage` contract composed from one mixin per data area (`movies`,
`search`, `ratings`, `watchlist`, `not_interested`, `settings`, `saved_models`, `prior`,
`guilds`, `media`, `library`, `movie_nights`), each built on `base.PostgresBase` (the pool,
transactions). `migrations` builds the schema (the same versions as SQLite's); `bulk` holds the
binary COPY reads and model saves, for the async storage and for refit workers.
"""

from __future__ import annotations

from .guilds import PostgresGuilds
from .library import PostgresLibrary
from .media import PostgresMedia
from .movie_nights import PostgresMovieNights
from .movies import PostgresMovies
from .not_interested import PostgresNotInterested
from .prior import PostgresPrior
from .ratings import PostgresRatings
from .saved_models import PostgresSavedModels
from .search import PostgresSearch
from .settings import PostgresSettings
from .watchlist import PostgresWatchlist


class PostgresStorage(PostgresMovies, PostgresSearch, PostgresRatings, PostgresWatchlist,
                    PostgresNotInterested, PostgresSettings, PostgresSavedModels, PostgresPrior,
                    PostgresGuilds, PostgresMedia, PostgresLibrary, PostgresMovieNights):
    """The `Storage` contract on PostgreSQL (see docs/architecture.md)."""


__all__ = ["PostgresStorage"]
