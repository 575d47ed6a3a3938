"""Linked media accounts (issue 25), written once for both backends: the columns of a link, a
link from a row and back, which synced ratings a sync writes (`plan_ratings`), and the
queries (`MediaQueries`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from bot.domain.media import MediaLink, SeenMovie
from bot.domain.models import Movie

from ..models import MOVIE_COLUMNS
from .common import movie_from_row, visible
from .executor import SqlStorage

LINK_COLUMNS = ("guild_id, user_id, service, account_id, account_name, linked_at, "
                "access_token, refresh_token, token_expires_at, synced_at, next_sync_at, "
                "sync_summary")


def link_from_row(row: Sequence[Any]) -> MediaLink:
    return MediaLink(int(row[0]), int(row[1]), str(row[2]), str(row[3]), str(row[4]),
                     float(row[5]), row[6], row[7],
                     None if row[8] is None else float(row[8]),
                     None if row[9] is None else float(row[9]),
                     None if row[10] is None else float(row[10]), str(row[11] or ""))


def link_values(link: MediaLink) -> tuple[Any, ...]:
    return (link.guild_id, link.user_id, link.service, link.account_id, link.account_name,
            link.linked_at, link.access_token, link.refresh_token, link.token_expires_at,
            link.synced_at, link.next_sync_at, link.sync_summary)


def plan_ratings(existing: dict[int, tuple[int, str]],
                 seen: Sequence[tuple[int, float | None, int | None]]
                 ) -> tuple[list[tuple[int, int]], int]:
    """The (movie, score) ratings a sync writes, given the member's ratings ({movie: (score,
    source)}): a new one, or one a service gave that changed; never over the member's own.
    Also how many were kept because the member rated the movie themselves."""
    writes: list[tuple[int, int]] = []
    kept = 0
    for movie_id, _when, rating in seen:
        if rating is None:
            continue
        had = existing.get(movie_id)
        if had is None:
            writes.append((movie_id, rating))
        elif had[1] == "member":
            kept += 1
        elif had[0] != rating:
            writes.append((movie_id, rating))
    return writes, kept


class MediaQueries(SqlStorage):
    """Linked media accounts, written once for both backends (see the contract for each
    method's meaning). Dialect hooks stay in the backends' `media.py`: `save_media_link` and
    `save_media_history` (their upserts and bulk writes differ)."""

    async def media_link(self, guild_id: int, user_id: int, service: str) -> MediaLink | None:
        row = await self._db.fetchone(
            f"SELECT {LINK_COLUMNS} FROM media_links WHERE guild_id = $1 AND user_id = $2 "
            "AND service = $3", guild_id, user_id, service)
        return link_from_row(row) if row else None

    async def media_links(self, guild_id: int, user_id: int) -> list[MediaLink]:
        rows = await self._db.fetchall(
            f"SELECT {LINK_COLUMNS} FROM media_links WHERE guild_id = $1 AND user_id = $2 "
            "ORDER BY service", guild_id, user_id)
        return [link_from_row(r) for r in rows]

    async def media_account_owner(self, guild_id: int, service: str,
                                  account_id: str) -> int | None:
        row = await self._db.fetchone(
            "SELECT user_id FROM media_links WHERE guild_id = $1 AND service = $2 "
            "AND account_id = $3 LIMIT 1", guild_id, service, account_id)
        return int(row[0]) if row else None

    async def media_links_due(self, now: float, limit: int = 100) -> list[MediaLink]:
        rows = await self._db.fetchall(
            f"SELECT {LINK_COLUMNS} FROM media_links WHERE next_sync_at IS NOT NULL "
            "AND next_sync_at <= $1 ORDER BY next_sync_at LIMIT $2", now, limit)
        return [link_from_row(r) for r in rows]

    async def update_media_tokens(self, guild_id: int, user_id: int, service: str,
                                  access: str | None, refresh: str | None,
                                  expires_at: float | None) -> None:
        await self._db.execute(
            "UPDATE media_links SET access_token = $1, refresh_token = $2, "
            "token_expires_at = $3 WHERE guild_id = $4 AND user_id = $5 AND service = $6",
            access, refresh, expires_at, guild_id, user_id, service)

    async def media_synced(self, guild_id: int, user_id: int, service: str, *,
                           synced_at: float | None, next_sync_at: float | None,
                           summary: str) -> None:
        await self._db.execute(
            "UPDATE media_links SET synced_at = COALESCE($1, synced_at), next_sync_at = $2, "
            "sync_summary = $3 WHERE guild_id = $4 AND user_id = $5 AND service = $6",
            synced_at, next_sync_at, summary, guild_id, user_id, service)

    async def movies_by_tmdb(self, guild_id: int, tmdb_ids: Iterable[int]) -> dict[int, Movie]:
        ids = sorted({int(i) for i in tmdb_ids if i})
        rows = await self._db.fetchall(
            f"SELECT {MOVIE_COLUMNS} FROM movies m WHERE {self._db.any_of('m.tmdb_id', 1)} "
            f"AND {visible(2)} ORDER BY m.guild_id IS NULL, m.id", self._db.values(ids),
            guild_id)
        found: dict[int, Movie] = {}
        for row in rows:
            found.setdefault(int(row[7]), movie_from_row(row))
        return found

    async def seen_movie_ids(self, guild_id: int, user_id: int) -> list[int]:
        rows = await self._db.fetchall(
            "SELECT DISTINCT movie_id FROM media_history WHERE guild_id = $1 AND user_id = $2 "
            "ORDER BY movie_id", guild_id, user_id)
        return [int(r[0]) for r in rows]

    async def media_history(self, guild_id: int, user_id: int) -> list[SeenMovie]:
        rows = await self._db.fetchall(
            f"SELECT {MOVIE_COLUMNS}, h.service, h.watched_at, h.rating FROM media_history h "
            "JOIN movies m ON m.id = h.movie_id WHERE h.guild_id = $1 AND h.user_id = $2 "
            "ORDER BY h.watched_at IS NULL, h.watched_at DESC, m.id", guild_id, user_id)
        return [SeenMovie(str(r[8]), movie_from_row(r),
                          None if r[9] is None else datetime.fromtimestamp(r[9], UTC),
                          None if r[10] is None else int(r[10])) for r in rows]

    async def delete_media_link(self, guild_id: int, user_id: int,
                                service: str) -> tuple[MediaLink | None, int]:
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "DELETE FROM media_links WHERE guild_id = $1 AND user_id = $2 "
                f"AND service = $3 RETURNING {LINK_COLUMNS}", guild_id, user_id, service)
            await tx.execute(
                "DELETE FROM media_history WHERE guild_id = $1 AND user_id = $2 "
                "AND service = $3", guild_id, user_id, service)
            ratings = await tx.execute(
                "DELETE FROM ratings WHERE guild_id = $1 AND user_id = $2 AND source = $3",
                guild_id, user_id, service)
        return (link_from_row(row) if row else None), ratings

    async def delete_member_media(self, guild_id: int, user_id: int) -> list[MediaLink]:
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                "DELETE FROM media_links WHERE guild_id = $1 AND user_id = $2 "
                f"RETURNING {LINK_COLUMNS}", guild_id, user_id)
            await tx.execute(
                "DELETE FROM media_history WHERE guild_id = $1 AND user_id = $2",
                guild_id, user_id)
        return [link_from_row(r) for r in rows]

    async def guild_media_links(self, guild_id: int) -> list[MediaLink]:
        rows = await self._db.fetchall(
            f"SELECT {LINK_COLUMNS} FROM media_links WHERE guild_id = $1", guild_id)
        return [link_from_row(r) for r in rows]
