"""SQLite storage, ratings: one member's, a guild's (arrays for the recommender), imports."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Sequence

import numpy as np

from bot.domain.models import ImportCounts
from bot.domain.scores import check_score
from bot.domain.watchlist import MAX_WATCHLIST

from ..errors import UnknownMovieError
from ..models import RatingArrays
from ..sql.common import MAX_SQL_INT
from ..sql.ratings import RatingQueries
from . import bulk
from .base import _IN_CHUNK, _VISIBLE, SqliteBase, begin_immediate
from .rating_batch import PendingRating

RATINGS_CHUNK = 1024  # members per fetchmany() in guild_ratings


class SqliteRatings(RatingQueries, SqliteBase):
    """Ratings: one member's, a guild's (arrays for the recommender), imports."""

    async def upsert_rating(
        self, guild_id: int, user_id: int, movie_id: int, score: int, *, unwatch: bool = False
    ) -> int | None:
        """Set a member's score (1..10) for a movie; returns the previous score or None.

        One row per guild+member+movie: re-rating updates score and updated_at. With
        `unwatch`, the movie leaves the member's watchlist in the same transaction (they
        watched it). Raises ValueError for a score outside 1..10 and UnknownMovieError when the
        movie is not visible in the guild.
        """
        score = check_score(score)
        if not -MAX_SQL_INT - 1 <= movie_id <= MAX_SQL_INT:
            raise UnknownMovieError(f"movie #{movie_id} is not in this server's catalog")
        return await self._ratings_writer.write(
            PendingRating(guild_id, user_id, movie_id, score, unwatch))

    async def _write_rating_batch(self, batch: Sequence[PendingRating]
                                  ) -> list[int | Exception | None]:
        """One transaction for a batch of `upsert_rating` calls (see `RatingBatcher`): the
        visibility check, previous scores, upserts and watchlist removals, each one statement
        for the whole batch. Per call: its previous score, or UnknownMovieError.

        The whole transaction is one call on the writer connection's thread
        (`write_rating_batch`), not one round trip to it per statement: on a busy machine each
        round trip is a wait for the GIL on both sides, and /rate's answer waits for them."""
        async with self._lock:
            return await self._on_writer(write_rating_batch, batch)

    async def guild_ratings(self, guild_id: int) -> RatingArrays:
        """All of a guild's ratings as numpy columns, from one SELECT on the bulk connection.

        SQLite packs each member's ratings into two strings (movie ids comma-separated, scores
        one character each), so the result has one row per member instead of one per rating
        and numpy parses the strings in C: no Python object per rating. Members are read in
        chunks of RATINGS_CHUNK and parsed off the event loop. Rows come in primary-key order
        (member, then movie). user_ids/movie_ids are int64, scores float32.
        """
        users: list[np.ndarray] = []
        movies: list[np.ndarray] = []
        scores: list[np.ndarray] = []
        async with self._bulk.execute(bulk.RATINGS_SQL, (guild_id,)) as cursor:
            while True:
                rows = await cursor.fetchmany(RATINGS_CHUNK)
                if not rows:
                    break
                u, m, r = await asyncio.to_thread(bulk.parse_member_rows, list(rows))
                users.append(u)
                movies.append(m)
                scores.append(r)
        # joining a million-rating guild's chunks is tens of ms of copying: not on the loop
        return await asyncio.to_thread(bulk.join_columns, users, movies, scores)

    async def import_history(self, guild_id: int, user_id: int,
                             ratings: Sequence[tuple[int, int]],
                             watchlist: Sequence[int] = (), *,
                             watchlist_cap: int = MAX_WATCHLIST) -> ImportCounts:
        """Write a member's imported ratings ((movie id, score 1..10), one per movie) and
        watchlist in one transaction: all of it or, on any error, none. Rated movies leave
        the watchlist; watchlisted movies the member has rated are skipped, and those past
        `watchlist_cap` (counted with what the watchlist already holds) are left off."""
        rows = [(int(m), check_score(s)) for m, s in dict(ratings).items()]
        now = time.time()
        async with self._transaction() as conn:
            existing = {int(r[0]): int(r[1]) for r in await self._fetchall(
                "SELECT movie_id, score FROM ratings WHERE guild_id = ? AND user_id = ?",
                (guild_id, user_id))}
            await conn.executemany(
                "INSERT INTO ratings (guild_id, user_id, movie_id, score, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id, user_id, movie_id) "
                "DO UPDATE SET score = excluded.score, updated_at = excluded.updated_at, "
                "source = 'member' WHERE score != excluded.score OR source != 'member'",
                [(guild_id, user_id, m, score, now) for m, score in rows])
            await conn.executemany(
                "DELETE FROM watchlist WHERE guild_id = ? AND user_id = ? AND movie_id = ?",
                [(guild_id, user_id, m) for m, _ in rows])
            listed = {int(r[0]) for r in await self._fetchall(
                "SELECT movie_id FROM watchlist WHERE guild_id = ? AND user_id = ?",
                (guild_id, user_id))}
            rated = existing.keys() | {m for m, _ in rows}
            wanted = [m for m in dict.fromkeys(int(w) for w in watchlist)
                      if m not in rated and m not in listed]
            room = max(watchlist_cap - len(listed), 0)
            before = self._conn.total_changes
            await conn.executemany(
                "INSERT OR IGNORE INTO watchlist (guild_id, user_id, movie_id, added_at) "
                "VALUES (?, ?, ?, ?)", [(guild_id, user_id, m, now) for m in wanted[:room]])
            watchlisted = self._conn.total_changes - before
        added = sum(1 for m, _ in rows if m not in existing)
        changed = sum(1 for m, s in rows if m in existing and existing[m] != s)
        return ImportCounts(added, changed, len(rows) - added - changed, watchlisted,
                            max(len(wanted) - room, 0))


def write_rating_batch(conn: sqlite3.Connection, batch: Sequence[PendingRating]
                       ) -> list[int | Exception | None]:
    """`_write_rating_batch`'s transaction, run on the writer connection's own thread (the
    caller holds the storage's write lock). BEGIN IMMEDIATE is retried like `_retry_busy`
    while another process holds SQLite's write lock."""
    begin_immediate(conn)
    try:
        visible: set[tuple[int, int]] = set()
        by_guild: dict[int, set[int]] = {}
        for item in batch:
            by_guild.setdefault(item.guild_id, set()).add(item.movie_id)
        for guild_id, movie_ids in by_guild.items():
            ids = sorted(movie_ids)
            for i in range(0, len(ids), _IN_CHUNK):
                chunk = ids[i:i + _IN_CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(
                    f"SELECT m.id FROM movies m WHERE m.id IN ({marks}) AND {_VISIBLE}",
                    (*chunk, guild_id)).fetchall()
                visible.update((guild_id, int(r[0])) for r in rows)
        keys = list(dict.fromkeys((b.guild_id, b.user_id, b.movie_id) for b in batch
                                  if (b.guild_id, b.movie_id) in visible))
        current: dict[tuple[int, int, int], int] = {}
        for i in range(0, len(keys), _IN_CHUNK // 3):
            triples = keys[i:i + _IN_CHUNK // 3]
            values = ",".join("(?, ?, ?)" for _ in triples)
            # A join from the keys, not "(guild_id, user_id, movie_id) IN (VALUES ...)": SQLite
            # plans that row-value IN as a scan of the whole ratings table (0.75 s at 2.57
            # million ratings, every batch: issue 24's untraced /rate median); the join looks
            # each key up in an index.
            rows = conn.execute(
                f"WITH k (g, u, m) AS (VALUES {values}) "
                "SELECT r.guild_id, r.user_id, r.movie_id, r.score FROM k CROSS JOIN ratings r "
                "ON r.guild_id = k.g AND r.user_id = k.u AND r.movie_id = k.m",
                [v for key in triples for v in key]).fetchall()
            current.update(((int(r[0]), int(r[1]), int(r[2])), int(r[3])) for r in rows)
        results: list[int | Exception | None] = []
        upserts: list[tuple[int, int, int, int, float]] = []
        unwatch: list[tuple[int, int, int]] = []
        now = time.time()
        for item in batch:
            if (item.guild_id, item.movie_id) not in visible:
                results.append(UnknownMovieError(
                    f"movie #{item.movie_id} is not in this server's catalog"))
                continue
            key = (item.guild_id, item.user_id, item.movie_id)
            results.append(current.get(key))
            current[key] = item.score
            upserts.append((*key, item.score, now))
            if item.unwatch:
                unwatch.append(key)
        # Multi-row statements, not executemany: sqlite3 gives the GIL up and takes it back
        # around every row's step, and on a busy process each take-back waits for a CPU
        # (a 170-rating batch took seconds that way in many_guilds). Rows of one key keep
        # their order, so the last score of a key in the batch stands.
        for i in range(0, len(upserts), _IN_CHUNK // 5):
            rows5 = upserts[i:i + _IN_CHUNK // 5]
            conn.execute(
                "INSERT INTO ratings (guild_id, user_id, movie_id, score, updated_at) VALUES "
                + ",".join("(?, ?, ?, ?, ?)" for _ in rows5)
                + " ON CONFLICT (guild_id, user_id, movie_id) "
                "DO UPDATE SET score = excluded.score, updated_at = excluded.updated_at, "
                "source = 'member'",  # the member's own now: a sync never overwrites it
                [v for row in rows5 for v in row])
        for i in range(0, len(unwatch), _IN_CHUNK // 3):
            rows3 = unwatch[i:i + _IN_CHUNK // 3]
            conn.execute(  # the keys as a table: an index search (see the SELECT above)
                "WITH k (g, u, m) AS (VALUES " + ",".join("(?, ?, ?)" for _ in rows3) + ") "
                "DELETE FROM watchlist WHERE (guild_id, user_id, movie_id) IN "
                "(SELECT g, u, m FROM k)",
                [v for key in rows3 for v in key])
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return results
