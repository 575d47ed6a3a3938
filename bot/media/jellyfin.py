"""Jellyfin: the server's users and a user's played movies.

The API key (Dashboard > API Keys) is sent only as `Authorization: MediaBrowser Token="<key>"`:
the one form Jellyfin 12 accepts by default (it answers 401 to `X-Emby-Token` and `api_key`),
and what 10.x accepts too. Played movies come from `GET /Items?userId=...&IsPlayed=true`
(paged, with `ProviderIds` for TMDB/IMDb ids); servers where that path is missing get the
older `GET /Users/{id}/Items`. The library (`library()`) is every movie in the movie libraries
`GET /Library/VirtualFolders` lists, read by `ParentId` (paged, with `ProviderIds`). Jellyfin
keeps no ratings of its own worth importing (likes
only), so every movie comes back unrated: a "seen" signal.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from bot.domain.library import LibraryItem
from bot.media.http import HttpClient, check
from bot.media.models import (
    ExternalAccount,
    WatchedMovie,
    imdb_id,
    obj,
    tmdb_id,
    unexpected,
)

PAGE = 500  # items per request
MAX_ITEMS = 50_000  # a history longer than this is cut (logged by the service)


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 time as Jellyfin (and Trakt) write it, in UTC; None if unreadable."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    if "." in text:  # .NET writes 7 fractional digits; Python reads at most 6
        head, _, tail = text.partition(".")
        digits = "".join(c for c in tail if c.isdigit())
        zone = tail[len(digits):]
        text = f"{head}.{digits[:6]}{zone}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class JellyfinClient:
    def __init__(self, url: str, api_key: str, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.http = HttpClient("Jellyfin", url, timeout=timeout, headers={
            "Authorization": f'MediaBrowser Token="{api_key}"',
            "Accept": "application/json"})

    async def close(self) -> None:
        await self.http.close()

    async def users(self) -> list[ExternalAccount]:
        """The server's users (disabled ones left out), by name."""
        data = await self.http.get_json("/Users")
        if not isinstance(data, list):
            raise unexpected("Jellyfin", "/Users")
        users = []
        for user in data:
            if not isinstance(user, dict) or not user.get("Id"):
                continue
            policy = obj(user.get("Policy"))
            if policy.get("IsDisabled"):
                continue
            users.append(ExternalAccount(str(user["Id"]), str(user.get("Name") or user["Id"])))
        return sorted(users, key=lambda u: u.name.casefold())

    async def watched(self, user_id: str, *,
                      progress: Callable[[int, int], Awaitable[None]] | None = None
                      ) -> list[WatchedMovie]:
        """Every movie the user has played, newest first. `progress(read, total)` after each
        page, when the server says how many there are."""
        found: list[WatchedMovie] = []
        start = 0
        path = "/Items"
        while start < MAX_ITEMS:
            params = {"IncludeItemTypes": "Movie", "Recursive": "true", "IsPlayed": "true",
                      "Fields": "ProviderIds", "enableUserData": "true",
                      "SortBy": "DatePlayed", "SortOrder": "Descending",
                      "StartIndex": str(start), "Limit": str(PAGE)}
            if path == "/Items":
                params["userId"] = user_id
            response = await self.http.request("GET", path, params=params)
            if response.status == 404 and path == "/Items" and start == 0:
                path = f"/Users/{user_id}/Items"  # servers before the /Items?userId= path
                continue
            check("Jellyfin", response)
            data = await response.json_off_loop()
            items = data.get("Items") if isinstance(data, dict) else None
            if not isinstance(items, list):
                raise unexpected("Jellyfin", "/Items")
            found.extend(movie for item in items if (movie := _movie(item)) is not None)
            start += len(items)
            total = data.get("TotalRecordCount")
            if progress is not None and isinstance(total, int) and total > 0:
                await progress(min(start, total), total)
            if not items or len(items) < PAGE or (isinstance(total, int) and start >= total):
                break
        return found

    async def library(self) -> list[LibraryItem]:
        """Every movie in the server's movie libraries (virtual folders of the "movies" kind,
        or of no kind: mixed folders), each once."""
        folders = await self.http.get_json("/Library/VirtualFolders")
        if not isinstance(folders, list):
            raise unexpected("Jellyfin", "/Library/VirtualFolders")
        found: dict[str, LibraryItem] = {}
        for folder in folders:
            if not isinstance(folder, dict) or not folder.get("ItemId"):
                continue
            if folder.get("CollectionType") not in (None, "", "movies", "mixed"):
                continue
            start = 0
            while start < MAX_ITEMS:
                data = await self.http.get_json("/Items", {
                    "ParentId": str(folder["ItemId"]), "Recursive": "true",
                    "IncludeItemTypes": "Movie", "Fields": "ProviderIds",
                    "StartIndex": str(start), "Limit": str(PAGE)})
                items = data.get("Items") if isinstance(data, dict) else None
                if not isinstance(items, list):
                    raise unexpected("Jellyfin", "/Items")
                for item in items:
                    entry = self._library_item(item)
                    if entry is not None:
                        found.setdefault(entry.item_id, entry)
                start += len(items)
                total = data.get("TotalRecordCount")
                if not items or len(items) < PAGE or (isinstance(total, int) and start >= total):
                    break
        return list(found.values())

    def _library_item(self, item: Any) -> LibraryItem | None:
        if not isinstance(item, dict) or not item.get("Name") or not item.get("Id"):
            return None
        ids = obj(item.get("ProviderIds"))
        year = item.get("ProductionYear")
        ident = str(item["Id"])
        return LibraryItem("jellyfin", ident, str(item["Name"]),
                           year if isinstance(year, int) and year > 0 else None,
                           tmdb_id(ids.get("Tmdb")), imdb_id(ids.get("Imdb")),
                           f"{self.url}/web/#/details?id={ident}")


def _movie(item: Any) -> WatchedMovie | None:
    if not isinstance(item, dict) or not item.get("Name"):
        return None
    ids = obj(item.get("ProviderIds"))
    data = obj(item.get("UserData"))
    if data and data.get("Played") is False:
        return None
    year = item.get("ProductionYear")
    return WatchedMovie(
        tmdb_id=tmdb_id(ids.get("Tmdb")), imdb_id=imdb_id(ids.get("Imdb")),
        title=str(item["Name"]), year=year if isinstance(year, int) and year > 0 else None,
        rating_1_10=None, watched_at=parse_time(data.get("LastPlayedDate")))
