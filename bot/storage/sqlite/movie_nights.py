"""SQLite storage, open movie-night votes (restart-safe movie nights, issue 26)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.movie_nights import NightEvent, StoredNight

from ..sql.movie_nights import (
    EVENT_COLUMNS,
    MEMBER_COLUMNS,
    NIGHT_COLUMNS,
    event_from_row,
    event_values,
    member_values,
    night_values,
    nights_from_rows,
)
from .base import SqliteBase


class SqliteMovieNights(SqliteBase):
    """Open movie-night votes and their members' parts."""

    async def save_movie_night(self, night: StoredNight) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                f"INSERT OR REPLACE INTO movie_nights ({NIGHT_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", night_values(night))
            await conn.execute("DELETE FROM movie_night_members WHERE guild_id = ? AND "
                               "night_id = ?", (night.guild_id, night.id))
            await conn.executemany(
                f"INSERT INTO movie_night_members ({MEMBER_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)", member_values(night))

    async def movie_night_vote(self, guild_id: int, night_id: int, user_id: int,
                               vote: int | None) -> None:
        await self._write(
            "UPDATE movie_night_members SET vote = ?, took_part = 1 WHERE guild_id = ? "
            "AND night_id = ? AND user_id = ?", (vote, guild_id, night_id, user_id))

    async def delete_movie_night(self, guild_id: int, night_id: int) -> None:
        async with self._transaction() as conn:
            for table, key in (("movie_night_members", "night_id"), ("movie_nights", "id")):
                await conn.execute(f"DELETE FROM {table} WHERE guild_id = ? AND {key} = ?",
                                   (guild_id, night_id))

    async def open_movie_nights(self, guild_ids: Sequence[int]) -> list[StoredNight]:
        ids = sorted({int(g) for g in guild_ids})
        if not ids:
            return []
        marks = ", ".join("?" * len(ids))
        nights = await self._fetchall(
            f"SELECT {NIGHT_COLUMNS} FROM movie_nights WHERE guild_id IN ({marks}) "
            "ORDER BY closes_at, id", ids)
        members = await self._fetchall(
            f"SELECT {MEMBER_COLUMNS} FROM movie_night_members WHERE guild_id IN ({marks}) "
            "ORDER BY rowid", ids)
        return nights_from_rows(nights, members)

    async def save_night_event(self, event: NightEvent) -> None:
        await self._write(f"INSERT OR REPLACE INTO movie_night_events ({EVENT_COLUMNS}) "
                          "VALUES (?, ?, ?, ?, ?, ?)", event_values(event))

    async def delete_night_event(self, guild_id: int, event_id: int) -> None:
        await self._write("DELETE FROM movie_night_events WHERE guild_id = ? AND event_id = ?",
                          (guild_id, event_id))

    async def night_events(self, guild_ids: Sequence[int]) -> list[NightEvent]:
        ids = sorted({int(g) for g in guild_ids})
        if not ids:
            return []
        marks = ", ".join("?" * len(ids))
        rows = await self._fetchall(
            f"SELECT {EVENT_COLUMNS} FROM movie_night_events WHERE guild_id IN ({marks}) "
            "ORDER BY remind_at, event_id", ids)
        return [event_from_row(row) for row in rows]
