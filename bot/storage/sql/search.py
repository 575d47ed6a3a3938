"""Title search and resolving what a member typed, written once for both backends.

`search_movies` parses the query, pulls candidates and ranks them with `search.Scorer` (a
trailing year in the query, "dune 1984", ranks that year's movie first). The candidates come
from each backend's index (`_title_candidates`: SQLite's FTS5 trigram table, PostgreSQL's
pg_trgm GIN indexes; substring matches first, then typo matches when those are few, and a
substring scan for short words of scripts without spaces) plus a prefix range of the
normalised titles, written here (the only source for queries under three characters).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

from bot.domain.title_forms import normalize, parse_query, parse_title

from ..models import MOVIE_COLUMNS, Movie
from ..search import Scorer
from .common import (
    ID_RE,
    MAX_QUERY_LENGTH,
    MAX_SQL_INT,
    MIN_SEARCH_SCORE,
    PREFIX_CANDIDATES,
    SEARCH_CANDIDATES,
    TOP_CHAR,
    movie_from_row,
    visible,
)
from .executor import SqlStorage

SEARCH_COLUMNS = f"{MOVIE_COLUMNS}, m.search_text"  # what a candidate row holds


class SearchQueries(SqlStorage):
    """Search (see the contract for each method's meaning)."""

    @abstractmethod
    async def _title_candidates(self, guild_id: int | None, text: str, pull: int, *,
                                first: bool) -> list[Sequence[Any]]:
        """Rows (`SEARCH_COLUMNS`) of visible movies whose search text matches the normalised
        `text`, from the backend's index: at most `pull` per kind of match. `first`: the
        query as parsed (not the variant that keeps a trailing year as part of the title)."""

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
        for n, text in enumerate(texts):
            for row in await self._title_candidates(guild_id, text, pull, first=n == 0):
                candidates.setdefault(row[0], row)
            # A prefix of the normalised title (compared by code point on both backends).
            rows = await self._db.fetchall(
                f"SELECT {SEARCH_COLUMNS} FROM movies m WHERE m.norm_title >= $1 "
                f"AND m.norm_title < $2 AND {visible(3)} ORDER BY m.norm_title LIMIT $4",
                text, text + TOP_CHAR, guild_id, max(PREFIX_CANDIDATES, offset + limit))
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
            if movie_id > MAX_SQL_INT:  # "#9999999999999999999": no such movie, no overflow
                return None
            return await self.get_movie(guild_id, movie_id)
        parsed = parse_title(text)
        if parsed.year is not None:
            rows = await self._db.fetchall(
                f"SELECT {MOVIE_COLUMNS} FROM movies m WHERE m.norm_title = $1 "
                f"AND m.year = $2 AND {visible(3)} ORDER BY m.guild_id IS NULL LIMIT 2",
                normalize(parsed.title), parsed.year, guild_id)
            if rows:
                return movie_from_row(rows[0])
        rows = await self._db.fetchall(
            f"SELECT {MOVIE_COLUMNS} FROM movies m WHERE m.norm_title = $1 AND {visible(2)} "
            "LIMIT 2", normalize(text), guild_id)
        return movie_from_row(rows[0]) if len(rows) == 1 else None
