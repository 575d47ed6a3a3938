"""The media services' clients (Jellyfin, Plex, Trakt, Seerr, Letterboxd), made on first use
from the bot's config and closed together, and the refusals every media feature shares
(`MediaProblem`, `NotConfigured` naming what an admin must set). Shared by `MediaService`
(links, history), `LibraryService` and `RequestService`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.config import Settings
from bot.i18n import _
from bot.media.jellyfin import JellyfinClient
from bot.media.letterboxd import LetterboxdClient
from bot.media.models import SERVICE_NAMES
from bot.media.plex import PlexClient
from bot.media.seerr import SeerrClient
from bot.media.trakt import TraktClient
from bot.service.errors import ServiceError

_CONFIG_KEYS = {"jellyfin": ("url", "api_key"), "plex": ("url", "token"),
                "trakt": ("client_id", "client_secret"), "seerr": ("url", "api_key")}


class MediaProblem(ServiceError):
    """A link or sync the service refuses or cannot do; `str()` is the member's message
    (never holding a key or token)."""


class NotConfigured(MediaProblem):
    def __init__(self, service: str) -> None:
        keys = _CONFIG_KEYS.get(service, ())
        section = f"[{service}] " + " and ".join(keys)
        env = " and ".join(f"MOVIEBOT_{service.upper()}_{k.upper()}" for k in keys)
        super().__init__(_("{service} is not set up on this bot: a bot admin must set "
                           "{section} in its config (or {variables}) and restart it.").format(
            service=SERVICE_NAMES.get(service, service), section=section, variables=env))
        self.service = service


@dataclass
class MediaClients:
    """The configured services' clients, made on first use and closed together."""

    settings: Settings
    trakt_options: dict[str, Any] = field(default_factory=dict)  # tests: sleep, clock
    _made: dict[str, Any] = field(default_factory=dict)

    def configured(self, service: str) -> bool:
        if service == "letterboxd":
            return True
        section = getattr(self.settings, service, None)
        return bool(section is not None and section.enabled)

    def jellyfin(self) -> JellyfinClient:
        return self._get("jellyfin", lambda: JellyfinClient(self.settings.jellyfin.url,
                                                            self.settings.jellyfin.api_key))

    def plex(self) -> PlexClient:
        return self._get("plex", lambda: PlexClient(self.settings.plex.url,
                                                    self.settings.plex.token))

    def trakt(self) -> TraktClient:
        trakt = self.settings.trakt
        return self._get("trakt", lambda: TraktClient(trakt.client_id, trakt.client_secret,
                                                      trakt.base_url, **self.trakt_options))

    def seerr(self) -> SeerrClient:
        """Seerr (requests, a later part of issue 25): NotConfigured without [seerr]."""
        return self._get("seerr", lambda: SeerrClient(self.settings.seerr.url,
                                                      self.settings.seerr.api_key))

    def letterboxd(self) -> LetterboxdClient:
        return self._get("letterboxd",
                         lambda: LetterboxdClient(self.settings.media.letterboxd_url))

    def _get(self, name: str, make: Callable[[], Any]) -> Any:
        if not self.configured(name):
            raise NotConfigured(name)
        if name not in self._made:
            self._made[name] = make()
        return self._made[name]

    async def close(self) -> None:
        for client in self._made.values():
            await client.close()
        self._made.clear()
