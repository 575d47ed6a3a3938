"""PostgreSQL storage of the media server's library, Seerr requests and "now available"
notices: the same contract as `sqlite/library.py` (read its docstring), in PostgreSQL's
terms."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

from bot.domain.library import LibraryItem, NotifyTarget, SeerrRequest

from ..sql.library import (
    ITEM_COLUMNS,
    NOTIFY_TARGETS,
    REQUEST_COLUMNS,
    item_from_row,
    item_rows,
    item_targets_sql,
    library_sql,
    request_from_row,
    target_label,
)
from .base import PostgresBase


class PostgresLibrary(PostgresBase):
    """The library, Seerr requests and "now available" notices."""

    async def replace_library(self, server: str, items: Sequence[LibraryItem],
                              now: float) -> tuple[list[LibraryItem], bool]:
        rows = await asyncio.to_thread(item_rows, items, now)
        async with self._tx() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('media_library'))")
            before = {str(r[0]) for r in await conn.fetch(
                "SELECT item_id FROM media_library WHERE server = $1", server)}
            await conn.execute(
                "DELETE FROM media_library WHERE server = $1 AND NOT (item_id = ANY($2::text[]))",
                server, [item.item_id for item in items])
            columns: list[list[Any]] = ([list(c) for c in zip(*rows, strict=True)] if rows
                                        else [[] for _ in range(9)])
            await conn.execute(
                "INSERT INTO media_library (server, item_id, title, norm_title, year, tmdb_id, "
                "imdb_id, url, seen_at) SELECT * FROM unnest($1::text[], $2::text[], "
                "$3::text[], $4::text[], $5::int[], $6::bigint[], $7::text[], $8::text[], "
                "$9::float8[]) ON CONFLICT (server, item_id) DO UPDATE SET "
                "title = excluded.title, norm_title = excluded.norm_title, "
                "year = excluded.year, tmdb_id = excluded.tmdb_id, imdb_id = excluded.imdb_id, "
                "url = excluded.url, seen_at = excluded.seen_at",
                *columns)
        return [item for item in items if item.item_id not in before], bool(before)

    async def library_items(self, server: str | None = None) -> list[LibraryItem]:
        if server:
            rows = await self._fetch(
                f"SELECT {ITEM_COLUMNS} FROM media_library l WHERE l.server = $1 "
                "ORDER BY l.server, l.item_id", server)
        else:
            rows = await self._fetch(
                f"SELECT {ITEM_COLUMNS} FROM media_library l ORDER BY l.server, l.item_id")
        return [item_from_row(r) for r in rows]

    async def library_movies(self, guild_id: int) -> dict[int, LibraryItem]:
        rows = await self._fetch(library_sql("$1"), guild_id)
        found: dict[int, LibraryItem] = {}
        for row in rows:
            found.setdefault(int(row[0]), item_from_row(list(row)[1:8]))
        return found

    async def claim_seerr_request(self, tmdb_id: int, seerr_user_id: int,
                                  now: float) -> SeerrRequest | None:
        claimed = await self._execute(
            f"INSERT INTO seerr_requests ({REQUEST_COLUMNS}) "
            "VALUES ($1, $2, NULL, 'requesting', $3) ON CONFLICT (tmdb_id) DO NOTHING",
            tmdb_id, seerr_user_id, now)
        if claimed:
            return None
        return await self.seerr_request(tmdb_id)

    async def seerr_request(self, tmdb_id: int) -> SeerrRequest | None:
        row = await self._row(
            f"SELECT {REQUEST_COLUMNS} FROM seerr_requests WHERE tmdb_id = $1", tmdb_id)
        return request_from_row(row) if row else None

    async def update_seerr_request(self, tmdb_id: int, request_id: int | None,
                                   status: str) -> None:
        await self._execute(
            "UPDATE seerr_requests SET request_id = COALESCE($1, request_id), status = $2 "
            "WHERE tmdb_id = $3", request_id, status, tmdb_id)

    async def release_seerr_request(self, tmdb_id: int) -> None:
        await self._execute("DELETE FROM seerr_requests WHERE tmdb_id = $1", tmdb_id)

    async def set_notify(self, guild_id: int, user_id: int, on: bool, now: float) -> None:
        if on:
            await self._execute(
                "INSERT INTO media_notify (guild_id, user_id, since) VALUES ($1, $2, $3) "
                "ON CONFLICT (guild_id, user_id) DO NOTHING", guild_id, user_id, now)
        else:
            await self._execute(
                "DELETE FROM media_notify WHERE guild_id = $1 AND user_id = $2",
                guild_id, user_id)

    async def notify_on(self, guild_id: int, user_id: int) -> bool:
        row = await self._row(
            "SELECT 1 FROM media_notify WHERE guild_id = $1 AND user_id = $2",
            guild_id, user_id)
        return row is not None

    async def notify_targets(self, tmdb_ids: Iterable[int],
                             imdb_ids: Iterable[str] = ()) -> list[NotifyTarget]:
        rows = await self._fetch(NOTIFY_TARGETS.format(
            where="m.tmdb_id = ANY($1::bigint[]) OR m.imdb_id = ANY($2::text[])"),
            sorted({int(i) for i in tmdb_ids}), sorted(set(imdb_ids)))
        found: dict[tuple[int, int, int], NotifyTarget] = {}
        for r in rows:
            found.setdefault((int(r[0]), int(r[1]), int(r[2])), NotifyTarget(
                int(r[0]), int(r[1]), int(r[2]), target_label(str(r[3]), r[4])))
        return list(found.values())

    async def item_notify_targets(self, server: str,
                                  item_ids: Sequence[str]) -> list[NotifyTarget]:
        sql = item_targets_sql("= ANY($2::text[])").replace("{server}", "$1")
        rows = await self._fetch(sql, server, sorted(set(item_ids)))
        found: dict[tuple[int, int, int], NotifyTarget] = {}
        for r in rows:
            found.setdefault((int(r[0]), int(r[1]), int(r[2])), NotifyTarget(
                int(r[0]), int(r[1]), int(r[2]), target_label(str(r[3]), r[4])))
        return sorted(found.values(), key=lambda t: (t.guild_id, t.user_id, t.movie_id))

    async def claim_notified(self, guild_id: int, user_id: int, movie_id: int,
                             now: float) -> bool:
        return bool(await self._execute(
            "INSERT INTO media_notified (guild_id, user_id, movie_id, sent_at) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            guild_id, user_id, movie_id, now))

    async def notify_record(self, guild_id: int,
                            user_id: int) -> tuple[float | None, list[tuple[str, float]]]:
        row = await self._row(
            "SELECT since FROM media_notify WHERE guild_id = $1 AND user_id = $2",
            guild_id, user_id)
        rows = await self._fetch(
            "SELECT m.title, m.year, n.sent_at FROM media_notified n JOIN movies m "
            "ON m.id = n.movie_id WHERE n.guild_id = $1 AND n.user_id = $2 "
            "ORDER BY n.sent_at, m.id", guild_id, user_id)
        return (None if row is None else float(row[0]),
                [(target_label(str(r[0]), r[1]), float(r[2])) for r in rows])
