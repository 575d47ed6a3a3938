"""PostgreSQL storage, linked media accounts and their synced history: the same contract as
`sqlite/media.py` (read its docstring), in PostgreSQL's terms."""

from __future__ import annotations

import time
from collections.abc import Sequence

from bot.domain.media import HistoryWrite, MediaLink

from ..sql.media import LINK_COLUMNS, MediaQueries, link_values, plan_ratings
from .base import PostgresBase

_PLACES = ", ".join(f"${i}" for i in range(1, 13))


class PostgresMedia(MediaQueries, PostgresBase):
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
