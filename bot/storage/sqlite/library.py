"""SQLite storage of the media server's library, Seerr requests and "now available" notices
(issue 25, items 3-5): the SQLite mixin
(`postgres/library.py` is the same in PostgreSQL's terms).

* The library is server data: every movie of the configured Jellyfin/Plex server
  (`replace_library` swaps one server's list in one transaction and says which items are
  new). A guild's movies are matched to it when asked (`library_movies`): by TMDB id, by IMDb
  id, then by normalised title and year where the ids do not contradict.
* `claim_seerr_request` makes "one request per movie" hold across presses and processes: the
  row is inserted before Seerr is asked; whoever finds it there does not ask again.
* `media_notify` (who wants DMs) and `media_notified` (who got one for which movie:
  `claim_notified` inserts before the DM goes) are member data, registered by
  `bot.service.notify`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

from bot.domain.library import LibraryItem, NotifyTarget, SeerrRequest

from ..sql.library import (
    ITEM_COLUMNS,
    MATCHES,
    NOTIFY_TARGETS,
    REQUEST_COLUMNS,
    item_from_row,
    item_rows,
    item_targets_sql,
    library_sql,
    request_from_row,
    target_label,
)
from .base import _IN_CHUNK, SqliteBase


class SqliteLibrary(SqliteBase):
    """The library, Seerr requests and "now available" notices."""

    # ------------------------------------------------------------------ library
    async def replace_library(self, server: str, items: Sequence[LibraryItem],
                              now: float) -> tuple[list[LibraryItem], bool]:
        """Make `items` the server's whole library; returns the items that were not in it
        before, and whether it held anything before (a first read finds nothing "new")."""
        rows = await asyncio.to_thread(item_rows, items, now)  # normalising titles: CPU
        async with self._transaction() as conn:
            before = {str(r[0]) for r in await self._fetchall(
                "SELECT item_id FROM media_library WHERE server = ?", (server,))}
            keep = {item.item_id for item in items}
            gone = sorted(before - keep)
            for start in range(0, len(gone), _IN_CHUNK):
                chunk = gone[start:start + _IN_CHUNK]
                await conn.execute(
                    f"DELETE FROM media_library WHERE server = ? AND item_id IN "
                    f"({', '.join('?' * len(chunk))})", (server, *chunk))
            await conn.executemany(
                "INSERT OR REPLACE INTO media_library (server, item_id, title, norm_title, "
                "year, tmdb_id, imdb_id, url, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows)
        return [item for item in items if item.item_id not in before], bool(before)

    async def library_items(self, server: str | None = None) -> list[LibraryItem]:
        rows = await self._fetchall(
            f"SELECT {ITEM_COLUMNS} FROM media_library l "
            + ("WHERE l.server = ? " if server else "") + "ORDER BY l.server, l.item_id",
            (server,) if server else ())
        return [item_from_row(r) for r in rows]

    async def library_movies(self, guild_id: int) -> dict[int, LibraryItem]:
        """{movie id: its library item} for the movies visible in the guild that the media
        server has (the best match of each)."""
        rows = await self._fetchall(library_sql("?"), (guild_id, guild_id, guild_id))
        found: dict[int, LibraryItem] = {}
        for row in rows:
            found.setdefault(int(row[0]), item_from_row(row[1:8]))
        return found

    # ------------------------------------------------------------------ Seerr requests
    async def claim_seerr_request(self, tmdb_id: int, seerr_user_id: int,
                                  now: float) -> SeerrRequest | None:
        """Claim the movie's request: None when this call claimed it (the caller asks Seerr),
        else the request already there."""
        claimed = await self._write(
            f"INSERT OR IGNORE INTO seerr_requests ({REQUEST_COLUMNS}) "
            "VALUES (?, ?, NULL, 'requesting', ?)", (tmdb_id, seerr_user_id, now))
        if claimed:
            return None
        row = await self._fetchone(
            f"SELECT {REQUEST_COLUMNS} FROM seerr_requests WHERE tmdb_id = ?", (tmdb_id,))
        return request_from_row(row) if row else None

    async def seerr_request(self, tmdb_id: int) -> SeerrRequest | None:
        row = await self._fetchone(
            f"SELECT {REQUEST_COLUMNS} FROM seerr_requests WHERE tmdb_id = ?", (tmdb_id,))
        return request_from_row(row) if row else None

    async def update_seerr_request(self, tmdb_id: int, request_id: int | None,
                                   status: str) -> None:
        await self._write(
            "UPDATE seerr_requests SET request_id = COALESCE(?, request_id), status = ? "
            "WHERE tmdb_id = ?", (request_id, status, tmdb_id))

    async def release_seerr_request(self, tmdb_id: int) -> None:
        """Forget a claim whose request failed (the next press may try again)."""
        await self._write("DELETE FROM seerr_requests WHERE tmdb_id = ?", (tmdb_id,))

    # ------------------------------------------------------------------ notices
    async def set_notify(self, guild_id: int, user_id: int, on: bool, now: float) -> None:
        if on:
            await self._write(
                "INSERT OR IGNORE INTO media_notify (guild_id, user_id, since) "
                "VALUES (?, ?, ?)", (guild_id, user_id, now))
        else:
            await self._write("DELETE FROM media_notify WHERE guild_id = ? AND user_id = ?",
                              (guild_id, user_id))

    async def notify_on(self, guild_id: int, user_id: int) -> bool:
        row = await self._fetchone(
            "SELECT 1 FROM media_notify WHERE guild_id = ? AND user_id = ?",
            (guild_id, user_id))
        return row is not None

    async def notify_targets(self, tmdb_ids: Iterable[int],
                             imdb_ids: Iterable[str] = ()) -> list[NotifyTarget]:
        """The opted-in members with one of these movies (by TMDB or IMDb id) on their
        watchlist, in every guild."""
        tmdb, imdb = sorted({int(i) for i in tmdb_ids}), sorted(set(imdb_ids))
        found: dict[tuple[int, int, int], NotifyTarget] = {}
        for column, ids in (("m.tmdb_id", tmdb), ("m.imdb_id", imdb)):
            for start in range(0, len(ids), _IN_CHUNK):
                chunk = ids[start:start + _IN_CHUNK]
                rows = await self._fetchall(NOTIFY_TARGETS.format(
                    where=f"{column} IN ({', '.join('?' * len(chunk))})"), chunk)
                for r in rows:
                    found.setdefault((int(r[0]), int(r[1]), int(r[2])), NotifyTarget(
                        int(r[0]), int(r[1]), int(r[2]), target_label(str(r[3]), r[4])))
        return list(found.values())

    async def item_notify_targets(self, server: str,
                                  item_ids: Sequence[str]) -> list[NotifyTarget]:
        ids = sorted(set(item_ids))
        found: dict[tuple[int, int, int], NotifyTarget] = {}
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start:start + _IN_CHUNK]
            marks = f"IN ({', '.join('?' * len(chunk))})"
            sql = item_targets_sql(marks).replace("{server}", "?")
            rows = await self._fetchall(sql, [server, *chunk] * len(MATCHES))
            for r in rows:
                found.setdefault((int(r[0]), int(r[1]), int(r[2])), NotifyTarget(
                    int(r[0]), int(r[1]), int(r[2]), target_label(str(r[3]), r[4])))
        return sorted(found.values(), key=lambda t: (t.guild_id, t.user_id, t.movie_id))

    async def claim_notified(self, guild_id: int, user_id: int, movie_id: int,
                             now: float) -> bool:
        """Record the member's notice for the movie; False when they already had one."""
        return bool(await self._write(
            "INSERT OR IGNORE INTO media_notified (guild_id, user_id, movie_id, sent_at) "
            "VALUES (?, ?, ?, ?)", (guild_id, user_id, movie_id, now)))

    async def notify_record(self, guild_id: int,
                            user_id: int) -> tuple[float | None, list[tuple[str, float]]]:
        row = await self._fetchone(
            "SELECT since FROM media_notify WHERE guild_id = ? AND user_id = ?",
            (guild_id, user_id))
        rows = await self._fetchall(
            "SELECT m.title, m.year, n.sent_at FROM media_notified n JOIN movies m "
            "ON m.id = n.movie_id WHERE n.guild_id = ? AND n.user_id = ? "
            "ORDER BY n.sent_at, m.id", (guild_id, user_id))
        return (None if row is None else float(row[0]),
                [(target_label(str(r[0]), r[1]), float(r[2])) for r in rows])
