"""The SQLite backend: one database file, a writer connection and a pool of readers.

`SqliteStorage` is the `Storage` contract composed from one mixin per data area (`movies`,
`search`, `ratings`, `watchlist`, `not_interested`, `settings`, `saved_models`, `prior`,
`guilds`, `media`, `library`, `movie_nights`), each built on `base.SqliteBase` (connections,
transactions, the reader pool).
`connection`/`pool`/`migrations` open and migrate the file; `bulk` serves refit workers.
"""

from __future__ import annotations

from .guilds import SqliteGuilds
from .library import SqliteLibrary
from .media import SqliteMedia
from .movie_nights import SqliteMovieNights
from .movies import SqliteMovies
from .not_interested import SqliteNotInterested
from .prior import SqlitePrior
from .ratings import SqliteRatings
from .saved_models import SqliteSavedModels
from .search import SqliteSearch
from .settings import SqliteSettings
from .watchlist import SqliteWatchlist


class SqliteStorage(SqliteMovies, SqliteSearch, SqliteRatings, SqliteWatchlist,
                    SqliteNotInterested, SqliteSettings, SqliteSavedModels, SqlitePrior,
                    SqliteGuilds, SqliteMedia, SqliteLibrary, SqliteMovieNights):
    """The `Storage` contract over an SQLite file (see docs/architecture.md)."""


__all__ = ["SqliteStorage"]
