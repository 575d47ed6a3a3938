"""PostgreSQL storage, title search and resolving what a member typed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.domain.title_forms import normalize, parse_query, parse_title

from ..models import MOVIE_COLUMNS, Movie
from ..search import Scorer
from ..sql.common import (
    FUZZY_BELOW,
    ID_RE,
    MAX_QUERY_LENGTH,
    MAX_SQL_INT,
    MIN_SEARCH_SCORE,
    PREFIX_CANDIDATES,
    SEARCH_CANDIDATES,
    TOP_CHAR,
    movie_from_row,
)
from .base import PostgresBase, _like_word, _visible


class PostgresSearch(PostgresBase):
    """Title search and resolving what a member typed."""

    async def search_movies(
        self, guild_id: int | None, query: str, limit: int = 25, offset: int = 0
    ) -> list[Movie]:
        if limit <= 0 or offset < 0:
            return []
        parsed = parse_query(query[:MAX_QUERY_LENGTH])
        if not parsed.full:
            return []
        candidates: dict[int, Sequence[Any]] = {}
        texts = [parsed.text] if parsed.text == parsed.full else [parsed.text, parsed.full]
        pull = max(SEARCH_CANDIDATES, offset + limit)
        columns = f"{MOVIE_COLUMNS}, m.search_text"
        async with self._pool.acquire() as conn:
            for n, text in enumerate(texts):
                # 1. Every word (3+ characters) as a substring, shortest titles first.
                found = 0
                words = sorted({w for w in text.split() if len(w) >= 3})
                if words:
                    rows = await conn.fetch(
                        f"SELECT {columns} FROM movies m WHERE m.search_text LIKE ALL($1) "
                        f"AND {_visible(2)} ORDER BY length(m.search_text), m.id LIMIT $3",
                        [_like_word(w) for w in words], guild_id, pull)
                    found = len(rows)
                    for row in rows:
                        candidates.setdefault(row[0], row)
                # 2. Few exact hits (typos): trigram word similarity over the threshold.
                if found < FUZZY_BELOW and n == 0 and len(text) >= 3:
                    rows = await conn.fetch(
                        f"SELECT {columns} FROM movies m WHERE $1 <% m.search_text "
                        f"AND {_visible(2)} ORDER BY word_similarity($1, m.search_text) DESC, "
                        "m.id LIMIT $3", text, guild_id, pull)
                    for row in rows:
                        candidates.setdefault(row[0], row)
                # 3. Prefix of the normalised title, compared by code point (COLLATE "C").
                rows = await conn.fetch(
                    f"SELECT {columns} FROM movies m WHERE m.norm_title >= $1 "
                    f"AND m.norm_title < $2 AND {_visible(3)} ORDER BY m.norm_title LIMIT $4",
                    text, text + TOP_CHAR, guild_id, max(PREFIX_CANDIDATES, offset + limit))
                for row in rows:
                    candidates.setdefault(row[0], row)
                # 4. Short words of scripts without spaces ("千尋"): a substring scan.
                if n == 0 and not text.isascii() and not words:
                    rows = await conn.fetch(
                        f"SELECT {columns} FROM movies m WHERE strpos(m.search_text, $1) > 0 "
                        f"AND {_visible(2)} ORDER BY length(m.search_text) LIMIT $3",
                        text, guild_id, pull)
                    for row in rows:
                        candidates.setdefault(row[0], row)
        scorer = Scorer(parsed)
        scored = []
        for candidate in candidates.values():
            value = scorer.score(candidate[8], candidate[2])
            if value >= MIN_SEARCH_SCORE:
                scored.append((-value, len(candidate[1]), candidate[1], candidate[0], candidate))
        scored.sort(key=lambda item: item[:4])
        return [movie_from_row(item[4]) for item in scored[offset:offset + limit]]

    async def resolve_movie(self, guild_id: int | None, text: str) -> Movie | None:
        if not isinstance(text, str):
            return None
        text = text.strip()
        if not text or len(text) > MAX_QUERY_LENGTH:
            return None
        match = ID_RE.fullmatch(text)
        if match:
            movie_id = int(match.group(1))
            if movie_id > MAX_SQL_INT:
                return None
            return await self.get_movie(guild_id, movie_id)
        parsed = parse_title(text)
        if parsed.year is not None:
            rows = await self._fetch(
                f"SELECT {MOVIE_COLUMNS} FROM movies m WHERE m.norm_title = $1 "
                f"AND m.year = $2 AND {_visible(3)} ORDER BY m.guild_id IS NULL LIMIT 2",
                normalize(parsed.title), parsed.year, guild_id)
            if rows:
                return movie_from_row(rows[0])
        rows = await self._fetch(
            f"SELECT {MOVIE_COLUMNS} FROM movies m WHERE m.norm_title = $1 AND {_visible(2)} "
            "LIMIT 2", normalize(text), guild_id)
        return movie_from_row(rows[0]) if len(rows) == 1 else None
