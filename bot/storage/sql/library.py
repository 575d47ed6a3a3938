"""The media server's library, Seerr requests and "now available" notices (issue 25 items
3-5), written once for both backends: the columns, the matching query, rows to objects and
back, and the queries (`LibraryQueries`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from bot.domain.library import LibraryItem, NotifyTarget, SeerrRequest
from bot.domain.title_forms import normalize

from .executor import SqlStorage

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


def item_targets_sql(item_match: str) -> str:
    """The opted-in watchlisters of the movies some library items are (matched as
    `library_sql` does, in the watchlist's guild): `item_match` is the SQL that picks the
    items by `l.item_id` (the server is `{server}`)."""
    parts = ["SELECT w.guild_id, w.user_id, m.id, m.title, m.year FROM media_library l "
             f"JOIN movies m ON {match} JOIN watchlist w ON w.movie_id = m.id "
             "JOIN media_notify n ON n.guild_id = w.guild_id AND n.user_id = w.user_id "
             f"WHERE l.server = {{server}} AND {item_match} "
             "AND (m.guild_id IS NULL OR m.guild_id = w.guild_id)"
             for match in MATCHES]
    return " UNION ".join(parts)


def _targets(rows: Iterable[Sequence[Any]]) -> list[NotifyTarget]:
    """Notify targets from (guild, user, movie, title, year) rows, each once, in order."""
    found: dict[tuple[int, int, int], NotifyTarget] = {}
    for r in rows:
        found.setdefault((int(r[0]), int(r[1]), int(r[2])), NotifyTarget(
            int(r[0]), int(r[1]), int(r[2]), target_label(str(r[3]), r[4])))
    return sorted(found.values(), key=lambda t: (t.guild_id, t.user_id, t.movie_id))


class LibraryQueries(SqlStorage):
    """The library, Seerr requests and "now available" notices, written once for both
    backends (see the contract for each method's meaning); `replace_library` (a server's
    whole list swapped in one transaction) is each backend's own."""

    async def library_items(self, server: str | None = None) -> list[LibraryItem]:
        rows = await self._db.fetchall(
            f"SELECT {ITEM_COLUMNS} FROM media_library l "
            + ("WHERE l.server = $1 " if server else "") + "ORDER BY l.server, l.item_id",
            *((server,) if server else ()))
        return [item_from_row(r) for r in rows]

    async def library_movies(self, guild_id: int) -> dict[int, LibraryItem]:
        rows = await self._db.fetchall(library_sql("$1"), guild_id)
        found: dict[int, LibraryItem] = {}
        for row in rows:
            found.setdefault(int(row[0]), item_from_row(list(row)[1:8]))
        return found

    async def claim_seerr_request(self, tmdb_id: int, seerr_user_id: int,
                                  now: float) -> SeerrRequest | None:
        claimed = await self._db.execute(
            f"INSERT INTO seerr_requests ({REQUEST_COLUMNS}) "
            "VALUES ($1, $2, NULL, 'requesting', $3) ON CONFLICT (tmdb_id) DO NOTHING",
            tmdb_id, seerr_user_id, now)
        return None if claimed else await self.seerr_request(tmdb_id)

    async def seerr_request(self, tmdb_id: int) -> SeerrRequest | None:
        row = await self._db.fetchone(
            f"SELECT {REQUEST_COLUMNS} FROM seerr_requests WHERE tmdb_id = $1", tmdb_id)
        return request_from_row(row) if row else None

    async def update_seerr_request(self, tmdb_id: int, request_id: int | None,
                                   status: str) -> None:
        await self._db.execute(
            "UPDATE seerr_requests SET request_id = COALESCE($1, request_id), status = $2 "
            "WHERE tmdb_id = $3", request_id, status, tmdb_id)

    async def release_seerr_request(self, tmdb_id: int) -> None:
        await self._db.execute("DELETE FROM seerr_requests WHERE tmdb_id = $1", tmdb_id)

    async def set_notify(self, guild_id: int, user_id: int, on: bool, now: float) -> None:
        if on:
            await self._db.execute(
                "INSERT INTO media_notify (guild_id, user_id, since) VALUES ($1, $2, $3) "
                "ON CONFLICT (guild_id, user_id) DO NOTHING", guild_id, user_id, now)
        else:
            await self._db.execute(
                "DELETE FROM media_notify WHERE guild_id = $1 AND user_id = $2",
                guild_id, user_id)

    async def notify_on(self, guild_id: int, user_id: int) -> bool:
        return await self._db.fetchone(
            "SELECT 1 FROM media_notify WHERE guild_id = $1 AND user_id = $2",
            guild_id, user_id) is not None

    async def notify_targets(self, tmdb_ids: Iterable[int],
                             imdb_ids: Iterable[str] = ()) -> list[NotifyTarget]:
        where = (f"{self._db.any_of('m.tmdb_id', 1)} OR "
                 f"{self._db.any_of('m.imdb_id', 2, 'text')}")
        return _targets(await self._db.fetchall(
            NOTIFY_TARGETS.format(where=where), self._db.values(sorted({int(i) for i in tmdb_ids})),
            self._db.values(sorted(set(imdb_ids)))))

    async def item_notify_targets(self, server: str,
                                  item_ids: Sequence[str]) -> list[NotifyTarget]:
        sql = item_targets_sql(self._db.any_of("l.item_id", 2, "text")).replace("{server}", "$1")
        return _targets(await self._db.fetchall(
            sql, server, self._db.values(sorted(set(item_ids)))))

    async def claim_notified(self, guild_id: int, user_id: int, movie_id: int,
                             now: float) -> bool:
        return bool(await self._db.execute(
            "INSERT INTO media_notified (guild_id, user_id, movie_id, sent_at) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            guild_id, user_id, movie_id, now))

    async def notify_record(self, guild_id: int,
                            user_id: int) -> tuple[float | None, list[tuple[str, float]]]:
        row = await self._db.fetchone(
            "SELECT since FROM media_notify WHERE guild_id = $1 AND user_id = $2",
            guild_id, user_id)
        rows = await self._db.fetchall(
            "SELECT m.title, m.year, n.sent_at FROM media_notified n JOIN movies m "
            "ON m.id = n.movie_id WHERE n.guild_id = $1 AND n.user_id = $2 "
            "ORDER BY n.sent_at, m.id", guild_id, user_id)
        return (None if row is None else float(row[0]),
                [(target_label(str(r[0]), r[1]), float(r[2])) for r in rows])
