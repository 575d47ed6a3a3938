"""SQLite storage, title search: candidates from the FTS5 trigram index (`movies_fts`); the
rest of the search is the shared `sql/search.py`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..search import fts_query, fts_substring_query
from ..sql.common import FUZZY_BELOW
from ..sql.search import SEARCH_COLUMNS, SearchQueries
from .base import SqliteBase

_VISIBLE_2 = "(m.guild_id IS NULL OR m.guild_id = $2)"


class SqliteSearch(SearchQueries, SqliteBase):
    """Title search's SQLite parts."""

    async def _title_candidates(self, guild_id: int | None, text: str, pull: int, *,
                                first: bool) -> list[Sequence[Any]]:
        rows: list[Sequence[Any]] = []
        # 1. Every word as a substring (fast, exact spelling), shortest titles first.
        match = fts_substring_query(text)
        if match is not None:
            rows += await self._db.fetchall(
                f"SELECT {SEARCH_COLUMNS} FROM movies_fts f JOIN movies m ON m.id = f.rowid "
                f"WHERE movies_fts MATCH $1 AND {_VISIBLE_2} "
                "ORDER BY length(m.search_text) LIMIT $3", match, guild_id, pull)
        # 2. Few exact hits (typos, word forms): any of the query's trigrams, best bm25.
        if len(rows) < FUZZY_BELOW and first:  # not for the year-as-title variant
            fuzzy = fts_query(text)
            if fuzzy is not None:
                rows += await self._db.fetchall(
                    f"SELECT {SEARCH_COLUMNS} FROM movies_fts f JOIN movies m ON "
                    f"m.id = f.rowid WHERE movies_fts MATCH $1 AND {_VISIBLE_2} "
                    "ORDER BY f.rank LIMIT $3", fuzzy, guild_id, pull)
        # 3. Words under three characters in scripts without spaces between words
        # ("千尋" inside "千と千尋の神隠し"): a substring scan, as the trigram index cannot
        # match them.
        if first and not text.isascii() and match is None:
            rows += await self._db.fetchall(
                f"SELECT {SEARCH_COLUMNS} FROM movies m WHERE instr(m.search_text, $1) > 0 "
                f"AND {_VISIBLE_2} ORDER BY length(m.search_text) LIMIT $3",
                text, guild_id, pull)
        return rows
