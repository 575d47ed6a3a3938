"""PostgreSQL storage of the media server's library, Seerr requests and "now available"
notices: the same contract as `sqlite/library.py` (read its docstring), in PostgreSQL's
terms."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from bot.domain.library import LibraryItem

from ..sql.library import LibraryQueries, item_rows
from .base import PostgresBase


class PostgresLibrary(LibraryQueries, PostgresBase):
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
