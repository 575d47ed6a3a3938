"""PostgreSQL storage, movies a member hid from their picks."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime

from bot.domain.models import NotInterested
from bot.domain.not_interested import MAX_NOT_INTERESTED

from ..errors import UnknownMovieError
from ..models import MOVIE_COLUMNS
from ..sql.common import MAX_SQL_INT, movie_from_row
from .base import PostgresBase, _count, _visible


class PostgresNotInterested(PostgresBase):
    """Movies a member hid from their picks."""

    async def not_interested_add(self, guild_id: int, user_id: int, movie_id: int, *,
                                 cap: int = MAX_NOT_INTERESTED) -> bool:
        if not -MAX_SQL_INT <= movie_id <= MAX_SQL_INT:
            raise UnknownMovieError(f"movie #{movie_id} is not in this server's catalog")
        async with self._tx() as conn:
            visible = await conn.fetchrow(
                f"SELECT 1 FROM movies m WHERE m.id = $1 AND {_visible(2)}", movie_id, guild_id)
            if visible is None:
                raise UnknownMovieError(f"movie #{movie_id} is not in this server's catalog")
            added = _count(await conn.execute(
                "INSERT INTO not_interested (guild_id, user_id, movie_id, since) "
                "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                guild_id, user_id, movie_id, time.time())) > 0
            if added:
                await conn.execute(
                    "DELETE FROM not_interested WHERE guild_id = $1 AND user_id = $2 AND "
                    "movie_id IN (SELECT movie_id FROM not_interested WHERE guild_id = $1 AND "
                    "user_id = $2 ORDER BY since DESC, movie_id DESC OFFSET $3)",
                    guild_id, user_id, max(cap, 1))
        return added

    async def not_interested_remove(self, guild_id: int, user_id: int,
                                    movie_ids: Iterable[int]) -> int:
        ids = sorted({int(m) for m in movie_ids if -MAX_SQL_INT <= int(m) <= MAX_SQL_INT})
        if not ids:
            return 0
        return await self._execute(
            "DELETE FROM not_interested WHERE guild_id = $1 AND user_id = $2 "
            "AND movie_id = ANY($3::bigint[])", guild_id, user_id, ids)

    async def not_interested_ids(self, guild_id: int, user_id: int) -> list[int]:
        rows = await self._fetch(
            "SELECT movie_id FROM not_interested WHERE guild_id = $1 AND user_id = $2 "
            "ORDER BY movie_id", guild_id, user_id)
        return [int(row[0]) for row in rows]

    async def not_interested(self, guild_id: int, user_id: int, limit: int | None = None,
                             offset: int = 0) -> list[NotInterested]:
        rows = await self._fetch(
            f"SELECT {MOVIE_COLUMNS}, n.since FROM not_interested n "
            "JOIN movies m ON m.id = n.movie_id WHERE n.guild_id = $1 AND n.user_id = $2 "
            "ORDER BY n.since DESC, n.movie_id DESC LIMIT $3 OFFSET $4",
            guild_id, user_id, None if limit is None else max(limit, 0), max(offset, 0))
        return [NotInterested(movie_from_row(row), datetime.fromtimestamp(row[8], UTC))
                for row in rows]

    async def count_not_interested(self, guild_id: int, user_id: int) -> int:
        return int(await self._value(
            "SELECT count(*) FROM not_interested WHERE guild_id = $1 AND user_id = $2",
            guild_id, user_id))

    async def delete_member_not_interested(self, guild_id: int, user_id: int) -> int:
        return await self._execute(
            "DELETE FROM not_interested WHERE guild_id = $1 AND user_id = $2",
            guild_id, user_id)
