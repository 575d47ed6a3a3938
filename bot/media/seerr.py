"""Seerr (Overseerr/Jellyseerr successor): its users and movie requests (issue 25, item 4).

Auth is the `X-Api-Key` header. `users()` reads each user's Discord ids from
`settings.discordIds` (Seerr 3.3+) or `settings.discordId` (before): a member's Seerr user is
the one naming their Discord id. `movie_status(tmdb)` reads `GET /api/v1/movie/{tmdbId}`'s
`mediaInfo.status` (1 unknown, 2 pending, 3 processing, 4 partially available, 5 available,
6 blocklisted, 7 deleted; no `mediaInfo`: never requested). `request(tmdb, user)` sends
`POST /api/v1/request {mediaType: "movie", mediaId, userId}`: an admin key requests on behalf
of the mapped user, whose permissions decide whether Seerr approves it at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.i18n import _
from bot.media.http import HttpClient, check
from bot.media.models import MediaUnavailable, obj, unexpected

# mediaInfo.status (Seerr's server/constants/media.ts)
MEDIA_STATUS = {1: "unknown", 2: "pending", 3: "processing", 4: "partially available",
                5: "available", 6: "blocklisted", 7: "deleted"}
# MediaRequest.status
REQUEST_STATUS = {1: "pending", 2: "approved", 3: "declined", 4: "failed", 5: "available"}
# Statuses under which asking again would make a second request for the same movie.
ALREADY_THERE = ("pending", "processing", "partially available", "available", "approved")


@dataclass(frozen=True, slots=True)
class SeerrUser:
    id: int
    name: str
    discord_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class RequestMade:
    request_id: int | None
    status: str  # pending | approved | available | declined | failed


def discord_ids(settings: Any) -> tuple[int, ...]:
    """The Discord ids a Seerr user's settings name, in either format."""
    if not isinstance(settings, dict):
        return ()
    raw = settings.get("discordIds")
    values = raw if isinstance(raw, list) else [settings.get("discordId")]
    found = []
    for value in values:
        text = str(value).strip() if value is not None else ""
        if text.isdigit():
            found.append(int(text))
    return tuple(found)


class SeerrClient:
    def __init__(self, url: str, api_key: str, *, timeout: float = 10.0) -> None:
        self.http = HttpClient("Seerr", url, timeout=timeout,
                               headers={"X-Api-Key": api_key, "Accept": "application/json"})

    async def close(self) -> None:
        await self.http.close()

    async def users(self) -> list[SeerrUser]:
        data = await self.http.get_json("/api/v1/user", {"take": "1000"})
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(results, list):
            raise unexpected("Seerr", "/api/v1/user")
        users = []
        for user in results:
            if isinstance(user, dict) and isinstance(user.get("id"), int):
                name = user.get("displayName") or user.get("username") or user.get("email")
                users.append(SeerrUser(user["id"], str(name or user["id"]),
                                       discord_ids(user.get("settings"))))
        return users

    async def movie_status(self, tmdb_id: int) -> str:
        """What Seerr knows of the movie: "unknown" when nobody asked for it yet."""
        response = await self.http.request("GET", f"/api/v1/movie/{int(tmdb_id)}")
        if response.status == 404:
            raise MediaUnavailable(_("Seerr does not know this movie (TMDB id {id})").format(
                id=int(tmdb_id)))
        check("Seerr", response)
        info = obj(obj(response.json()).get("mediaInfo"))
        status = info.get("status")
        return MEDIA_STATUS.get(status, "unknown") if isinstance(status, int) else "unknown"

    async def request(self, tmdb_id: int, user_id: int) -> RequestMade:
        """Request the movie as Seerr user `user_id`."""
        response = await self.http.request("POST", "/api/v1/request", json_body={
            "mediaType": "movie", "mediaId": int(tmdb_id), "userId": int(user_id)})
        if response.status == 403:
            raise MediaUnavailable(_("Seerr refused: your Seerr user may not request movies"))
        if response.status == 409:  # Seerr: "Request for this media already exists"
            return RequestMade(None, "pending")
        check("Seerr", response)
        data = obj(response.json())
        media_status = obj(data.get("media")).get("status")
        if media_status == 5:
            return RequestMade(_int(data.get("id")), "available")
        status = data.get("status")
        return RequestMade(_int(data.get("id")),
                           REQUEST_STATUS.get(status, "pending") if isinstance(status, int)
                           else "pending")


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
