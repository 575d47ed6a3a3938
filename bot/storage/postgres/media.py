"""PostgreSQL storage, linked media accounts and their synced history: the same contract as
`sqlite/media.py` (read its docstring), in PostgreSQL's terms."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from bot.domain.media import HistoryWrite, MediaLink, SeenMovie
from bot.domain.models import Movie

from ..models import MOVIE_COLUMNS
from ..sql.common import movie_from_row, visible
from ..sql.media import LINK_COLUMNS, link_from_row, link_values, plan_ratings
from .base import PostgresBase, _count

_PLACES = ", ".join(f"${i}" for i in range(1, 13))


class PostgresMedia(PostgresBase):
    """Linked media accounts and their synced history."""

    async def save_media_link(self, link: MediaLink) -> None:
        async with self._tx() as conn:
            old = await conn.fetchval(
                "SELECT account_id FROM media_links WHERE guild_id = $1 AND user_id = $2 "
                "AND service = $3 FOR UPDATE", link.guild_id, link.user_id, link.service)
            if old is not None and str(old) != link.account_id:
                await conn.execute(
                    "DELETE FROM media_history WHERE guild_id = $1 AND user_id = $2 "
                    "AND service = $3", link.guild_id, link.user_id, link.service)
            await conn.execute(
                f"INSERT INTO media_links ({LINK_COLUMNS}) VALUES ({_PLACES}) "
                "ON CONFLICT (guild_id, user_id, service) DO UPDATE SET "
                "account_id = excluded.account_id, account_name = excluded.account_name, "
                "linked_at = excluded.linked_at, access_token = excluded.access_token, "
                "refresh_token = excluded.refresh_token, "
                "token_expires_at = excluded.token_expires_at, synced_at = excluded.synced_at, "
                "next_sync_at = excluded.next_sync_at, sync_summary = excluded.sync_summary",
                *link_values(link))

    async def media_link(self, guild_id: int, user_id: int, service: str) -> MediaLink | None:
        row = await self._row(
            f"SELECT {LINK_COLUMNS} FROM media_links WHERE guild_id = $1 AND user_id = $2 "
            "AND service = $3", guild_id, user_id, service)
        return link_from_row(row) if row else None

    async def media_links(self, guild_id: int, user_id: int) -> list[MediaLink]:
        rows = await self._fetch(
            f"SELECT {LINK_COLUMNS} FROM media_links WHERE guild_id = $1 AND user_id = $2 "
            "ORDER BY service", guild_id, user_id)
        return [link_from_row(r) for r in rows]

    async def media_account_owner(self, guild_id: int, service: str,
                                  account_id: str) -> int | None:
        row = await self._row(
            "SELECT user_id FROM media_links WHERE guild_id = $1 AND service = $2 "
            "AND account_id = $3 LIMIT 1", guild_id, service, account_id)
        return int(row[0]) if row else None

    async def media_links_due(self, now: float, limit: int = 100) -> list[MediaLink]:
        rows = await self._fetch(
            f"SELECT {LINK_COLUMNS} FROM media_links WHERE next_sync_at IS NOT NULL "
            "AND next_sync_at <= $1 ORDER BY next_sync_at LIMIT $2", now, limit)
        return [link_from_row(r) for r in rows]

    async def update_media_tokens(self, guild_id: int, user_id: int, service: str,
                                  access: str | None, refresh: str | None,
                                  expires_at: float | None) -> None:
        await self._execute(
            "UPDATE media_links SET access_token = $1, refresh_token = $2, "
            "token_expires_at = $3 WHERE guild_id = $4 AND user_id = $5 AND service = $6",
            access, refresh, expires_at, guild_id, user_id, service)

    async def media_synced(self, guild_id: int, user_id: int, service: str, *,
                           synced_at: float | None, next_sync_at: float | None,
                           summary: str) -> None:
        await self._execute(
            "UPDATE media_links SET synced_at = COALESCE($1, synced_at), next_sync_at = $2, "
            "sync_summary = $3 WHERE guild_id = $4 AND user_id = $5 AND service = $6",
            synced_at, next_sync_at, summary, guild_id, user_id, service)

    async def movies_by_tmdb(self, guild_id: int, tmdb_ids: Iterable[int]) -> dict[int, Movie]:
        ids = sorted({int(i) for i in tmdb_ids if i})
        rows = await self._fetch(
            f"SELECT {MOVIE_COLUMNS} FROM movies m WHERE m.tmdb_id = ANY($1::bigint[]) "
            f"AND {visible(2)} ORDER BY m.guild_id IS NULL, m.id", ids, guild_id)
        found: dict[int, Movie] = {}
        for row in rows:
            found.setdefault(int(row[7]), movie_from_row(row))
        return found

    async def save_media_history(self, guild_id: int, user_id: int, service: str,
                                 seen: Sequence[tuple[int, float | None, int | None]]
                                 ) -> HistoryWrite:
        now = time.time()
        async with self._tx() as conn:
            linked = await conn.fetchval(
                "SELECT 1 FROM media_links WHERE guild_id = $1 AND user_id = $2 "
                "AND service = $3 FOR SHARE", guild_id, user_id, service)
            if linked is None:  # unlinked or forgotten while the sync ran: nothing is kept
                return HistoryWrite(0, 0, 0)
            before = {int(r[0]) for r in await conn.fetch(
                "SELECT movie_id FROM media_history WHERE guild_id = $1 AND user_id = $2 "
                "AND service = $3", guild_id, user_id, service)}
            await conn.execute(
                "INSERT INTO media_history AS h (guild_id, user_id, movie_id, service, "
                "watched_at, rating) SELECT $1, $2, v.movie_id, $3, v.watched_at, v.rating "
                "FROM unnest($4::bigint[], $5::float8[], $6::smallint[]) "
                "AS v(movie_id, watched_at, rating) "
                "ON CONFLICT (guild_id, user_id, movie_id, service) DO UPDATE SET "
                "watched_at = COALESCE(excluded.watched_at, h.watched_at), "
                "rating = excluded.rating",
                guild_id, user_id, service, [m for m, _w, _r in seen],
                [w for _m, w, _r in seen], [r for _m, _w, r in seen])
            existing = {int(r[0]): (int(r[1]), str(r[2])) for r in await conn.fetch(
                "SELECT movie_id, score, source FROM ratings WHERE guild_id = $1 "
                "AND user_id = $2 FOR UPDATE", guild_id, user_id)}
            writes, kept = plan_ratings(existing, seen)
            await conn.execute(
                "INSERT INTO ratings AS r (guild_id, user_id, movie_id, score, updated_at, "
                "source) SELECT $1, $2, v.movie_id, v.score, $5, $6 "
                "FROM unnest($3::bigint[], $4::smallint[]) AS v(movie_id, score) "
                "ON CONFLICT (guild_id, user_id, movie_id) DO UPDATE SET "
                "score = excluded.score, updated_at = excluded.updated_at, "
                "source = excluded.source WHERE r.source <> 'member'",
                guild_id, user_id, [m for m, _s in writes], [s for _m, s in writes], now,
                service)
        return HistoryWrite(sum(1 for m, _w, _r in seen if m not in before), len(writes),
                            kept)

    async def seen_movie_ids(self, guild_id: int, user_id: int) -> list[int]:
        rows = await self._fetch(
            "SELECT DISTINCT movie_id FROM media_history WHERE guild_id = $1 AND user_id = $2 "
            "ORDER BY movie_id", guild_id, user_id)
        return [int(r[0]) for r in rows]

    async def media_history(self, guild_id: int, user_id: int) -> list[SeenMovie]:
        rows = await self._fetch(
            f"SELECT {MOVIE_COLUMNS}, h.service, h.watched_at, h.rating FROM media_history h "
            "JOIN movies m ON m.id = h.movie_id WHERE h.guild_id = $1 AND h.user_id = $2 "
            "ORDER BY h.watched_at IS NULL, h.watched_at DESC, m.id", guild_id, user_id)
        return [SeenMovie(str(r[8]), movie_from_row(r),
                          None if r[9] is None else datetime.fromtimestamp(r[9], UTC),
                          None if r[10] is None else int(r[10])) for r in rows]

    async def delete_media_link(self, guild_id: int, user_id: int,
                                service: str) -> tuple[MediaLink | None, int]:
        async with self._tx() as conn:
            row = await conn.fetchrow(
                f"DELETE FROM media_links WHERE guild_id = $1 AND user_id = $2 "
                f"AND service = $3 RETURNING {LINK_COLUMNS}", guild_id, user_id, service)
            await conn.execute(
                "DELETE FROM media_history WHERE guild_id = $1 AND user_id = $2 "
                "AND service = $3", guild_id, user_id, service)
            ratings = _count(await conn.execute(
                "DELETE FROM ratings WHERE guild_id = $1 AND user_id = $2 AND source = $3",
                guild_id, user_id, service))
        return (link_from_row(row) if row else None), ratings

    async def delete_member_media(self, guild_id: int, user_id: int) -> list[MediaLink]:
        async with self._tx() as conn:
            rows = await conn.fetch(
                f"DELETE FROM media_links WHERE guild_id = $1 AND user_id = $2 "
                f"RETURNING {LINK_COLUMNS}", guild_id, user_id)
            await conn.execute(
                "DELETE FROM media_history WHERE guild_id = $1 AND user_id = $2",
                guild_id, user_id)
        return [link_from_row(r) for r in rows]

    async def guild_media_links(self, guild_id: int) -> list[MediaLink]:
        rows = await self._fetch(
            f"SELECT {LINK_COLUMNS} FROM media_links WHERE guild_id = $1", guild_id)
        return [link_from_row(r) for r in rows]
