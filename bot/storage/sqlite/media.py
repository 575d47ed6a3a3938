"""SQLite storage, linked media accounts and their synced history (issue 25).

A sync's ratings are written with `source` = the service; a rating whose source is
'member' (given with /rate or /import) is never overwritten by one (`save_media_history`).
Deleting a link deletes its history and the ratings it brought (`delete_media_link`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from bot.domain.media import HistoryWrite, MediaLink

from ..sql.media import LINK_COLUMNS, MediaQueries, link_values, plan_ratings
from .base import SqliteBase


class SqliteMedia(MediaQueries, SqliteBase):
    """Linked media accounts and their synced history."""

    async def save_media_link(self, link: MediaLink) -> None:
        """Create or replace the member's link to the service (a new account starts over:
        the old account's history goes)."""
        async with self._transaction() as conn:
            row = await self._fetchone(
                "SELECT account_id FROM media_links WHERE guild_id = ? AND user_id = ? "
                "AND service = ?", (link.guild_id, link.user_id, link.service))
            if row is not None and str(row[0]) != link.account_id:
                await conn.execute(
                    "DELETE FROM media_history WHERE guild_id = ? AND user_id = ? "
                    "AND service = ?", (link.guild_id, link.user_id, link.service))
            await conn.execute(
                f"INSERT OR REPLACE INTO media_links ({LINK_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", link_values(link))

    async def save_media_history(self, guild_id: int, user_id: int, service: str,
                                 seen: Sequence[tuple[int, float | None, int | None]]
                                 ) -> HistoryWrite:
        """Record a sync's watched movies ((movie id, watched at, rating 1-10 | None), one
        per movie) and write its ratings (source = the service) where the member has none
        of their own, in one transaction."""
        now = time.time()
        async with self._transaction() as conn:
            linked = await self._fetchone(
                "SELECT 1 FROM media_links WHERE guild_id = ? AND user_id = ? AND service = ?",
                (guild_id, user_id, service))
            if linked is None:  # unlinked or forgotten while the sync ran: nothing is kept
                return HistoryWrite(0, 0, 0)
            before = {int(r[0]) for r in await self._fetchall(
                "SELECT movie_id FROM media_history WHERE guild_id = ? AND user_id = ? "
                "AND service = ?", (guild_id, user_id, service))}
            await conn.executemany(
                "INSERT INTO media_history (guild_id, user_id, movie_id, service, watched_at, "
                "rating) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (guild_id, user_id, movie_id, service) DO UPDATE SET "
                "watched_at = COALESCE(excluded.watched_at, watched_at), "
                "rating = excluded.rating",
                [(guild_id, user_id, m, service, w, r) for m, w, r in seen])
            existing = {int(r[0]): (int(r[1]), str(r[2])) for r in await self._fetchall(
                "SELECT movie_id, score, source FROM ratings WHERE guild_id = ? "
                "AND user_id = ?", (guild_id, user_id))}
            writes, kept = plan_ratings(existing, seen)
            await conn.executemany(
                "INSERT INTO ratings (guild_id, user_id, movie_id, score, updated_at, source) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id, user_id, movie_id) "
                "DO UPDATE SET score = excluded.score, updated_at = excluded.updated_at, "
                "source = excluded.source WHERE source != 'member'",
                [(guild_id, user_id, m, s, now, service) for m, s in writes])
        return HistoryWrite(sum(1 for m, _w, _r in seen if m not in before), len(writes),
                            kept)
