"""PostgreSQL storage, open movie-night votes (restart-safe movie nights, issue 26)."""

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
from .base import PostgresBase


class PostgresMovieNights(PostgresBase):
    """Open movie-night votes and their members' parts."""

    async def save_movie_night(self, night: StoredNight) -> None:
        async with self._tx() as conn:
            await conn.execute(
                f"INSERT INTO movie_nights ({NIGHT_COLUMNS}) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
                "ON CONFLICT (guild_id, id) DO UPDATE "
                "SET channel_id = EXCLUDED.channel_id, message_id = EXCLUDED.message_id, "
                "poll_message_id = EXCLUDED.poll_message_id, candidates = EXCLUDED.candidates, "
                "personal = EXCLUDED.personal, closes_at = EXCLUDED.closes_at, "
                "event_at = EXCLUDED.event_at, event_channel_id = EXCLUDED.event_channel_id, "
                "event_location = EXCLUDED.event_location",
                *night_values(night))
            await conn.execute("DELETE FROM movie_night_members WHERE guild_id = $1 AND "
                               "night_id = $2", night.guild_id, night.id)
            await conn.executemany(
                f"INSERT INTO movie_night_members ({MEMBER_COLUMNS}) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7)", member_values(night))

    async def movie_night_vote(self, guild_id: int, night_id: int, user_id: int,
                               vote: int | None) -> None:
        await self._execute(
            "UPDATE movie_night_members SET vote = $1, took_part = 1 WHERE guild_id = $2 "
            "AND night_id = $3 AND user_id = $4", vote, guild_id, night_id, user_id)

    async def delete_movie_night(self, guild_id: int, night_id: int) -> None:
        async with self._tx() as conn:
            await conn.execute("DELETE FROM movie_night_members WHERE guild_id = $1 AND "
                               "night_id = $2", guild_id, night_id)
            await conn.execute("DELETE FROM movie_nights WHERE guild_id = $1 AND id = $2",
                               guild_id, night_id)

    async def open_movie_nights(self, guild_ids: Sequence[int]) -> list[StoredNight]:
        ids = sorted({int(g) for g in guild_ids})
        if not ids:
            return []
        nights = await self._fetch(
            f"SELECT {NIGHT_COLUMNS} FROM movie_nights WHERE guild_id = ANY($1::bigint[]) "
            "ORDER BY closes_at, id", ids)
        members = await self._fetch(
            f"SELECT {MEMBER_COLUMNS} FROM movie_night_members "
            "WHERE guild_id = ANY($1::bigint[]) ORDER BY guild_id, night_id, starter DESC, "
            "user_id", ids)
        return nights_from_rows(nights, members)

    async def save_night_event(self, event: NightEvent) -> None:
        await self._execute(
            f"INSERT INTO movie_night_events ({EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) "
            "ON CONFLICT (guild_id, event_id) DO UPDATE SET movie_id = EXCLUDED.movie_id, "
            "channel_id = EXCLUDED.channel_id, starts_at = EXCLUDED.starts_at, "
            "remind_at = EXCLUDED.remind_at", *event_values(event))

    async def delete_night_event(self, guild_id: int, event_id: int) -> None:
        await self._execute("DELETE FROM movie_night_events WHERE guild_id = $1 AND "
                            "event_id = $2", guild_id, event_id)

    async def night_events(self, guild_ids: Sequence[int]) -> list[NightEvent]:
        ids = sorted({int(g) for g in guild_ids})
        if not ids:
            return []
        rows = await self._fetch(
            f"SELECT {EVENT_COLUMNS} FROM movie_night_events "
            "WHERE guild_id = ANY($1::bigint[]) ORDER BY remind_at, event_id", ids)
        return [event_from_row(row) for row in rows]
