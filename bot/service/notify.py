"""NotifyService: "now available" DMs, opt-in (issue 25, item 5).

A member turns them on or off per server (`/notify on|off`: `media_notify`). When a movie
becomes available on the media server, announced by Seerr's `MEDIA_AVAILABLE` webhook
(`bot.media.webhook` -> `available`) or noticed by a library read (`LibraryService`'s new
items -> `library_added`), every opted-in member with the movie on their watchlist in that
server gets one DM. "One" holds per member and movie, ever: the notice is recorded
(`media_notified`) before the DM is sent, so a repeated webhook, a second server or a later
library read sends nothing more. The DM itself is the cog's (`sender`); a member who closed
their DMs is dropped quietly there.

Both tables are member data (registered here): `/forgetme` removes them, and purge and
`db copy` cover them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable

from bot.domain.library import LibraryItem, NotifyTarget
from bot.domain.plural import plural
from bot.service.exports import notify_csv
from bot.service.gate import Gate
from bot.service.member_data import MemberData, MemberDataRegistry, MemberExport, MemberTable
from bot.storage import Storage

log = logging.getLogger(__name__)

# (member id, what became available for them) -> whether the DM was delivered
Sender = Callable[[int, list[NotifyTarget]], Awaitable[bool]]


class NotifyService:
    def __init__(self, storage: Storage, gate: Gate,
                 member_data: MemberDataRegistry | None = None) -> None:
        self.storage = storage
        self.gate = gate
        self.sender: Sender | None = None  # set by the cog that can send DMs
        self.delivered = 0  # DMs delivered by this process (tests, logs)
        self.handled = 0  # availability events handled to the end (tests, logs)
        if member_data is not None:
            member_data.register(MemberData(
                "notify", (MemberTable("media_notify", ("guild_id", "user_id", "since")),
                           MemberTable("media_notified", ("guild_id", "user_id", "movie_id",
                                                          "sent_at"))),
                count=None, export=self.export_file))

    async def set(self, guild_id: int, user_id: int, on: bool) -> None:
        async with self.gate.enter():
            await self.storage.set_notify(guild_id, user_id, on, time.time())

    async def is_on(self, guild_id: int, user_id: int) -> bool:
        async with self.gate.enter():
            return await self.storage.notify_on(guild_id, user_id)

    async def export_file(self, guild_id: int, user_id: int) -> MemberExport | None:
        """/export: the member's /notify choice and the notices they were sent."""
        async with self.gate.enter():
            since, sent = await self.storage.notify_record(guild_id, user_id)
        if since is None and not sent:
            return None
        return MemberExport("notify", notify_csv(since, sent),
                            len(sent) + (since is not None))

    async def available(self, tmdb_ids: Iterable[int], imdb_ids: Iterable[str] = ()) -> int:
        """Movies became available: DM each opted-in member who watchlisted one, once.
        Returns how many DMs were delivered."""
        async with self.gate.enter():
            targets = await self.storage.notify_targets(tmdb_ids, imdb_ids)
        return await self._deliver(targets)

    async def _deliver(self, targets: list[NotifyTarget]) -> int:
        """Claim each (member, movie) notice, then DM each member whose claim is new once."""
        async with self.gate.enter():
            due: dict[int, list[NotifyTarget]] = {}
            now = time.time()
            for target in targets:
                if await self.storage.claim_notified(target.guild_id, target.user_id,
                                                     target.movie_id, now):
                    due.setdefault(target.user_id, []).append(target)
        sent = 0
        sender = self.sender
        if sender is None and due:
            log.warning("%s due a 'now available' DM, but nothing can send DMs",
                        plural(len(due), "member"))
        for user_id, found in due.items():
            if sender is None:
                break
            try:
                if await sender(user_id, found):
                    sent += 1
            except Exception:
                log.exception("a 'now available' DM failed")
        self.delivered += sent
        self.handled += 1
        return sent

    async def library_added(self, items: list[LibraryItem]) -> int:
        """New library items (a library read): their movies, matched to each guild's catalog
        as `/recommend source:library` matches them, are now available."""
        async with self.gate.enter():
            targets: list[NotifyTarget] = []
            for server in sorted({i.server for i in items}):
                targets += await self.storage.item_notify_targets(
                    server, [i.item_id for i in items if i.server == server])
        return await self._deliver(targets)
