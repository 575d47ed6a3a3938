"""PostgreSQL storage, movie nights (restart-safe votes, issue 26): the shared
`sql/movie_nights.py`, with the order members come back in."""

from __future__ import annotations

from ..sql.movie_nights import MovieNightQueries
from .base import PostgresBase


class PostgresMovieNights(MovieNightQueries, PostgresBase):
    """Movie nights' PostgreSQL part."""

    MEMBERS_ORDER = "guild_id, night_id, starter DESC, user_id"
