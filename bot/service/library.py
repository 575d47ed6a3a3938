"""LibraryService: which catalog movies the configured media server has (issue 25, item 3).

With `[jellyfin]` or `[plex]` configured, the bot reads the server's movie libraries
(Jellyfin virtual folders, Plex movie sections; `bot.media`) every `[media] library_hours`
(jittered ±10 %, `refresh_due`) and when a server admin asks (`refresh`, at most once a
minute), and stores the list (`media_library`, server data, not a member's). A guild's movies
are matched to it by TMDB id, IMDb id, then title + year (`Storage.library_movies`); the
match is cached per guild until the next read or for `CACHE_SECONDS` (movies added to the
guild meanwhile).

Items new since the previous read are handed to `added_listeners` (the "now available" DMs,
`bot.service.notify`); the first read after start-up on an empty table announces nothing.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.config import Settings
from bot.domain.library import LibraryItem
from bot.i18n import _, ngettext, number, speaking
from bot.media.models import SERVICE_NAMES, MediaError
from bot.service.gate import Gate
from bot.service.media import MediaClients, MediaProblem
from bot.storage import Storage

log = logging.getLogger(__name__)

JITTER = 0.1
RETRY_FAILED = 900.0  # seconds before a failed read is tried again (at most the interval)
MIN_MANUAL_GAP = 60.0  # seconds between two refreshes an admin asks for
CACHE_SECONDS = 300.0
SERVERS = ("jellyfin", "plex")

Added = Callable[[list[LibraryItem]], Awaitable[object]]


class NoLibrary(MediaProblem):
    def __init__(self) -> None:
        super().__init__(_("No media server is set up on this bot: a bot admin must set "
                           "[jellyfin] url and api_key, or [plex] url and token, in its config "
                           "and restart it."))


@dataclass(frozen=True, slots=True)
class LibraryRead:
    """What one read of the libraries found: movies per server, new items, failures."""

    counts: dict[str, int]
    added: int
    problems: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        """One line, in the current language (`bot.i18n`)."""
        parts = [f"{SERVICE_NAMES[s]}: " + ngettext("{n} movie", "{n} movies", n).format(
                     n=number(n)) for s, n in self.counts.items()]
        parts += [f"{SERVICE_NAMES[s]}: " + _("not read ({problem})").format(problem=p)
                  for s, p in self.problems.items()]
        return "; ".join(parts) + ("; " + _("{n} new").format(n=number(self.added))
                                   if self.added else "")


class LibraryService:
    def __init__(self, storage: Storage, settings: Settings, gate: Gate,
                 clients: MediaClients) -> None:
        self.storage = storage
        self.settings = settings
        self.gate = gate
        self.clients = clients
        self.added_listeners: list[Added] = []
        self.next_read_at = 0.0  # epoch seconds: the first check reads at once
        self.read_at: float | None = None
        self._last_manual = 0.0
        self._lock = asyncio.Lock()
        self._cache: dict[int, tuple[float, int, dict[int, LibraryItem]]] = {}
        self._version = 0

    def servers(self) -> list[str]:
        return [s for s in SERVERS if self.clients.configured(s)]

    @property
    def configured(self) -> bool:
        return bool(self.servers())

    def interval(self) -> float:
        return self.settings.media.library_hours * 3600.0

    # ------------------------------------------------------------------ reading
    async def refresh(self, *, manual: bool = False) -> LibraryRead:
        """Read every configured server's library now and store it."""
        if not self.configured:
            raise NoLibrary()
        if manual:
            wait = self._last_manual + MIN_MANUAL_GAP - time.monotonic()
            if wait > 0:
                raise MediaProblem(_("The library was read moments ago; try again in "
                                     "{seconds} s.").format(seconds=int(wait) + 1))
            self._last_manual = time.monotonic()
        async with self._lock, self.gate.enter():
            counts: dict[str, int] = {}
            problems: dict[str, str] = {}
            added: list[LibraryItem] = []
            for server in self.servers():
                try:
                    client = (self.clients.jellyfin() if server == "jellyfin"
                              else self.clients.plex())
                    items = await client.library()
                except MediaError as error:
                    problems[server] = str(error)
                    log.warning("library of %s not read: %s", server, error)
                    continue
                new, had_any = await self.storage.replace_library(server, items, time.time())
                counts[server] = len(items)
                if had_any:
                    added.extend(new)
            now = time.time()
            failed = bool(problems) and not counts
            base = min(RETRY_FAILED, self.interval()) if failed else self.interval()
            self.next_read_at = now + base * random.uniform(1 - JITTER, 1 + JITTER)
            if counts:
                self.read_at = now
            self._version += 1
            self._cache.clear()
        read = LibraryRead(counts, len(added), problems)
        with speaking("en"):
            log.info("library read: %s", read.text())
        if added:
            for listener in self.added_listeners:
                try:
                    await listener(added)
                except Exception:
                    log.exception("a listener of new library items failed")
        return read

    async def refresh_due(self, now: float | None = None) -> LibraryRead | None:
        """Read the libraries when their time has come; None when it has not (or no media
        server is configured)."""
        now = time.time() if now is None else now
        if not self.configured or now < self.next_read_at:
            return None
        return await self.refresh()

    # ------------------------------------------------------------------ asking
    async def movies(self, guild_id: int) -> dict[int, LibraryItem]:
        """{movie id: library item} for the guild's movies the server has ({} without one)."""
        if not self.configured:
            return {}
        cached = self._cache.get(guild_id)
        now = time.monotonic()
        if cached is not None and cached[1] == self._version and now - cached[0] < CACHE_SECONDS:
            return cached[2]
        async with self.gate.enter():
            found = await self.storage.library_movies(guild_id)
        self._cache[guild_id] = (now, self._version, found)
        return found

    async def movie_ids(self, guild_id: int) -> set[int]:
        return set(await self.movies(guild_id))
