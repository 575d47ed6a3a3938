"""Rows of stored movie-night votes, shared by both backends (no I/O): the candidates as
JSON text, and `StoredNight`s put back together from a night's row and its members' rows."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.domain.movie_nights import NightCandidate, NightEvent, NightMember, StoredNight

NIGHT_COLUMNS = ("guild_id, id, channel_id, message_id, poll_message_id, candidates, personal, "
                 "closes_at, event_at, event_channel_id, event_location")
EVENT_COLUMNS = "guild_id, event_id, movie_id, channel_id, starts_at, remind_at"
MEMBER_COLUMNS = "guild_id, night_id, user_id, name, starter, took_part, vote"


def candidates_text(night: StoredNight) -> str:
    return json.dumps([[c.movie_id, c.score, c.new_here] for c in night.candidates])


def night_values(night: StoredNight) -> tuple[Any, ...]:
    return (night.guild_id, night.id, night.channel_id, night.message_id,
            night.poll_message_id, candidates_text(night), int(night.personal), night.closes_at,
            night.event_at, night.event_channel_id, night.event_location)


def member_values(night: StoredNight) -> list[tuple[Any, ...]]:
    return [(night.guild_id, night.id, m.user_id, m.name, int(m.starter), int(m.took_part),
             m.vote) for m in night.members]


def nights_from_rows(nights: Sequence[Sequence[Any]], members: Sequence[Sequence[Any]]
                     ) -> list[StoredNight]:
    """Nights (rows of `NIGHT_COLUMNS`) with their members (rows of `MEMBER_COLUMNS`)."""
    by_night: dict[tuple[int, int], list[NightMember]] = {}
    for row in members:
        by_night.setdefault((int(row[0]), int(row[1])), []).append(
            NightMember(int(row[2]), str(row[3]), bool(row[4]), bool(row[5]),
                        None if row[6] is None else int(row[6])))
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
            event_location=row[10]))
    return out


def event_values(event: NightEvent) -> tuple[Any, ...]:
    return (event.guild_id, event.event_id, event.movie_id, event.channel_id, event.starts_at,
            event.remind_at)


def event_from_row(row: Sequence[Any]) -> NightEvent:
    return NightEvent(int(row[0]), int(row[1]), int(row[2]), int(row[3]), float(row[4]),
                      float(row[5]))
