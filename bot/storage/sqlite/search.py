"""SQLite storage, title search and resolving what a member typed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.domain.title_forms import normalize, parse_query, parse_title

from ..models import MOVIE_COLUMNS, Movie
from ..search import Scorer, fts_query, fts_substring_query
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
from .base import _VISIBLE, SqliteBase


class SqliteSearch(SqliteBase):
    """Title search and resolving what a member typed."""

    async def search_movies(
        self, guild_id: int | None, query: str, limit: int = 25, offset: int = 0
    ) -> list[Movie]:
        """Visible movies matching `query`, best first (typo, article and accent tolerant).

        Candidates come from the FTS5 trigram index (titles containing every query word; when
        those are few, also titles sharing any of the query's trigrams, best bm25 first) plus
        a prefix scan of the normalised titles (the only source for queries under three
        characters); they are ranked in Python by `search.Scorer`. A trailing year in
        the query ("dune 1984", "Dune (1984)") ranks that year's movie first.
        """
        if limit <= 0 or offset < 0:
            return []
        parsed = parse_query(query[:MAX_QUERY_LENGTH])
        if not parsed.full:
            return []
        candidates: dict[int, Sequence[Any]] = {}
        texts = [parsed.text] if parsed.text == parsed.full else [parsed.text, parsed.full]
        pull = max(SEARCH_CANDIDATES, offset + limit)
        columns = f"{MOVIE_COLUMNS}, m.search_text"
        for n, text in enumerate(texts):
            # 1. Every word as a substring (fast, exact spelling), shortest titles first.
            found = 0
            match = fts_substring_query(text)
            if match is not None:
                rows = await self._fetchall(
                    f"SELECT {columns} FROM movies_fts f JOIN movies m ON m.id = f.rowid "
                    f"WHERE movies_fts MATCH ? AND {_VISIBLE} "
                    "ORDER BY length(m.search_text) LIMIT ?",
                    (match, guild_id, pull),
                )
                found = len(rows)
                for row in rows:
                    candidates.setdefault(row[0], row)
            # 2. Few exact hits (typos, word forms): any of the query's trigrams, best bm25.
            if found < FUZZY_BELOW and n == 0:  # not for the year-as-title variant
                match = fts_query(text)
                if match is not None:
                    rows = await self._fetchall(
                        f"SELECT {columns} FROM movies_fts f JOIN movies m ON m.id = f.rowid "
                        f"WHERE movies_fts MATCH ? AND {_VISIBLE} ORDER BY f.rank LIMIT ?",
                        (match, guild_id, pull),
                    )
                    for row in rows:
                        candidates.setdefault(row[0], row)
            # 3. Prefix of the normalised title (the only source below three characters).
            rows = await self._fetchall(
                f"SELECT {columns} FROM movies m WHERE m.norm_title >= ? AND m.norm_title < ? "
                f"AND {_VISIBLE} ORDER BY m.norm_title LIMIT ?",
                (text, text + TOP_CHAR, guild_id, max(PREFIX_CANDIDATES, offset + limit)),
            )
            for row in rows:
                candidates.setdefault(row[0], row)
            # 4. Words under three characters in scripts without spaces between words
            # ("千尋" inside "千と千尋の神隠し"): a substring scan, as the trigram index
            # cannot match them.
            if n == 0 and not text.isascii() and fts_substring_query(text) is None:
                rows = await self._fetchall(
                    f"SELECT {columns} FROM movies m WHERE instr(m.search_text, ?) > 0 "
                    f"AND {_VISIBLE} ORDER BY length(m.search_text) LIMIT ?",
                    (text, guild_id, pull),
                )
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
        """The one movie meant by `text`, or None.

        Accepts an autocomplete value "#<id>" (only if visible in the guild) or an exact title,
        with or without "(Year)" (compared in normalised form). A title without a year that
        several visible movies share is ambiguous: None.
        """
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
            rows = await self._fetchall(
                f"SELECT {MOVIE_COLUMNS} FROM movies m WHERE m.norm_title = ? "
                f"AND m.year = ? AND {_VISIBLE} ORDER BY m.guild_id IS NULL LIMIT 2",
                (normalize(parsed.title), parsed.year, guild_id),
            )
            if rows:
                return movie_from_row(rows[0])
        rows = await self._fetchall(
            f"SELECT {MOVIE_COLUMNS} FROM movies m WHERE m.norm_title = ? AND {_VISIBLE} "
            "LIMIT 2",
            (normalize(text), guild_id),
        )
        return movie_from_row(rows[0]) if len(rows) == 1 else None
