"""The SQLite backend: one database file, a writer connection and a pool of readers.

`SqliteStorage` is the `Storage` contract composed from one mixin per data area. The queries
both backends share are written once in `bot/storage/sql/` (run here through
`base.SqliteExecutor`, which rewrites `$N` to `?N`); this package holds what is SQLite's own:
`base` (the writer, the bulk connection, the reader pool, transactions), the FTS5 search
candidates (`search`), the /rate batcher (`ratings`, `rating_batch`), bulk inserts (`movies`,
`prior`), model blobs on the bulk connection (`saved_models`), the online backup (`guilds`),
linked media accounts (`media`), media libraries (`library`), movie nights
(`movie_nights`), and `connection`/`pool`/`migrations`/`bulk`."""

from __future__ import annotations

from ..sql.not_interested import NotInterestedQueries
from ..sql.settings import SettingsQueries
from ..sql.watchlist import WatchlistQueries
from .guilds import SqliteGuilds
from .library import SqliteLibrary
from .media import SqliteMedia
from .movie_nights import SqliteMovieNights
from .movies import SqliteMovies
from .prior import SqlitePrior
from .ratings import SqliteRatings
from .saved_models import SqliteSavedModels
from .search import SqliteSearch


class SqliteStorage(SqliteMovies, SqliteSearch, SqliteRatings, WatchlistQueries,
                     NotInterestedQueries, SettingsQueries, SqliteSavedModels, SqlitePrior,
                     SqliteGuilds, SqliteMedia, SqliteLibrary, SqliteMovieNights):
    """The `Storage` contract over an SQLite file (see docs/architecture.md)."""


__all__ = ["SqliteStorage"]
