"""Stored movie-night votes, written once for both backends: the candidates as JSON text,
`StoredNight`s put back together from a night's row and its members' rows, the Join messages
(`StoredJoin`, hidden ratings: their members are rows of `movie_night_members` too), and the
queries (`MovieNightQueries`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.domain.movie_nights import (
    NightCandidate,
    NightEvent,
    NightMember,
    StoredJoin,
    StoredNight,
)

from .executor import SqlStorage

NIGHT_COLUMNS = ("guild_id, id, channel_id, message_id, poll_message_id, candidates, personal, "
                 "closes_at, event_at, event_channel_id, event_location, language")
EVENT_COLUMNS = "guild_id, event_id, movie_id, channel_id, starts_at, remind_at"
MEMBER_COLUMNS = "guild_id, night_id, user_id, name, starter, took_part, vote"
JOIN_COLUMNS = ("guild_id, id, channel_id, message_id, candidates, hours, expires_at, event_at, "
                "event_channel_id, event_location, allowed, language")


def candidates_text(night: StoredNight) -> str:
    return json.dumps([[c.movie_id, c.score, c.new_here] for c in night.candidates])


def night_values(night: StoredNight) -> tuple[Any, ...]:
    return (night.guild_id, night.id, night.channel_id, night.message_id,
            night.poll_message_id, candidates_text(night), int(night.personal), night.closes_at,
            night.event_at, night.event_channel_id, night.event_location, night.language)


def member_values(night: StoredNight | StoredJoin) -> list[tuple[Any, ...]]:
    return [(night.guild_id, night.id, m.user_id, m.name, int(m.starter), int(m.took_part),
             m.vote) for m in night.members]


def members_by_night(members: Sequence[Sequence[Any]]
                     ) -> dict[tuple[int, int], list[NightMember]]:
    """{(guild id, night id): its members} from rows of `MEMBER_COLUMNS`."""
    by_night: dict[tuple[int, int], list[NightMember]] = {}
    for row in members:
        by_night.setdefault((int(row[0]), int(row[1])), []).append(
            NightMember(int(row[2]), str(row[3]), bool(row[4]), bool(row[5]),
                        None if row[6] is None else int(row[6])))
    return by_night


def nights_from_rows(nights: Sequence[Sequence[Any]], members: Sequence[Sequence[Any]]
                     ) -> list[StoredNight]:
    """Nights (rows of `NIGHT_COLUMNS`) with their members (rows of `MEMBER_COLUMNS`)."""
    by_night = members_by_night(members)
    out = []
    for row in nights:
        candidates = tuple(NightCandidate(int(c[0]), float(c[1]), bool(c[2]))
                           for c in json.loads(row[5]))
        out.append(StoredNight(
            id=int(row[1]), guild_id=int(row[0]), channel_id=int(row[2]),
            message_id=None if row[3] is None else int(row[3]),
            poll_message_id=None if row[4] is None else int(row[4]),
            candidates=candidates, personal=bool(row[6]), closes_at=float(row[7]),
            members=tuple(by_night.get((int(row[0]), int(row[1])), ())),
            event_at=None if row[8] is None else float(row[8]),
            event_channel_id=None if row[9] is None else int(row[9]),
            event_location=row[10],
            language=None if row[11] is None else str(row[11])))
    return out


def join_values(join: StoredJoin) -> tuple[Any, ...]:
    allowed = None if join.allowed is None else json.dumps(sorted(join.allowed))
    return (join.guild_id, join.id, join.channel_id, join.message_id, join.candidates,
            join.hours, join.expires_at, join.event_at, join.event_channel_id,
            join.event_location, allowed, join.language)


def joins_from_rows(joins: Sequence[Sequence[Any]], members: Sequence[Sequence[Any]]
                    ) -> list[StoredJoin]:
    """Join messages (rows of `JOIN_COLUMNS`) with their members (rows of `MEMBER_COLUMNS`)."""
    by_night = members_by_night(members)
    return [StoredJoin(
        id=int(row[1]), guild_id=int(row[0]), channel_id=int(row[2]),
        message_id=None if row[3] is None else int(row[3]), candidates=int(row[4]),
        hours=None if row[5] is None else int(row[5]), expires_at=float(row[6]),
        members=tuple(by_night.get((int(row[0]), int(row[1])), ())),
        event_at=None if row[7] is None else float(row[7]),
        event_channel_id=None if row[8] is None else int(row[8]), event_location=row[9],
        allowed=None if row[10] is None else frozenset(int(i) for i in json.loads(row[10])),
        language=str(row[11])) for row in joins]


def event_values(event: NightEvent) -> tuple[Any, ...]:
    return (event.guild_id, event.event_id, event.movie_id, event.channel_id, event.starts_at,
            event.remind_at)


def event_from_row(row: Sequence[Any]) -> NightEvent:
    return NightEvent(int(row[0]), int(row[1]), int(row[2]), int(row[3]), float(row[4]),
                      float(row[5]))


class MovieNightQueries(SqlStorage):
    """Open movie-night votes, their members' parts and winners' events, written once for
    both backends (see the contract for each method's meaning). Dialect hook:
    `MEMBERS_ORDER`, the order members come back in (SQLite: as saved; PostgreSQL: starter
    first, then by member id)."""

    MEMBERS_ORDER: str

    async def save_movie_night(self, night: StoredNight) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                f"INSERT INTO movie_nights ({NIGHT_COLUMNS}) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
                "ON CONFLICT (guild_id, id) DO UPDATE "
                "SET channel_id = EXCLUDED.channel_id, message_id = EXCLUDED.message_id, "
                "poll_message_id = EXCLUDED.poll_message_id, candidates = EXCLUDED.candidates, "
                "personal = EXCLUDED.personal, closes_at = EXCLUDED.closes_at, "
                "event_at = EXCLUDED.event_at, event_channel_id = EXCLUDED.event_channel_id, "
                "event_location = EXCLUDED.event_location, language = EXCLUDED.language",
                *night_values(night))
            await tx.execute("DELETE FROM movie_night_members WHERE guild_id = $1 AND "
                             "night_id = $2", night.guild_id, night.id)
            await tx.executemany(
                f"INSERT INTO movie_night_members ({MEMBER_COLUMNS}) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7)", member_values(night))

    async def movie_night_vote(self, guild_id: int, night_id: int, user_id: int,
                               vote: int | None) -> None:
        await self._db.execute(
            "UPDATE movie_night_members SET vote = $1, took_part = 1 WHERE guild_id = $2 "
            "AND night_id = $3 AND user_id = $4", vote, guild_id, night_id, user_id)

    async def delete_movie_night(self, guild_id: int, night_id: int) -> None:
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM movie_night_members WHERE guild_id = $1 AND "
                             "night_id = $2", guild_id, night_id)
            await tx.execute("DELETE FROM movie_nights WHERE guild_id = $1 AND id = $2",
                             guild_id, night_id)

    async def open_movie_nights(self, guild_ids: Sequence[int]) -> list[StoredNight]:
        ids = sorted({int(g) for g in guild_ids})
        if not ids:
            return []
        guilds = self._db.any_of("guild_id", 1)
        nights = await self._db.fetchall(
            f"SELECT {NIGHT_COLUMNS} FROM movie_nights WHERE {guilds} ORDER BY closes_at, id",
            self._db.values(ids))
        members = await self._db.fetchall(
            f"SELECT {MEMBER_COLUMNS} FROM movie_night_members WHERE {guilds} "
            f"ORDER BY {self.MEMBERS_ORDER}", self._db.values(ids))
        return nights_from_rows(nights, members)

    async def save_movie_night_join(self, join: StoredJoin) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                f"INSERT INTO movie_night_joins ({JOIN_COLUMNS}) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
                "ON CONFLICT (guild_id, id) DO UPDATE "
                "SET channel_id = EXCLUDED.channel_id, message_id = EXCLUDED.message_id, "
                "candidates = EXCLUDED.candidates, hours = EXCLUDED.hours, "
                "expires_at = EXCLUDED.expires_at, event_at = EXCLUDED.event_at, "
                "event_channel_id = EXCLUDED.event_channel_id, "
                "event_location = EXCLUDED.event_location, allowed = EXCLUDED.allowed, "
                "language = EXCLUDED.language",
                *join_values(join))
            await tx.execute("DELETE FROM movie_night_members WHERE guild_id = $1 AND "
                             "night_id = $2", join.guild_id, join.id)
            await tx.executemany(
                f"INSERT INTO movie_night_members ({MEMBER_COLUMNS}) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7)", member_values(join))

    async def delete_movie_night_join(self, guild_id: int, join_id: int) -> None:
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM movie_night_members WHERE guild_id = $1 AND "
                             "night_id = $2", guild_id, join_id)
            await tx.execute("DELETE FROM movie_night_joins WHERE guild_id = $1 AND id = $2",
                             guild_id, join_id)

    async def movie_night_joins(self, guild_ids: Sequence[int]) -> list[StoredJoin]:
        ids = sorted({int(g) for g in guild_ids})
        if not ids:
            return []
        guilds = self._db.any_of("guild_id", 1)
        joins = await self._db.fetchall(
            f"SELECT {JOIN_COLUMNS} FROM movie_night_joins WHERE {guilds} "
            "ORDER BY expires_at, id", self._db.values(ids))
        if not joins:
            return []
        members = await self._db.fetchall(
            f"SELECT {MEMBER_COLUMNS} FROM movie_night_members WHERE {guilds} "
            f"ORDER BY {self.MEMBERS_ORDER}", self._db.values(ids))
        return joins_from_rows(joins, members)

    async def skip_night_events(self, guild_id: int, user_id: int) -> int:
        return await self._db.execute(
            "INSERT INTO movie_night_skips (guild_id, event_id, user_id) "
            "SELECT guild_id, event_id, CAST($2 AS bigint) FROM movie_night_events "
            "WHERE guild_id = $1 "
            "ON CONFLICT (guild_id, event_id, user_id) DO NOTHING", guild_id, user_id)

    async def night_event_skips(self, guild_id: int, event_id: int) -> set[int]:
        rows = await self._db.fetchall(
            "SELECT user_id FROM movie_night_skips WHERE guild_id = $1 AND event_id = $2",
            guild_id, event_id)
        return {int(row[0]) for row in rows}

    async def save_night_event(self, event: NightEvent) -> None:
        await self._db.execute(
            f"INSERT INTO movie_night_events ({EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) "
            "ON CONFLICT (guild_id, event_id) DO UPDATE SET movie_id = EXCLUDED.movie_id, "
            "channel_id = EXCLUDED.channel_id, starts_at = EXCLUDED.starts_at, "
            "remind_at = EXCLUDED.remind_at", *event_values(event))

    async def delete_night_event(self, guild_id: int, event_id: int) -> None:
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM movie_night_skips WHERE guild_id = $1 AND "
                             "event_id = $2", guild_id, event_id)
            await tx.execute("DELETE FROM movie_night_events WHERE guild_id = $1 AND "
                             "event_id = $2", guild_id, event_id)

    async def night_events(self, guild_ids: Sequence[int]) -> list[NightEvent]:
        ids = sorted({int(g) for g in guild_ids})
        if not ids:
            return []
        rows = await self._db.fetchall(
            f"SELECT {EVENT_COLUMNS} FROM movie_night_events "
            f"WHERE {self._db.any_of('guild_id', 1)} ORDER BY remind_at, event_id",
            self._db.values(ids))
        return [event_from_row(row) for row in rows]
