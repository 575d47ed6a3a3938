"""SQLite storage, movie nights (restart-safe votes, issue 26): the shared
`sql/movie_nights.py`, with the order members come back in."""

from __future__ import annotations

from ..sql.movie_nights import MovieNightQueries
from .base import SqliteBase


class SqliteMovieNights(MovieNightQueries, SqliteBase):
    """Movie nights' SQLite part."""

    MEMBERS_ORDER = "rowid"
