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
from collections.abc import Sequence

from bot.domain.library import LibraryItem

from ..sql.library import LibraryQueries, item_rows
from .base import _IN_CHUNK, SqliteBase


class SqliteLibrary(LibraryQueries, SqliteBase):
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

