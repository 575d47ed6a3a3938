"""Plex Media Server: its accounts and an account's watched movies (with the admin's token).

`GET /accounts` lists the server's accounts (the owner is account 1). The watch history of
every account is only open to the server admin: `GET /status/sessions/history/all` filtered
by `accountID`, paged with `X-Plex-Container-Start/-Size`. History rows carry no GUIDs, so the
movies' `tmdb://` and `imdb://` ids are read in batches from `/library/metadata/{keys}`
(`includeGuids=1`). `userRating` (0-10) there belongs to the token's owner only, so ratings are
imported for the owner's account alone; the others' movies are "seen". The library
(`library()`) is every movie of the `movie` sections `GET /library/sections` lists, read from
`/library/sections/{key}/all?includeGuids=1` (paged); each links to the server's web app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from bot.domain.library import LibraryItem
from bot.media.http import HttpClient, check
from bot.media.models import (
    ExternalAccount,
    WatchedMovie,
    imdb_id,
    tmdb_id,
    to_scale,
    unexpected,
)

PAGE = 200  # history rows per request
METADATA_BATCH = 50  # movies per metadata request
MAX_ROWS = 20_000
OWNER_ACCOUNT = "1"  # Plex numbers the server owner's account 1


def _container(data: Any) -> dict[str, Any]:
    container = data.get("MediaContainer") if isinstance(data, dict) else None
    if not isinstance(container, dict):
        raise unexpected("Plex", "MediaContainer")
    return container


class PlexClient:
    def __init__(self, url: str, token: str, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.http = HttpClient("Plex", url, timeout=timeout, headers={
            "X-Plex-Token": token, "Accept": "application/json",
            "X-Plex-Product": "moviebot", "X-Plex-Client-Identifier": "moviebot"})

    async def close(self) -> None:
        await self.http.close()

    async def accounts(self) -> list[ExternalAccount]:
        """The server's accounts with a name, by name."""
        container = _container(await self.http.get_json("/accounts"))
        accounts = []
        for account in container.get("Account") or []:
            if not isinstance(account, dict):
                continue
            ident, name = account.get("id"), account.get("name")
            if isinstance(ident, int) and ident > 0 and isinstance(name, str) and name:
                accounts.append(ExternalAccount(str(ident), name))
        return sorted(accounts, key=lambda a: a.name.casefold())

    async def watched(self, account_id: str, *,
                      progress: Callable[[int, int], Awaitable[None]] | None = None
                      ) -> list[WatchedMovie]:
        """The movies in the account's watch history (each once, last viewing), newest first;
        with ratings for the server owner's account. `progress(rows read, rows in all)` after
        each page, when Plex says how many there are (`totalSize`)."""
        last_seen: dict[str, tuple[int, Any]] = {}
        start = 0
        while start < MAX_ROWS:
            response = await self.http.request("GET", "/status/sessions/history/all", params={
                "sort": "viewedAt:desc", "accountID": account_id,
                "X-Plex-Container-Start": str(start), "X-Plex-Container-Size": str(PAGE)})
            check("Plex", response)
            container = _container(await response.json_off_loop())
            rows = container.get("Metadata") or []
            for row in rows:
                if not isinstance(row, dict) or row.get("type") != "movie":
                    continue
                if str(row.get("accountID", account_id)) != str(account_id):
                    continue
                key = str(row.get("ratingKey") or "")
                viewed = row["viewedAt"] if isinstance(row.get("viewedAt"), int) else 0
                if key.isdigit() and (key not in last_seen or viewed > last_seen[key][0]):
                    last_seen[key] = (viewed, row)
            start += len(rows)
            total = container.get("totalSize")
            if progress is not None and isinstance(total, int) and total > 0:
                await progress(min(start, total), total)
            if len(rows) < PAGE:
                break
        details = await self._metadata(list(last_seen))
        movies = []
        for key, (viewed, row) in sorted(last_seen.items(), key=lambda kv: -kv[1][0]):
            meta = details.get(key, {})
            ids = _guids(meta)
            year = meta.get("year", row.get("year"))
            rating = (to_scale(meta.get("userRating"), 10)
                      if str(account_id) == OWNER_ACCOUNT else None)
            movies.append(WatchedMovie(
                tmdb_id=tmdb_id(ids.get("tmdb")), imdb_id=imdb_id(ids.get("imdb")),
                title=str(meta.get("title") or row.get("title") or ""),
                year=year if isinstance(year, int) and year > 0 else None,
                rating_1_10=rating,
                watched_at=datetime.fromtimestamp(viewed, UTC) if viewed else None))
        return [m for m in movies if m.title]

    async def library(self) -> list[LibraryItem]:
        """Every movie in the server's movie sections, each once."""
        identity = _container(await self.http.get_json("/identity"))
        machine = str(identity.get("machineIdentifier") or "")
        sections = _container(await self.http.get_json("/library/sections"))
        found: dict[str, LibraryItem] = {}
        for section in sections.get("Directory") or []:
            if not isinstance(section, dict) or section.get("type") != "movie":
                continue
            key = str(section.get("key") or "")
            if not key.isdigit():
                continue
            start = 0
            while start < MAX_ROWS:
                response = await self.http.request(
                    "GET", f"/library/sections/{key}/all", params={
                        "type": "1", "includeGuids": "1",
                        "X-Plex-Container-Start": str(start),
                        "X-Plex-Container-Size": str(PAGE)})
                check("Plex", response)
                rows = _container(response.json()).get("Metadata") or []
                for row in rows:
                    item = self._library_item(row, machine)
                    if item is not None:
                        found.setdefault(item.item_id, item)
                start += len(rows)
                if len(rows) < PAGE:
                    break
        return list(found.values())

    def _library_item(self, row: Any, machine: str) -> LibraryItem | None:
        if not isinstance(row, dict) or row.get("type", "movie") != "movie":
            return None
        key, title = str(row.get("ratingKey") or ""), row.get("title")
        if not key.isdigit() or not isinstance(title, str) or not title:
            return None
        ids = _guids(row)
        year = row.get("year")
        details = quote(f"/library/metadata/{key}", safe="")
        return LibraryItem("plex", key, title, year if isinstance(year, int) and year > 0
                           else None, tmdb_id(ids.get("tmdb")), imdb_id(ids.get("imdb")),
                           f"{self.url}/web/index.html#!/server/{machine}/details?key={details}")

    async def _metadata(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for i in range(0, len(keys), METADATA_BATCH):
            batch = ",".join(keys[i:i + METADATA_BATCH])
            response = await self.http.request("GET", f"/library/metadata/{batch}",
                                               params={"includeGuids": "1"})
            if response.status == 404:  # removed from the library since: title only
                continue
            check("Plex", response)
            for meta in _container(await response.json_off_loop()).get("Metadata") or []:
                if isinstance(meta, dict) and meta.get("ratingKey") is not None:
                    found[str(meta["ratingKey"])] = meta
        return found


def _guids(meta: dict[str, Any]) -> dict[str, str]:
    """{"tmdb": "603", "imdb": "tt0133093"} from a movie's `Guid` list."""
    ids: dict[str, str] = {}
    for guid in meta.get("Guid") or []:
        value = guid.get("id") if isinstance(guid, dict) else None
        if isinstance(value, str) and "://" in value:
            scheme, _, rest = value.partition("://")
            ids.setdefault(scheme, rest)
    return ids
