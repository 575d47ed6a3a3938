"""The PostgreSQL backend: an asyncpg pool.

`PostgresStorage` is the `Storage` contract composed from one mixin per data area. The queries
both backends share are written once in `bot/storage/sql/` (run here through
`base.PostgresExecutor`, on the pool or a transaction's connection); this package holds what is
PostgreSQL's own: the pg_trgm search candidates (`search`), `unnest` bulk inserts (`movies`,
`prior`, `ratings`), the binary COPY reads and model saves (`bulk`, `saved_models`), linked
media accounts (`media`), media libraries (`library`), movie nights (`movie_nights`), and the
`migrations` (the same versions as SQLite's)."""

from __future__ import annotations

from ..sql.not_interested import NotInterestedQueries
from ..sql.settings import SettingsQueries
from ..sql.watchlist import WatchlistQueries
from .guilds import PostgresGuilds
from .library import PostgresLibrary
from .media import PostgresMedia
from .movie_nights import PostgresMovieNights
from .movies import PostgresMovies
from .prior import PostgresPrior
from .ratings import PostgresRatings
from .saved_models import PostgresSavedModels
from .search import PostgresSearch


class PostgresStorage(PostgresMovies, PostgresSearch, PostgresRatings, WatchlistQueries,
                       NotInterestedQueries, SettingsQueries, PostgresSavedModels, PostgresPrior,
                       PostgresGuilds, PostgresMedia, PostgresLibrary, PostgresMovieNights):
    """The `Storage` contract on PostgreSQL (see docs/architecture.md)."""


__all__ = ["PostgresStorage"]
