"""RequestService: a member asks Seerr for a movie the library lacks (issue 25, item 4).

* The member's Seerr user is the one whose settings name their Discord id
  (`settings.discordIds` in Seerr 3.3+, `settings.discordId` before; read through
  `bot.media.seerr`, the user list cached for `USERS_TTL`). A member without one gets
  `NoSeerrUser`, which says how to set it.
* **One request per movie, ever.** The movie's row in `seerr_requests` is claimed first
  (an insert only one caller wins, in any process); the winner asks Seerr for the movie's
  status and only when nobody asked for it yet sends `POST /api/v1/request` as the member's
  Seerr user (`userId`). Everyone else, and the winner when Seerr already has the movie
  pending, processing or available, gets the status instead of a second request. A request
  Seerr refused or could not take frees the claim, so a later press may try again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from dataclasses import dataclass

from bot.config import Settings
from bot.domain.models import Movie
from bot.i18n import _
from bot.media.models import MediaError
from bot.media.seerr import ALREADY_THERE, SeerrClient, SeerrUser
from bot.service.gate import Gate
from bot.service.media import MediaClients, MediaProblem
from bot.storage import Storage

USERS_TTL = 60.0


class NoSeerrUser(MediaProblem):
    def __init__(self) -> None:
        super().__init__(_(
            "Your Discord account is not linked to a Seerr user, so I can't request movies "
            "for you. In Seerr, open your profile > Settings > Notifications and enter your "
            "Discord user ID (or ask the Seerr admin to), then try again."))


@dataclass(frozen=True, slots=True)
class RequestOutcome:
    movie: Movie
    status: str  # pending | approved | processing | partially available | available | ...
    made: bool  # this press made the request
    seerr_user: str  # the name of the Seerr user it was made as (or would have been)


class RequestService:
    def __init__(self, storage: Storage, settings: Settings, gate: Gate, *,
                 clients: MediaClients | None = None) -> None:
        self.storage = storage
        self.settings = settings
        self.gate = gate
        self.clients = clients or MediaClients(settings)  # the media service's, shared
        self._users: tuple[float, list[SeerrUser]] | None = None
        # this process's presses for one movie, one at a time (a second press reads the
        # first's outcome); other movies' presses do not wait for them
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = (
            weakref.WeakValueDictionary())
        self.sent = 0  # requests this process made (tests, logs)

    @property
    def configured(self) -> bool:
        return self.settings.seerr.enabled

    def client(self) -> SeerrClient:
        return self.clients.seerr()

    async def seerr_user(self, discord_id: int) -> SeerrUser | None:
        """The Seerr user naming this Discord id, if any."""
        now = time.monotonic()
        if self._users is None or now - self._users[0] > USERS_TTL:
            try:
                self._users = (now, await self.client().users())
            except MediaError as error:
                raise MediaProblem(str(error)) from None
        return next((u for u in self._users[1] if discord_id in u.discord_ids), None)

    def requestable(self, movie: Movie) -> bool:
        return self.configured and movie.tmdb_id is not None

    async def request(self, user_id: int, movie: Movie) -> RequestOutcome:
        """Request the movie on Seerr as the member's Seerr user (at most once per movie)."""
        if not self.configured:
            raise MediaProblem(_("Seerr is not set up on this bot: a bot admin must set [seerr] "
                                 "url and api_key in its config."))
        tmdb = movie.tmdb_id
        if tmdb is None:
            raise MediaProblem(_("I don't know this movie's TMDB id, so Seerr can't request "
                                 "it."))
        async with self.gate.enter():
            user = await self.seerr_user(user_id)
            if user is None:
                raise NoSeerrUser()
            lock = self._locks.get(tmdb)
            if lock is None:
                lock = self._locks[tmdb] = asyncio.Lock()
            async with lock:
                return await self._request(movie, tmdb, user)

    async def _request(self, movie: Movie, tmdb: int, user: SeerrUser) -> RequestOutcome:
        client = self.client()
        existing = await self.storage.claim_seerr_request(tmdb, user.id, time.time())
        if existing is not None:  # asked for before (here or in another process)
            status = existing.status if existing.status != "requesting" else "pending"
            with contextlib.suppress(MediaError):  # Seerr's word, when it answers
                status = _shown(await client.movie_status(tmdb), status)
            await self.storage.update_seerr_request(tmdb, None, status)
            return RequestOutcome(movie, status, False, user.name)
        try:
            status = await client.movie_status(tmdb)
            if status in ALREADY_THERE:  # someone asked in Seerr itself
                await self.storage.update_seerr_request(tmdb, None, status)
                return RequestOutcome(movie, status, False, user.name)
            made = await client.request(tmdb, user.id)
        except MediaError as error:
            await self.storage.release_seerr_request(tmdb)
            raise MediaProblem(_("Seerr did not take the request: {problem}").format(
                problem=error)) from None
        except BaseException:
            await self.storage.release_seerr_request(tmdb)
            raise
        self.sent += 1
        await self.storage.update_seerr_request(tmdb, made.request_id, made.status)
        return RequestOutcome(movie, made.status, True, user.name)


def _shown(media_status: str, fallback: str) -> str:
    """The status to show for a movie requested before: Seerr's media status when it says
    more than "unknown"."""
    return fallback if media_status in ("unknown", "deleted") else media_status
