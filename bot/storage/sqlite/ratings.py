"""SQLite storage, ratings: one member's, a guild's (arrays for the recommender), imports."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import numpy as np

from bot.domain.models import ImportCounts
from bot.domain.scores import check_score
from bot.domain.watchlist import MAX_WATCHLIST

from ..errors import UnknownMovieError
from ..models import MOVIE_COLUMNS, RatedMovie, RatingArrays
from ..sql.common import MAX_SQL_INT, movie_from_row
from . import bulk
from .base import _IN_CHUNK, _VISIBLE, SqliteBase
from .rating_batch import PendingRating

RATINGS_CHUNK = 1024  # members per fetchmany() in guild_ratings


class SqliteRatings(SqliteBase):
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
        for the whole batch. Per call: its previous score, or UnknownMovieError."""
        async with self._transaction() as conn:
            visible: set[tuple[int, int]] = set()
            by_guild: dict[int, set[int]] = {}
            for item in batch:
                by_guild.setdefault(item.guild_id, set()).add(item.movie_id)
            for guild_id, movie_ids in by_guild.items():
                ids = sorted(movie_ids)
                for i in range(0, len(ids), _IN_CHUNK):
                    chunk = ids[i:i + _IN_CHUNK]
                    marks = ",".join("?" * len(chunk))
                    rows = await self._fetchall(
                        f"SELECT m.id FROM movies m WHERE m.id IN ({marks}) AND {_VISIBLE}",
                        (*chunk, guild_id))
                    visible.update((guild_id, int(r[0])) for r in rows)
            keys = list(dict.fromkeys((b.guild_id, b.user_id, b.movie_id) for b in batch
                                      if (b.guild_id, b.movie_id) in visible))
            current: dict[tuple[int, int, int], int] = {}
            for i in range(0, len(keys), _IN_CHUNK // 3):
                triples = keys[i:i + _IN_CHUNK // 3]
                values = ",".join("(?, ?, ?)" for _ in triples)
                rows = await self._fetchall(
                    "SELECT guild_id, user_id, movie_id, score FROM ratings "
                    f"WHERE (guild_id, user_id, movie_id) IN (VALUES {values})",
                    [v for key in triples for v in key])
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
            if upserts:
                await conn.executemany(
                    "INSERT INTO ratings (guild_id, user_id, movie_id, score, updated_at) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id, user_id, movie_id) "
                    "DO UPDATE SET score = excluded.score, updated_at = excluded.updated_at, "
                    "source = 'member'",  # the member's own now: a sync never overwrites it
                    upserts)
            if unwatch:
                await conn.executemany(
                    "DELETE FROM watchlist WHERE guild_id = ? AND user_id = ? AND movie_id = ?",
                    unwatch)
        return results

    async def delete_rating(self, guild_id: int, user_id: int, movie_id: int) -> bool:
        """Remove one rating; True if there was one."""
        deleted = await self._write(
            "DELETE FROM ratings WHERE guild_id = ? AND user_id = ? AND movie_id = ?",
            (guild_id, user_id, movie_id),
        )
        return deleted > 0

    async def delete_member_ratings(self, guild_id: int, user_id: int) -> int:
        """Remove all of a member's ratings in a guild; returns how many."""
        return await self._write(
            "DELETE FROM ratings WHERE guild_id = ? AND user_id = ?", (guild_id, user_id))

    async def get_rating(self, guild_id: int, user_id: int, movie_id: int) -> int | None:
        """A member's score for a movie, or None."""
        row = await self._fetchone(
            "SELECT score FROM ratings WHERE guild_id = ? AND user_id = ? AND movie_id = ?",
            (guild_id, user_id, movie_id),
        )
        return int(row[0]) if row else None

    async def member_ratings(
        self, guild_id: int, user_id: int, limit: int | None = None, offset: int = 0
    ) -> list[RatedMovie]:
        """A member's ratings in a guild, newest first."""
        rows = await self._fetchall(
            f"SELECT {MOVIE_COLUMNS}, r.score, r.updated_at FROM ratings r "
            "JOIN movies m ON m.id = r.movie_id WHERE r.guild_id = ? AND r.user_id = ? "
            "ORDER BY r.updated_at DESC, r.movie_id DESC LIMIT ? OFFSET ?",
            (guild_id, user_id, -1 if limit is None else max(limit, 0), max(offset, 0)),
        )
        return [RatedMovie(movie_from_row(row), int(row[8]), datetime.fromtimestamp(row[9], UTC))
                for row in rows]

    async def member_rating_arrays(self, guild_id: int,
                                   user_id: int) -> tuple[np.ndarray, np.ndarray]:
        """(movie ids int64, scores float32) of a member's ratings in a guild, movie order:
        what the recommender needs, without building a Movie per rating."""
        rows = await self._fetchall(
            "SELECT movie_id, score FROM ratings WHERE guild_id = ? AND user_id = ? "
            "ORDER BY movie_id", (guild_id, user_id))
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        scores = np.fromiter((r[1] for r in rows), dtype=np.float32, count=len(rows))
        return ids, scores

    async def count_member_ratings(self, guild_id: int, user_id: int) -> int:
        row = await self._fetchone(
            "SELECT count(*) FROM ratings WHERE guild_id = ? AND user_id = ?",
            (guild_id, user_id))
        return int(row[0])

    async def guild_has_ratings(self, guild_id: int) -> bool:
        """Whether anyone in the guild has rated a movie (one indexed lookup)."""
        row = await self._fetchone("SELECT 1 FROM ratings WHERE guild_id = ? LIMIT 1",
                                   (guild_id,))
        return row is not None

    async def movie_stats(self, guild_id: int, movie_id: int) -> tuple[float | None, int]:
        """(mean score, number of ratings) of a movie in a guild; (None, 0) when unrated."""
        row = await self._fetchone(
            "SELECT avg(score), count(*) FROM ratings WHERE guild_id = ? AND movie_id = ?",
            (guild_id, movie_id),
        )
        return (float(row[0]) if row[0] is not None else None, int(row[1]))

    async def score_counts(self, guild_id: int, movie_ids: Iterable[int]) -> dict[int, int]:
        """{score: how many ratings of these movies in the guild have it} (score charts; the
        covering index answers it, movie by movie)."""
        ids = sorted({int(m) for m in movie_ids})
        counts: dict[int, int] = {}
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start:start + _IN_CHUNK]
            rows = await self._fetchall(
                "SELECT score, count(*) FROM ratings WHERE guild_id = ? AND movie_id IN "
                f"({', '.join('?' * len(chunk))}) GROUP BY score", (guild_id, *chunk))
            for score, count in rows:
                counts[int(score)] = counts.get(int(score), 0) + int(count)
        return counts

    async def score_totals(self, guild_id: int) -> dict[int, tuple[int, int]]:
        """{movie id: (sum of scores, number of ratings)} for every movie rated in the guild
        (what `/movies top` ranks; one pass over the covering index)."""
        rows = await self._fetchall(
            "SELECT movie_id, sum(score), count(*) FROM ratings WHERE guild_id = ? "
            "GROUP BY movie_id", (guild_id,))
        return {int(row[0]): (int(row[1]), int(row[2])) for row in rows}

    async def guild_score_total(self, guild_id: int) -> tuple[int, int]:
        """(sum of scores, number of ratings) over all of the guild's ratings."""
        row = await self._fetchone(
            "SELECT IFNULL(sum(score), 0), count(*) FROM ratings WHERE guild_id = ?",
            (guild_id,))
        return int(row[0]), int(row[1])

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

    async def ratings_version(self, guild_id: int) -> tuple[int, int]:
        """(ratings version, number of ratings) of the guild: the version grows with every
        change of its ratings (kept by triggers); (0, 0) for a guild without ratings."""
        row = await self._fetchone(bulk.VERSION_SQL, (guild_id,))
        return (int(row[0]), int(row[1])) if row else (0, 0)

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
