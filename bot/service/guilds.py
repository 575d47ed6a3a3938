"""GuildLifecycle: the bot joining and leaving servers, and the purge of departed ones.

When the bot is removed from a server the server is marked as left; its data (ratings, added
movies, settings, saved model) is purged after `privacy.purge_grace_days`, and its cached model
dropped in the same call. Joining again before then cancels the purge. Joins and removals while
the bot was offline send no event: `reconcile` marks them from the guilds the bot is in.
Each server's name and member count are kept for `python -m bot stats` (and purged with it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from bot.config import Settings
from bot.domain.servers import server_name
from bot.privacy import purge_departed_guilds
from bot.service.gate import Gate
from bot.service.member_data import MemberDataRegistry
from bot.service.service import RecommendationService
from bot.storage import Storage
from bot.storage.models import GuildName

# A server as the gateway reports it: (id, name, member count if known).
ServerSeen = tuple[int, str | None, int | None]

log = logging.getLogger(__name__)


class GuildLifecycle:
    def __init__(self, storage: Storage, settings: Settings,
                 recommendations: RecommendationService, gate: Gate,
                 member_data: MemberDataRegistry | None = None) -> None:
        self.storage = storage
        # The purge deletes the registered member tables (None: storage finds them itself).
        self.member_data = member_data
        self.settings = settings
        self.recommendations = recommendations
        self.gate = gate
        # A sharded cluster sets this: it only marks and purges its own shards' guilds.
        self.owns: Callable[[int], bool] | None = None

    async def left(self, guild_id: int) -> None:
        async with self.gate.enter():
            await self.storage.mark_guild_left(guild_id, datetime.now(UTC))
        log.info("left guild %s: its data will be purged after %g days", guild_id,
                 self.settings.privacy.purge_grace_days)

    async def joined(self, guild_id: int, name: str | None = None,
                     member_count: int | None = None) -> None:
        """The bot joined (or is back in) a server: cancel a purge, remember its name."""
        async with self.gate.enter():
            await self.storage.mark_guild_joined(guild_id)
            if name is not None:
                await self.storage.save_guild_names(
                    [GuildName(guild_id, server_name(name), member_count)])

    async def renamed(self, guild_id: int, name: str, member_count: int | None) -> None:
        """A server the bot is in changed its name: `stats` shows the new one."""
        async with self.gate.enter():
            await self.storage.save_guild_names(
                [GuildName(guild_id, server_name(name), member_count)])

    async def reconcile(self, present: Iterable[int],
                        names: Iterable[ServerSeen] = ()) -> None:
        """Guilds the bot is in cancel a pending purge; guilds with data it is no longer in
        start one. `names`: (id, name, member count) of the servers it is in, for `stats`."""
        present_ids = set(present)
        async with self.gate.enter():
            for guild_id in present_ids:
                await self.storage.mark_guild_joined(guild_id)
            await self.storage.save_guild_names(
                [GuildName(guild_id, server_name(name), members)
                 for guild_id, name, members in names])
            for guild_id in await self.storage.guilds_with_data() - present_ids:
                if self.owns is None or self.owns(guild_id):
                    await self.storage.mark_guild_left(guild_id)

    async def _before_purge(self, guild_id: int) -> None:
        # Each kind of member data's `purging` hook (linked accounts' tokens are revoked).
        if self.member_data is not None:
            await self.member_data.before_purge(guild_id)

    def _member_tables(self) -> tuple[str, ...] | None:
        return self.member_data.table_names() if self.member_data is not None else None

    async def purge_departed(self, keep: Iterable[int]) -> list[int]:
        """Purge guilds past the grace period (data and cached models); returns their ids."""
        async with self.gate.enter():
            purged = await purge_departed_guilds(
                self.storage, self.settings.privacy.purge_grace_days, keep=keep,
                owns=self.owns, member_tables=self._member_tables(),
                before=self._before_purge)
            for guild_id in purged:
                await self.recommendations.forget_guild(guild_id)
            return purged
