"""The media server's library, Seerr requests and "now available" notices (issue 25 items
3-5), what both backends share: the columns, the matching query, rows to objects and back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.domain.library import LibraryItem, SeerrRequest
from bot.domain.title_forms import normalize

ITEM_COLUMNS = "l.server, l.item_id, l.title, l.year, l.tmdb_id, l.imdb_id, l.url"
# A library item and a catalog movie are the same movie when their TMDB ids agree, their
# IMDb ids agree, or their titles and years agree and no id they both have differs.
MATCHES = (
    "m.tmdb_id = l.tmdb_id",
    "m.imdb_id = l.imdb_id",
    "m.norm_title = l.norm_title AND m.year = l.year "
    "AND (m.tmdb_id IS NULL OR l.tmdb_id IS NULL OR m.tmdb_id = l.tmdb_id) "
    "AND (m.imdb_id IS NULL OR l.imdb_id IS NULL OR m.imdb_id = l.imdb_id)",
)


def library_sql(placeholder: str) -> str:
    """The query of (movie id, item columns) for the movies visible in one guild (the guild
    id is `placeholder`, used three times), best match first."""
    parts = [f"SELECT m.id, {ITEM_COLUMNS}, {rank} AS rank FROM media_library l "
             f"JOIN movies m ON {match} "
             f"WHERE (m.guild_id IS NULL OR m.guild_id = {placeholder})"
             for rank, match in enumerate(MATCHES)]
    return " UNION ALL ".join(parts) + " ORDER BY 9, 2, 3"


def item_from_row(row: Sequence[Any]) -> LibraryItem:
    return LibraryItem(str(row[0]), str(row[1]), str(row[2]),
                       None if row[3] is None else int(row[3]),
                       None if row[4] is None else int(row[4]),
                       None if row[5] is None else str(row[5]), str(row[6]))


def item_values(item: LibraryItem, now: float) -> tuple[Any, ...]:
    return (item.server, item.item_id, item.title, normalize(item.title), item.year,
            item.tmdb_id, item.imdb_id, item.url, now)


def item_rows(items: Sequence[LibraryItem], now: float) -> list[tuple[Any, ...]]:
    return [item_values(item, now) for item in items]


def request_from_row(row: Sequence[Any]) -> SeerrRequest:
    return SeerrRequest(int(row[0]), int(row[1]), None if row[2] is None else int(row[2]),
                        str(row[3]), float(row[4]))


def target_label(title: str, year: int | None) -> str:
    return f"{title} ({year})" if year else title


REQUEST_COLUMNS = "tmdb_id, seerr_user_id, request_id, status, requested_at"
NOTIFY_TARGETS = (
    "SELECT w.guild_id, w.user_id, m.id, m.title, m.year FROM media_notify n "
    "JOIN watchlist w ON w.guild_id = n.guild_id AND w.user_id = n.user_id "
    "JOIN movies m ON m.id = w.movie_id WHERE {where} "
    "ORDER BY w.guild_id, w.user_id, m.id")


def item_targets_sql(item_list: str) -> str:
    """The opted-in watchlisters of the movies some library items are (matched as
    `library_sql` does, in the watchlist's guild): `item_list` is the SQL for the item ids
    (the server is the first parameter)."""
    parts = ["SELECT w.guild_id, w.user_id, m.id, m.title, m.year FROM media_library l "
             f"JOIN movies m ON {match} JOIN watchlist w ON w.movie_id = m.id "
             "JOIN media_notify n ON n.guild_id = w.guild_id AND n.user_id = w.user_id "
             f"WHERE l.server = {{server}} AND l.item_id {item_list} "
             "AND (m.guild_id IS NULL OR m.guild_id = w.guild_id)"
             for match in MATCHES]
    return " UNION ".join(parts)
