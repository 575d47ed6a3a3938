"""Seerr (Overseerr/Jellyseerr successor): a stub the request hand-off builds on (issue 25,
item 4). Auth is the `X-Api-Key` header. `users()` reads each user's Discord ids from
`settings.discordIds` (Seerr 3.3+) or `settings.discordId` (before).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.media.http import HttpClient
from bot.media.models import MediaUnavailable


@dataclass(frozen=True, slots=True)
class SeerrUser:
    id: int
    name: str
    discord_ids: tuple[int, ...]


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
            raise MediaUnavailable("Seerr answered /api/v1/user oddly")
        users = []
        for user in results:
            if isinstance(user, dict) and isinstance(user.get("id"), int):
                name = user.get("displayName") or user.get("username") or user.get("email")
                users.append(SeerrUser(user["id"], str(name or user["id"]),
                                       discord_ids(user.get("settings"))))
        return users
