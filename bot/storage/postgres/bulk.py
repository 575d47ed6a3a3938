"""Bulk reads and model saves on PostgreSQL, for the async storage and for refit workers.

The async functions take an asyncpg connection; `PgBulkConnection` runs them synchronously
for a refit worker (`bot.storage.bulk.connect("postgresql://...")`): it owns a private event loop
(`asyncio.Runner`) and one connection for the job's lifetime. A worker runs in a thread or a
process, never on the bot's loop, so a loop of its own is safe there; the worker keeps one
driver (asyncpg) and its binary COPY, instead of a second, synchronous PostgreSQL driver.

A guild's ratings are read with one binary `COPY (SELECT ...) TO STDOUT`: every row is the
same 32 bytes (field count, then length + value for user id, movie id, score), so numpy reads
the whole stream as one structured array, with no Python object per rating.
"""

from __future__ import annotations

import asyncio
import struct
import time
from typing import Any

import asyncpg
import numpy as np

from bot.domain.genres import split_genres
from bot.domain.models import Movie

from ..models import MOVIE_COLUMNS, PriorRows, RatingArrays, SavedModel

TRGM_THRESHOLD = 0.2  # pg_trgm (word) similarity for typo candidates; the default 0.3 misses

# pg_trgm's thresholds, as connection start-up settings: they survive the pool's RESET ALL
# between uses (a SET would not), and apply once the extension loads. (The async storage's
# pool and a refit worker's connection use the same.)
SERVER_SETTINGS = {
    "pg_trgm.similarity_threshold": str(TRGM_THRESHOLD),
    "pg_trgm.word_similarity_threshold": str(TRGM_THRESHOLD),
}

VERSION_SQL = "SELECT ratings_version, ratings_count FROM guild_versions WHERE guild_id = $1"
SAVE_MODEL_SQL = (
    "INSERT INTO model_state AS s (guild_id, blob, saved_at, ratings_version, settings_key) "
    "VALUES ($1, $2, $3, $4, $5) "
    "ON CONFLICT (guild_id) DO UPDATE SET blob = excluded.blob, saved_at = excluded.saved_at, "
    "ratings_version = excluded.ratings_version, settings_key = excluded.settings_key "
    "WHERE excluded.ratings_version >= s.ratings_version")
FORGET_MODEL_SQL = (
    "INSERT INTO model_state (guild_id, blob, saved_at, ratings_version, settings_key) "
    "VALUES ($1, ''::bytea, $2, (SELECT COALESCE(max(ratings_version), 0) FROM guild_versions "
    "WHERE guild_id = $1), '') "
    "ON CONFLICT (guild_id) DO UPDATE SET blob = ''::bytea, saved_at = excluded.saved_at, "
    "ratings_version = excluded.ratings_version, settings_key = ''")
MODEL_STATE_SQL = (
    "SELECT blob, ratings_version, settings_key FROM model_state WHERE guild_id = $1")

COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
# One COPY row of (bigint user_id, bigint movie_id, smallint score), big-endian.
COPY_ROW = np.dtype([("fields", ">i2"), ("len_user", ">i4"), ("user", ">i8"),
                     ("len_movie", ">i4"), ("movie", ">i8"), ("len_score", ">i4"),
                     ("score", ">i2")])


def ratings_copy_sql(guild_id: int) -> str:
    """The query one guild's ratings are copied from (COPY takes no parameters: an int)."""
    return ("SELECT user_id, movie_id, score FROM ratings "
            f"WHERE guild_id = {int(guild_id)} ORDER BY user_id, movie_id")


def parse_binary_ratings(data: bytes | bytearray | memoryview) -> RatingArrays:
    """A binary COPY stream of (user_id, movie_id, score) rows -> numpy columns."""
    view = memoryview(data)
    if bytes(view[:11]) != COPY_SIGNATURE:
        raise ValueError("not a binary COPY stream")
    _flags, extension = struct.unpack_from(">iI", view, 11)
    start = 19 + extension
    end = len(view) - 2  # the trailer: int16 -1
    if struct.unpack_from(">h", view, end)[0] != -1 or (end - start) % COPY_ROW.itemsize:
        raise ValueError("truncated binary COPY stream")
    rows = np.frombuffer(view[start:end], dtype=COPY_ROW)
    if len(rows) and not ((rows["fields"] == 3).all() and (rows["len_user"] == 8).all()
                          and (rows["len_movie"] == 8).all() and (rows["len_score"] == 2).all()):
        raise ValueError("unexpected columns in the binary COPY stream")
    return RatingArrays(rows["user"].astype(np.int64), rows["movie"].astype(np.int64),
                        rows["score"].astype(np.float32))


async def ratings_version(conn: asyncpg.Connection, guild_id: int) -> tuple[int, int]:
    row = await conn.fetchrow(VERSION_SQL, guild_id)
    return (int(row[0]), int(row[1])) if row else (0, 0)


async def read_guild_ratings(conn: asyncpg.Connection,
                             guild_id: int) -> tuple[RatingArrays, int]:
    """The guild's ratings and their ratings version, from one snapshot (repeatable read)."""
    chunks: list[bytes] = []

    async def sink(chunk: bytes) -> None:
        chunks.append(chunk)

    async with conn.transaction(isolation="repeatable_read", readonly=True):
        version, _count = await ratings_version(conn, guild_id)
        await conn.copy_from_query(ratings_copy_sql(guild_id), output=sink, format="binary")
    # Joining and parsing ~32 MB per million ratings: off the event loop, as SQLite's parse.
    arrays = await asyncio.to_thread(lambda: parse_binary_ratings(b"".join(chunks)))
    return arrays, version


async def movies_by_id(conn: asyncpg.Connection, guild_id: int, ids: np.ndarray) -> list[Movie]:
    rows = await conn.fetch(
        f"SELECT {MOVIE_COLUMNS} FROM movies m WHERE m.id = ANY($1::bigint[]) "
        "AND (m.guild_id IS NULL OR m.guild_id = $2)",
        [int(i) for i in np.asarray(ids).ravel()], guild_id)
    return [Movie(r[0], r[1], r[2], split_genres(r[3]), r[4], r[5], r[6], r[7]) for r in rows]


async def load_model_state(conn: asyncpg.Connection, guild_id: int) -> SavedModel | None:
    row = await conn.fetchrow(MODEL_STATE_SQL, guild_id)
    if row is None:
        return None
    return SavedModel(bytes(row[0]) or None, int(row[1]), str(row[2]))


async def save_model(conn: asyncpg.Connection, guild_id: int, blob: bytes, *,
                     ratings_version: int, settings_key: str) -> bool:
    status = await conn.execute(SAVE_MODEL_SQL, guild_id, bytes(blob), time.time(),
                                int(ratings_version), settings_key)
    return status.endswith(" 1")


async def read_prior(conn: asyncpg.Connection) -> PriorRows | None:
    state = await conn.fetchrow("SELECT built_at, linked_at, blob FROM prior_state")
    if state is None:
        return None
    rows = await conn.fetch("SELECT movie_id, key FROM prior_links ORDER BY movie_id")
    if not rows:
        return None
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    keys = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
    return PriorRows((float(state[0]), float(state[1])), bytes(state[2]), ids, keys)


async def prior_stamp(conn: asyncpg.Connection) -> tuple[float, float] | None:
    row = await conn.fetchrow("SELECT built_at, linked_at FROM prior_state")
    return (float(row[0]), float(row[1])) if row else None


class PgBulkConnection:
    """A refit worker's synchronous handle on PostgreSQL: one connection, a private loop."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._runner = asyncio.Runner()
        try:
            self.conn: asyncpg.Connection = self._runner.run(self._connect(url))
        except BaseException:
            self._runner.close()
            raise

    @staticmethod
    async def _connect(url: str) -> asyncpg.Connection:
        return await asyncpg.connect(url, server_settings=SERVER_SETTINGS)

    def run(self, coro: Any) -> Any:
        """Run one coroutine on this handle's loop and return its result."""
        return self._runner.run(coro)

    def close(self) -> None:
        try:
            self._runner.run(self.conn.close())
        finally:
            self._runner.close()
