"""Privacy housekeeping: purge the data of guilds the bot left more than a grace period ago.

Used by the periodic task in `cogs/privacy.py` and by the CLI (`python -m bot purge`). A guild is
marked as left by `Storage.mark_guild_left` (the bot was removed) and unmarked by
`Storage.mark_guild_joined` (the bot came back before the purge).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta

from bot.domain.plural import plural

log = logging.getLogger(__name__)


async def purge_departed_guilds(storage, grace_days: float, *, now: datetime | None = None,
                                keep: Iterable[int] = (),
                                owns: Callable[[int], bool] | None = None,
                                member_tables: Sequence[str] | None = None,
                                before: Callable[[int], Awaitable[object]] | None = None
                                ) -> list[int]:
    """Delete everything stored for guilds whose `left_at` is older than `grace_days`.

    Returns the ids of the purged guilds (ascending). `grace_days` 0 purges every guild the
    bot has left, at once. Guilds in `keep` (the bot is in them right now, so a join event was
    missed) are marked as joined instead of purged. `owns` (a sharded cluster): only guilds
    it says yes to are considered. `member_tables`: the member-data registry's tables (None:
    storage finds them). `before(guild_id)` runs just before a guild is purged (linked media
    accounts' tokens are revoked). `now` is for tests.
    """
    if grace_days < 0:
        raise ValueError("grace_days must be >= 0")
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=grace_days)
    present = set(keep)
    purged: list[int] = []
    for guild_id in await storage.guilds_left_before(cutoff):
        if owns is not None and not owns(guild_id):
            continue
        if guild_id in present:
            await storage.mark_guild_joined(guild_id)
            continue
        if before is not None:
            await before(guild_id)
        removed = await storage.purge_guild(guild_id, member_tables)
        log.info("purged departed guild %s: %s removed", guild_id, plural(removed, "row"))
        purged.append(guild_id)
    return purged
