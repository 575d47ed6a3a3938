"""Storage for refit workers on SQLite: plain synchronous sqlite3, from a worker thread or process.

A refit runs as one job away from the bot's event loop (`bot/service/worker.py`): it reads the
guild's ratings (with the ratings version they make up, in one read transaction), the movies'
genres and years, the installed taste prior, and saves the model — through these functions
(reached via `bot.storage.bulk`, which picks this module or `postgres.bulk`), on a short-lived
connection of its own. Nothing here is async and nothing runs on the loop; the SQL of these
reads and writes lives here, shared with the async SQLite storage where both need it.

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
from typing import Any

import numpy as np

from bot.domain.genres import split_genres
from bot.domain.models import Movie

from ..models import MOVIE_COLUMNS, PriorRows, RatingArrays, SavedModel
from .connection import BUSY_TIMEOUT_MS

SAVE_RETRIES = 8  # extra tries of a model save that met a locked database (after busy_timeout)
SAVE_BACKOFF = 0.1  # seconds before the first retry; doubled each time, at most 2 s

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


@contextmanager
def connect(path: str | Path) -> Iterator[sqlite3.Connection]:
    """A short-lived connection to an SQLite database the bot has already migrated."""
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        yield conn
    finally:
        conn.close()


def ratings_version(conn: sqlite3.Connection,
                    guild_id: int) -> tuple[int, int]:
    """(ratings version, number of ratings) of the guild; (0, 0) when it has none."""
    row = conn.execute(VERSION_SQL, (guild_id,)).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def read_guild_ratings(conn: sqlite3.Connection,
                       guild_id: int) -> tuple[RatingArrays, int]:
    """The guild's ratings as numpy columns and the ratings version they make up (one read
    transaction: a consistent snapshot under WAL; on PostgreSQL a repeatable-read binary
    COPY)."""
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


def movies_by_id(conn: sqlite3.Connection, guild_id: int,
                 ids: np.ndarray) -> list[Movie]:
    """The movies among `ids` visible in the guild (for their genres and years)."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS wanted_ids (id INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM wanted_ids")
    conn.executemany("INSERT OR IGNORE INTO wanted_ids (id) VALUES (?)",
                     ((int(i),) for i in ids))
    rows = conn.execute(
        f"SELECT {MOVIE_COLUMNS} FROM movies m JOIN wanted_ids w ON w.id = m.id "
        "WHERE m.guild_id IS NULL OR m.guild_id = ?", (guild_id,)).fetchall()
    return [Movie(r[0], r[1], r[2], split_genres(r[3]), r[4], r[5], r[6], r[7]) for r in rows]


def load_model_state(conn: sqlite3.Connection,
                     guild_id: int) -> SavedModel | None:
    row = conn.execute(MODEL_STATE_SQL, (guild_id,)).fetchone()
    if row is None:
        return None
    return SavedModel(bytes(row[0]) or None, int(row[1]), str(row[2]))


def save_model(conn: sqlite3.Connection, guild_id: int, blob: bytes, *,
               ratings_version: int, settings_key: str) -> bool:
    """Store the guild's model unless a model of newer ratings is already saved; True if it
    was stored."""
    params = (guild_id, bytes(blob), time.time(), int(ratings_version), settings_key)
    # A fit's result must not be lost to a busy moment: this runs in a worker (thread or
    # process), never on the loop, so it may wait out the bot's writer and other workers far
    # longer than a member's command would (busy_timeout each try, then backoff).
    delay = SAVE_BACKOFF
    for attempt in range(SAVE_RETRIES + 1):
        try:
            cursor = conn.execute(SAVE_MODEL_SQL, params)
            return cursor.rowcount > 0
        except sqlite3.OperationalError as error:
            text = str(error).lower()
            if attempt == SAVE_RETRIES or not ("locked" in text or "busy" in text):
                raise
        time.sleep(delay)
        delay = min(delay * 2, 2.0)
    raise AssertionError("unreachable")


def read_prior(conn: sqlite3.Connection) -> PriorRows | None:
    """The installed prior with its links, or None (no prior, or nothing linked)."""
    state = conn.execute("SELECT built_at, linked_at, blob FROM prior_state").fetchone()
    if state is None:
        return None
    rows = conn.execute("SELECT movie_id, key FROM prior_links ORDER BY movie_id").fetchall()
    if not rows:
        return None
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    keys = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
    return PriorRows((float(state[0]), float(state[1])), bytes(state[2]), ids, keys)


def prior_stamp(conn: sqlite3.Connection) -> tuple[float, float] | None:
    """(built_at, linked_at) of the installed prior, or None."""
    row = conn.execute("SELECT built_at, linked_at FROM prior_state").fetchone()
    return (float(row[0]), float(row[1])) if row else None
