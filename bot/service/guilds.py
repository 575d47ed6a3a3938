"""GuildLifecycle: the bot joining and leaving servers, and the purge of departed ones.

When the bot is removed from a server the server is marked as left; its data (ratings, added
movies, settings, saved model) is purged after `privacy.purge_grace_days`, and its cached model
dropped in the same call. Joining again before then cancels the purge. Joins and removals while
the bot was offline send no event: `reconcile` marks them from the guilds the bot is in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from bot.config import Settings
from bot.privacy import purge_departed_guilds
from bot.service.gate import Gate
from bot.service.service import RecommendationService
from bot.storage import Storage

log = logging.getLogger(__name__)


class GuildLifecycle:
    def __init__(self, storage: Storage, settings: Settings,
                 recommendations: RecommendationService, gate: Gate) -> None:
        self.storage = storage
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

    async def joined(self, guild_id: int) -> None:
        async with self.gate.enter():
            await self.storage.mark_guild_joined(guild_id)

    async def reconcile(self, present: Iterable[int]) -> None:
        """Guilds the bot is in cancel a pending purge; guilds with data it is no longer in
        start one."""
        present_ids = set(present)
        async with self.gate.enter():
            for guild_id in present_ids:
                await self.storage.mark_guild_joined(guild_id)
            for guild_id in await self.storage.guilds_with_data() - present_ids:
                if self.owns is None or self.owns(guild_id):
                    await self.storage.mark_guild_left(guild_id)

    async def purge_departed(self, keep: Iterable[int]) -> list[int]:
        """Purge guilds past the grace period (data and cached models); returns their ids."""
        async with self.gate.enter():
            purged = await purge_departed_guilds(
                self.storage, self.settings.privacy.purge_grace_days, keep=keep,
                owns=self.owns)
            for guild_id in purged:
                await self.recommendations.forget_guild(guild_id)
            return purged
