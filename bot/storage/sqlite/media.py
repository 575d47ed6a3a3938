"""SQLite storage, linked media accounts and their synced history (issue 25).

A sync's ratings are written with `source` = the service; a rating whose source is
'member' (given with /rate or /import) is never overwritten by one (`save_media_history`).
Deleting a link deletes its history and the ratings it brought (`delete_media_link`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from bot.domain.media import HistoryWrite, MediaLink, SeenMovie
from bot.domain.models import Movie

from ..models import MOVIE_COLUMNS
from ..sql.common import movie_from_row
from ..sql.media import LINK_COLUMNS, link_from_row, link_values, plan_ratings
from .base import _IN_CHUNK, _VISIBLE, SqliteBase


class SqliteMedia(SqliteBase):
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

    async def media_link(self, guild_id: int, user_id: int, service: str) -> MediaLink | None:
        row = await self._fetchone(
            f"SELECT {LINK_COLUMNS} FROM media_links WHERE guild_id = ? AND user_id = ? "
            "AND service = ?", (guild_id, user_id, service))
        return link_from_row(row) if row else None

    async def media_links(self, guild_id: int, user_id: int) -> list[MediaLink]:
        rows = await self._fetchall(
            f"SELECT {LINK_COLUMNS} FROM media_links WHERE guild_id = ? AND user_id = ? "
            "ORDER BY service", (guild_id, user_id))
        return [link_from_row(r) for r in rows]

    async def media_account_owner(self, guild_id: int, service: str,
                                  account_id: str) -> int | None:
        """The member of the guild who linked this account of the service, if any."""
        row = await self._fetchone(
            "SELECT user_id FROM media_links WHERE guild_id = ? AND service = ? "
            "AND account_id = ? LIMIT 1", (guild_id, service, account_id))
        return int(row[0]) if row else None

    async def media_links_due(self, now: float, limit: int = 100) -> list[MediaLink]:
        """Links whose next sync is due (oldest first)."""
        rows = await self._fetchall(
            f"SELECT {LINK_COLUMNS} FROM media_links WHERE next_sync_at IS NOT NULL "
            "AND next_sync_at <= ? ORDER BY next_sync_at LIMIT ?", (now, limit))
        return [link_from_row(r) for r in rows]

    async def update_media_tokens(self, guild_id: int, user_id: int, service: str,
                                  access: str | None, refresh: str | None,
                                  expires_at: float | None) -> None:
        await self._write(
            "UPDATE media_links SET access_token = ?, refresh_token = ?, token_expires_at = ? "
            "WHERE guild_id = ? AND user_id = ? AND service = ?",
            (access, refresh, expires_at, guild_id, user_id, service))

    async def media_synced(self, guild_id: int, user_id: int, service: str, *,
                           synced_at: float | None, next_sync_at: float | None,
                           summary: str) -> None:
        await self._write(
            "UPDATE media_links SET synced_at = COALESCE(?, synced_at), next_sync_at = ?, "
            "sync_summary = ? WHERE guild_id = ? AND user_id = ? AND service = ?",
            (synced_at, next_sync_at, summary, guild_id, user_id, service))

    async def movies_by_tmdb(self, guild_id: int, tmdb_ids: Iterable[int]) -> dict[int, Movie]:
        """{TMDB id: movie} for the ids visible in the guild (its own first)."""
        ids = sorted({int(i) for i in tmdb_ids if i})
        found: dict[int, Movie] = {}
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start:start + _IN_CHUNK]
            rows = await self._fetchall(
                f"SELECT {MOVIE_COLUMNS} FROM movies m WHERE m.tmdb_id IN "
                f"({', '.join('?' * len(chunk))}) AND {_VISIBLE} "
                "ORDER BY m.guild_id IS NULL, m.id", (*chunk, guild_id))
            for row in rows:
                found.setdefault(int(row[7]), movie_from_row(row))
        return found

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

    async def seen_movie_ids(self, guild_id: int, user_id: int) -> list[int]:
        """Every movie a linked account says the member watched (any service)."""
        rows = await self._fetchall(
            "SELECT DISTINCT movie_id FROM media_history WHERE guild_id = ? AND user_id = ? "
            "ORDER BY movie_id", (guild_id, user_id))
        return [int(r[0]) for r in rows]

    async def media_history(self, guild_id: int, user_id: int) -> list[SeenMovie]:
        """The member's synced history, newest first (for /export)."""
        rows = await self._fetchall(
            f"SELECT {MOVIE_COLUMNS}, h.service, h.watched_at, h.rating FROM media_history h "
            "JOIN movies m ON m.id = h.movie_id WHERE h.guild_id = ? AND h.user_id = ? "
            "ORDER BY h.watched_at IS NULL, h.watched_at DESC, m.id", (guild_id, user_id))
        return [SeenMovie(str(r[8]), movie_from_row(r),
                          None if r[9] is None else datetime.fromtimestamp(r[9], UTC),
                          None if r[10] is None else int(r[10])) for r in rows]

    async def delete_media_link(self, guild_id: int, user_id: int,
                                service: str) -> tuple[MediaLink | None, int]:
        """Remove the link, its history and the ratings it brought; returns the removed link
        (its tokens, to revoke) and how many ratings went."""
        async with self._transaction() as conn:
            row = await self._fetchone(
                f"SELECT {LINK_COLUMNS} FROM media_links WHERE guild_id = ? AND user_id = ? "
                "AND service = ?", (guild_id, user_id, service))
            await conn.execute(
                "DELETE FROM media_links WHERE guild_id = ? AND user_id = ? AND service = ?",
                (guild_id, user_id, service))
            await conn.execute(
                "DELETE FROM media_history WHERE guild_id = ? AND user_id = ? AND service = ?",
                (guild_id, user_id, service))
            cursor = await conn.execute(
                "DELETE FROM ratings WHERE guild_id = ? AND user_id = ? AND source = ?",
                (guild_id, user_id, service))
            ratings = max(cursor.rowcount, 0)
            await cursor.close()
        return (link_from_row(row) if row else None), ratings

    async def delete_member_media(self, guild_id: int, user_id: int) -> list[MediaLink]:
        """Remove every link of the member in the guild and their synced history (their
        ratings go with /forgetme's); returns the removed links (tokens to revoke)."""
        async with self._transaction() as conn:
            rows = await self._fetchall(
                f"SELECT {LINK_COLUMNS} FROM media_links WHERE guild_id = ? AND user_id = ?",
                (guild_id, user_id))
            await conn.execute("DELETE FROM media_links WHERE guild_id = ? AND user_id = ?",
                               (guild_id, user_id))
            await conn.execute("DELETE FROM media_history WHERE guild_id = ? AND user_id = ?",
                               (guild_id, user_id))
        return [link_from_row(r) for r in rows]

    async def guild_media_links(self, guild_id: int) -> list[MediaLink]:
        """Every link in the guild (a purge revokes their tokens first)."""
        rows = await self._fetchall(
            f"SELECT {LINK_COLUMNS} FROM media_links WHERE guild_id = ?", (guild_id,))
        return [link_from_row(r) for r in rows]
