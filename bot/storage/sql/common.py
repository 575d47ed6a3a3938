"""Constants, SQL fragments and row helpers both backends use (no I/O)."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bot.domain.genres import split_genres
from bot.domain.guild_settings import GUILD_SETTINGS

from ..errors import UnknownMovieError
from ..models import Movie
from .executor import Executor

MAX_QUERY_LENGTH = 300
SEARCH_CANDIDATES = 200  # rows pulled from the trigram index per query and phase
FUZZY_BELOW = 10  # fewer exact-substring hits than this: also pull trigram (typo) matches
PREFIX_CANDIDATES = 50  # rows pulled by prefix on the normalised title
MIN_SEARCH_SCORE = 0.3  # below this a candidate shares too little with the query
MAX_SQL_INT = 2**63 - 1  # the INTEGER/bigint range: a larger id would overflow the binding
ID_RE = re.compile(r"#([0-9]{1,19})")  # ASCII digits only: "#１２" is no id
TOP_CHAR = "\U0010ffff"  # sorts after every character: the end of a prefix range
ADD_MOVIE_LOCK = 0x6D6F7661  # one movie insert (check + insert) at a time (PostgreSQL)
WATCHLIST_LOCK = 0x77617463  # one watchlist write per guild at a time (PostgreSQL)


def visible(n: int) -> str:
    """SQL true when movie `m` is visible in the guild bound as parameter `n`: the shared
    catalog (guild_id NULL) or the guild's own."""
    return f"(m.guild_id IS NULL OR m.guild_id = ${n})"


VISIBLE_2 = visible(2)
SETTINGS_COLUMNS = tuple(setting.name for setting in GUILD_SETTINGS)
# A guild's own tables, purged after its members' rows (which may refer to its movies).
GUILD_TABLES = ("movies", "guild_settings", "model_state", "guild_versions", "guild_names",
                "movie_nights", "movie_night_events", "movie_night_joins")
_SQL_NAME = re.compile(r"[a-z_][a-z0-9_]*")

# `stats`' busiest servers with their names ($1: how many; SQLite binds it as ?).
BUSIEST_SQL = (
    "SELECT r.guild_id, r.n, r.members, r.last_at, g.name FROM ("
    "SELECT guild_id, count(*) AS n, count(DISTINCT user_id) AS members, "
    "max(updated_at) AS last_at FROM ratings GROUP BY guild_id ORDER BY n DESC, guild_id "
    "LIMIT $1) r LEFT JOIN guild_names g ON g.guild_id = r.guild_id "
    "ORDER BY r.n DESC, r.guild_id")


def movie_from_row(row: Sequence[Any]) -> Movie:
    """A `Movie` from a row that starts with `MOVIE_COLUMNS`."""
    return Movie(row[0], row[1], row[2], split_genres(row[3]), row[4], row[5], row[6], row[7])


def epoch(value: datetime | float | int | None) -> float:
    """Seconds since the epoch of a datetime (naive: UTC) or a number; None: now."""
    if value is None:
        return time.time()
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.timestamp()
    return float(value)


def sql_name(name: str) -> str:
    """A table name checked to be a plain identifier before it goes into SQL."""
    if not _SQL_NAME.fullmatch(name):
        raise ValueError(f"not a table name: {name!r}")
    return name


async def require_visible(db: Executor, guild_id: int | None, movie_id: int) -> None:
    """UnknownMovieError unless the movie exists and is visible in the guild."""
    if not -MAX_SQL_INT - 1 <= movie_id <= MAX_SQL_INT or await db.fetchone(
            f"SELECT 1 FROM movies m WHERE m.id = $1 AND {VISIBLE_2}",
            movie_id, guild_id) is None:
        raise UnknownMovieError(f"movie #{movie_id} is not in this server's catalog")
