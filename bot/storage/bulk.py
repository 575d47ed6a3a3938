"""Storage for refit workers: synchronous calls, from a worker thread or process.

A refit runs as one job away from the bot's event loop (`bot/service/worker.py`): it reads the
guild's ratings (with the ratings version they make up, in one snapshot), the movies' genres
and years, the installed taste prior, and saves the model — all through these functions, on a
short-lived connection of its own. `connect` takes the database as the job carries it: an
SQLite path (plain `sqlite3`, `sqlite.bulk`) or a `postgresql://` URL (a `PgBulkConnection`
running `postgres.bulk`'s asyncpg calls on a private loop); every other function takes what
`connect` yields and calls that backend's version.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeAlias

import numpy as np

from bot.domain.models import Movie

from .models import PriorRows, RatingArrays, SavedModel
from .postgres import bulk as pg_bulk
from .sqlite import bulk as lite
from .urls import is_postgres_url

BulkConnection: TypeAlias = sqlite3.Connection | pg_bulk.PgBulkConnection  # what connect yields


@contextmanager
def connect(path: str | Path) -> Iterator[BulkConnection]:
    """A short-lived connection to a database the bot has already migrated: an SQLite file,
    or a PostgreSQL URL (a `PgBulkConnection`)."""
    if is_postgres_url(path):
        handle = pg_bulk.PgBulkConnection(str(path))
        try:
            yield handle
        finally:
            handle.close()
        return
    with lite.connect(path) as conn:
        yield conn


def ratings_version(conn: BulkConnection, guild_id: int) -> tuple[int, int]:
    """(ratings version, number of ratings) of the guild; (0, 0) when it has none."""
    if isinstance(conn, sqlite3.Connection):
        return lite.ratings_version(conn, guild_id)
    return conn.run(pg_bulk.ratings_version(conn.conn, guild_id))


def read_guild_ratings(conn: BulkConnection, guild_id: int) -> tuple[RatingArrays, int]:
    """The guild's ratings as numpy columns and the ratings version they make up (one read
    transaction: a consistent snapshot under WAL; on PostgreSQL a repeatable-read binary
    COPY)."""
    if isinstance(conn, sqlite3.Connection):
        return lite.read_guild_ratings(conn, guild_id)
    return conn.run(pg_bulk.read_guild_ratings(conn.conn, guild_id))


def movies_by_id(conn: BulkConnection, guild_id: int, ids: np.ndarray) -> list[Movie]:
    """The movies among `ids` visible in the guild (for their genres and years)."""
    if isinstance(conn, sqlite3.Connection):
        return lite.movies_by_id(conn, guild_id, ids)
    return conn.run(pg_bulk.movies_by_id(conn.conn, guild_id, ids))


def load_model_state(conn: BulkConnection, guild_id: int) -> SavedModel | None:
    """The guild's saved model with the ratings version and settings it was trained on."""
    if isinstance(conn, sqlite3.Connection):
        return lite.load_model_state(conn, guild_id)
    return conn.run(pg_bulk.load_model_state(conn.conn, guild_id))


def save_model(conn: BulkConnection, guild_id: int, blob: bytes, *,
               ratings_version: int, settings_key: str) -> bool:
    """Store the guild's model unless a model of newer ratings is already saved; True if it
    was stored."""
    if isinstance(conn, sqlite3.Connection):
        return lite.save_model(conn, guild_id, blob, ratings_version=ratings_version,
                               settings_key=settings_key)
    return conn.run(pg_bulk.save_model(conn.conn, guild_id, blob,
                                       ratings_version=ratings_version,
                                       settings_key=settings_key))


def read_prior(conn: BulkConnection) -> PriorRows | None:
    """The installed prior with its links, or None (no prior, or nothing linked)."""
    if isinstance(conn, sqlite3.Connection):
        return lite.read_prior(conn)
    return conn.run(pg_bulk.read_prior(conn.conn))


def prior_stamp(conn: BulkConnection) -> tuple[float, float] | None:
    """(built_at, linked_at) of the installed prior, or None."""
    if isinstance(conn, sqlite3.Connection):
        return lite.prior_stamp(conn)
    return conn.run(pg_bulk.prior_stamp(conn.conn))
