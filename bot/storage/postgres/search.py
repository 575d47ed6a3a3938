"""PostgreSQL storage, title search: candidates from the pg_trgm GIN indexes (substring `LIKE`,
then word similarity at `TRGM_THRESHOLD`, so one-letter typos match); the rest of the search
is the shared `sql/search.py`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..sql.common import FUZZY_BELOW, visible
from ..sql.search import SEARCH_COLUMNS, SearchQueries
from .base import PostgresBase, _like_word


class PostgresSearch(SearchQueries, PostgresBase):
    """Title search's PostgreSQL parts."""

    async def _title_candidates(self, guild_id: int | None, text: str, pull: int, *,
                                first: bool) -> list[Sequence[Any]]:
        rows: list[Sequence[Any]] = []
        async with self._pool.acquire() as conn:
            # 1. Every word (3+ characters) as a substring, shortest titles first.
            words = sorted({w for w in text.split() if len(w) >= 3})
            if words:
                rows += await conn.fetch(
                    f"SELECT {SEARCH_COLUMNS} FROM movies m WHERE m.search_text LIKE ALL($1) "
                    f"AND {visible(2)} ORDER BY length(m.search_text), m.id LIMIT $3",
                    [_like_word(w) for w in words], guild_id, pull)
            # 2. Few exact hits (typos): trigram word similarity over the threshold.
            if len(rows) < FUZZY_BELOW and first and len(text) >= 3:
                rows += await conn.fetch(
                    f"SELECT {SEARCH_COLUMNS} FROM movies m WHERE $1 <% m.search_text "
                    f"AND {visible(2)} ORDER BY word_similarity($1, m.search_text) DESC, "
                    "m.id LIMIT $3", text, guild_id, pull)
            # 3. Short words of scripts without spaces ("千尋"): a substring scan.
            if first and not text.isascii() and not words:
                rows += await conn.fetch(
                    f"SELECT {SEARCH_COLUMNS} FROM movies m WHERE strpos(m.search_text, $1) > 0 "
                    f"AND {visible(2)} ORDER BY length(m.search_text) LIMIT $3",
                    text, guild_id, pull)
        return rows
