"""Movies a member hid from their picks, written once for both backends."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime

from bot.domain.models import NotInterested
from bot.domain.not_interested import MAX_NOT_INTERESTED

from ..models import MOVIE_COLUMNS
from .common import MAX_SQL_INT, movie_from_row, require_visible
from .executor import SqlStorage


class NotInterestedQueries(SqlStorage):
    """"Not interested" (see the contract for each method's meaning)."""

    async def not_interested_add(self, guild_id: int, user_id: int, movie_id: int, *,
                                 cap: int = MAX_NOT_INTERESTED) -> bool:
        async with self._db.transaction() as tx:
            await require_visible(tx, guild_id, movie_id)
            added = await tx.execute(
                "INSERT INTO not_interested (guild_id, user_id, movie_id, since) "
                "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                guild_id, user_id, movie_id, time.time()) > 0
            if added:
                await tx.execute(
                    "DELETE FROM not_interested WHERE guild_id = $1 AND user_id = $2 AND "
                    "movie_id IN (SELECT movie_id FROM not_interested WHERE guild_id = $1 AND "
                    "user_id = $2 ORDER BY since DESC, movie_id DESC LIMIT $4 OFFSET $3)",
                    guild_id, user_id, max(cap, 1), tx.no_limit)
        return added

    async def not_interested_remove(self, guild_id: int, user_id: int,
                                    movie_ids: Iterable[int]) -> int:
        ids = sorted({int(m) for m in movie_ids if -MAX_SQL_INT - 1 <= int(m) <= MAX_SQL_INT})
        if not ids:
            return 0
        return await self._db.execute(
            "DELETE FROM not_interested WHERE guild_id = $1 AND user_id = $2 "
            f"AND {self._db.any_of('movie_id', 3)}", guild_id, user_id, self._db.values(ids))

    async def not_interested_ids(self, guild_id: int, user_id: int) -> list[int]:
        rows = await self._db.fetchall(
            "SELECT movie_id FROM not_interested WHERE guild_id = $1 AND user_id = $2 "
            "ORDER BY movie_id", guild_id, user_id)
        return [int(row[0]) for row in rows]

    async def not_interested(self, guild_id: int, user_id: int, limit: int | None = None,
                             offset: int = 0) -> list[NotInterested]:
        rows = await self._db.fetchall(
            f"SELECT {MOVIE_COLUMNS}, n.since FROM not_interested n "
            "JOIN movies m ON m.id = n.movie_id WHERE n.guild_id = $1 AND n.user_id = $2 "
            "ORDER BY n.since DESC, n.movie_id DESC LIMIT $3 OFFSET $4", guild_id, user_id,
            self._db.no_limit if limit is None else max(limit, 0), max(offset, 0))
        return [NotInterested(movie_from_row(row), datetime.fromtimestamp(row[8], UTC))
                for row in rows]

    async def count_not_interested(self, guild_id: int, user_id: int) -> int:
        return int(await self._db.fetchval(
            "SELECT count(*) FROM not_interested WHERE guild_id = $1 AND user_id = $2",
            guild_id, user_id))

    async def delete_member_not_interested(self, guild_id: int, user_id: int) -> int:
        return await self._db.execute(
            "DELETE FROM not_interested WHERE guild_id = $1 AND user_id = $2",
            guild_id, user_id)
