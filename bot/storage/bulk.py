"""Storage for refit workers: plain synchronous SQLite, from a worker thread or process.

A refit runs as one job away from the bot's event loop (`bot/service/worker.py`): it reads the
guild's ratings (with the ratings version they make up, in one read transaction), the movies'
genres and years, the installed taste prior, and saves the model — all through these functions,
on a short-lived connection of its own. Nothing here is async and nothing runs on the loop; the
SQL of these reads and writes lives here, shared with the async `Storage` where both need it.

Every function also takes the PostgreSQL handle `connect` returns for a `postgresql://` URL
(`pg_bulk.PgBulkConnection`): a refit job carries the database as a path or a URL and reads
and saves through the same calls either way.

The save is guarded by the ratings version: a model trained on older ratings never replaces one
trained on newer ratings, and a "forgotten" tombstone (an empty blob at the version of the
deletion) keeps an older fit from writing a forgotten member back.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

from bot.domain.genres import split_genres
from bot.domain.models import Movie

from .connection import BUSY_TIMEOUT_MS
from .models import MOVIE_COLUMNS, PriorRows, RatingArrays, SavedModel

if TYPE_CHECKING:
    from .pg_bulk import PgBulkConnection

    BulkConnection: TypeAlias = sqlite3.Connection | PgBulkConnection  # what connect yields

POSTGRES_SCHEMES = ("postgresql://", "postgres://")

RATINGS_SQL = (
    "SELECT user_id, group_concat(movie_id), group_concat(char(48 + score), '') "
    "FROM ratings WHERE guild_id = ? GROUP BY user_id ORDER BY user_id")
VERSION_SQL = "SELECT ratings_version, ratings_count FROM guild_versions WHERE guild_id = ?"
SAVE_MODEL_SQL = (
    "INSERT INTO model_state (guild_id, blob, saved_at, ratings_version, settings_key) "
    "VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (guild_id) DO UPDATE SET blob = excluded.blob, saved_at = excluded.saved_at, "
    "ratings_version = excluded.ratings_version, settings_key = excluded.settings_key "
    "WHERE excluded.ratings_version >= model_state.ratings_version")
FORGET_MODEL_SQL = (
    "INSERT INTO model_state (guild_id, blob, saved_at, ratings_version, settings_key) "
    "VALUES (?1, x'', ?2, (SELECT IFNULL(max(ratings_version), 0) FROM guild_versions "
    "WHERE guild_id = ?1), '') "
    "ON CONFLICT (guild_id) DO UPDATE SET blob = x'', saved_at = excluded.saved_at, "
    "ratings_version = excluded.ratings_version, settings_key = ''")
MODEL_STATE_SQL = (
    "SELECT blob, ratings_version, settings_key FROM model_state WHERE guild_id = ?")
CHUNK = 1024  # members per fetchmany()


def parse_member_rows(rows: Sequence[Sequence[Any]]
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(user_id, "m1,m2,...", "<score chars>") rows -> user, movie and score columns."""
    movies = [np.fromstring(text, dtype=np.int64, sep=",") for _, text, _ in rows]
    scores = [np.frombuffer(chars.encode("ascii"), dtype=np.uint8) for _, _, chars in rows]
    counts = np.fromiter((len(m) for m in movies), dtype=np.int64, count=len(rows))
    users = np.repeat(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)), counts)
    return (users, np.concatenate(movies),
            (np.concatenate(scores) - 48).astype(np.float32))


def join_columns(users: list[np.ndarray], movies: list[np.ndarray],
                 scores: list[np.ndarray]) -> RatingArrays:
    if not users:
        empty = np.empty(0, dtype=np.int64)
        return RatingArrays(empty, empty.copy(), np.empty(0, dtype=np.float32))
    return RatingArrays(np.concatenate(users), np.concatenate(movies), np.concatenate(scores))


def _pg(conn: Any) -> PgBulkConnection | None:
    return None if isinstance(conn, sqlite3.Connection) else conn


@contextmanager
def connect(path: str | Path) -> Iterator[sqlite3.Connection | PgBulkConnection]:
    """A short-lived connection to a database the bot has already migrated: an SQLite file,
    or a PostgreSQL URL (a `PgBulkConnection`)."""
    if isinstance(path, str) and path.startswith(POSTGRES_SCHEMES):
        from .pg_bulk import PgBulkConnection

        handle = PgBulkConnection(path)
        try:
            yield handle
        finally:
            handle.close()
        return
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        yield conn
    finally:
        conn.close()


def ratings_version(conn: sqlite3.Connection | PgBulkConnection,
                    guild_id: int) -> tuple[int, int]:
    """(ratings version, number of ratings) of the guild; (0, 0) when it has none."""
    if (pg := _pg(conn)) is not None:
        from . import pg_bulk

        return pg.run(pg_bulk.ratings_version(pg.conn, guild_id))
    assert isinstance(conn, sqlite3.Connection)
    row = conn.execute(VERSION_SQL, (guild_id,)).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def read_guild_ratings(conn: sqlite3.Connection | PgBulkConnection,
                       guild_id: int) -> tuple[RatingArrays, int]:
    """The guild's ratings as numpy columns and the ratings version they make up (one read
    transaction: a consistent snapshot under WAL; on PostgreSQL a repeatable-read binary
    COPY)."""
    if (pg := _pg(conn)) is not None:
        from . import pg_bulk

        return pg.run(pg_bulk.read_guild_ratings(pg.conn, guild_id))
    assert isinstance(conn, sqlite3.Connection)
    users: list[np.ndarray] = []
    movies: list[np.ndarray] = []
    scores: list[np.ndarray] = []
    conn.execute("BEGIN")
    try:
        version, _count = ratings_version(conn, guild_id)
        cursor = conn.execute(RATINGS_SQL, (guild_id,))
        while rows := cursor.fetchmany(CHUNK):
            u, m, r = parse_member_rows(rows)
            users.append(u)
            movies.append(m)
            scores.append(r)
    finally:
        conn.execute("COMMIT")
    return join_columns(users, movies, scores), version


def movies_by_id(conn: sqlite3.Connection | PgBulkConnection, guild_id: int,
                 ids: np.ndarray) -> list[Movie]:
    """The movies among `ids` visible in the guild (for their genres and years)."""
    if (pg := _pg(conn)) is not None:
        from . import pg_bulk

        return pg.run(pg_bulk.movies_by_id(pg.conn, guild_id, ids))
    assert isinstance(conn, sqlite3.Connection)
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS wanted_ids (id INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM wanted_ids")
    conn.executemany("INSERT OR IGNORE INTO wanted_ids (id) VALUES (?)",
                     ((int(i),) for i in ids))
    rows = conn.execute(
        f"SELECT {MOVIE_COLUMNS} FROM movies m JOIN wanted_ids w ON w.id = m.id "
        "WHERE m.guild_id IS NULL OR m.guild_id = ?", (guild_id,)).fetchall()
    return [Movie(r[0], r[1], r[2], split_genres(r[3]), r[4], r[5], r[6], r[7]) for r in rows]


def load_model_state(conn: sqlite3.Connection | PgBulkConnection,
                     guild_id: int) -> SavedModel | None:
    if (pg := _pg(conn)) is not None:
        from . import pg_bulk

        return pg.run(pg_bulk.load_model_state(pg.conn, guild_id))
    assert isinstance(conn, sqlite3.Connection)
    row = conn.execute(MODEL_STATE_SQL, (guild_id,)).fetchone()
    if row is None:
        return None
    return SavedModel(bytes(row[0]) or None, int(row[1]), str(row[2]))


def save_model(conn: sqlite3.Connection | PgBulkConnection, guild_id: int, blob: bytes, *,
               ratings_version: int, settings_key: str) -> bool:
    """Store the guild's model unless a model of newer ratings is already saved; True if it
    was stored."""
    if (pg := _pg(conn)) is not None:
        from . import pg_bulk

        return pg.run(pg_bulk.save_model(
            pg.conn, guild_id, blob, ratings_version=ratings_version,
            settings_key=settings_key))
    assert isinstance(conn, sqlite3.Connection)
    cursor = conn.execute(SAVE_MODEL_SQL, (guild_id, bytes(blob), time.time(),
                                           int(ratings_version), settings_key))
    return cursor.rowcount > 0


def read_prior(conn: sqlite3.Connection | PgBulkConnection) -> PriorRows | None:
    """The installed prior with its links, or None (no prior, or nothing linked)."""
    if (pg := _pg(conn)) is not None:
        from . import pg_bulk

        return pg.run(pg_bulk.read_prior(pg.conn))
    assert isinstance(conn, sqlite3.Connection)
    state = conn.execute("SELECT built_at, linked_at, blob FROM prior_state").fetchone()
    if state is None:
        return None
    rows = conn.execute("SELECT movie_id, key FROM prior_links ORDER BY movie_id").fetchall()
    if not rows:
        return None
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    keys = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
    return PriorRows((float(state[0]), float(state[1])), bytes(state[2]), ids, keys)


def prior_stamp(conn: sqlite3.Connection | PgBulkConnection) -> tuple[float, float] | None:
    """(built_at, linked_at) of the installed prior, or None."""
    if (pg := _pg(conn)) is not None:
        from . import pg_bulk

        return pg.run(pg_bulk.prior_stamp(pg.conn))
    assert isinstance(conn, sqlite3.Connection)
    row = conn.execute("SELECT built_at, linked_at FROM prior_state").fetchone()
    return (float(row[0]), float(row[1])) if row else None
