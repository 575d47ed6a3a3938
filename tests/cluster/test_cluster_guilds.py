"""Departed guilds in a sharded cluster: each cluster reconciles and purges only the guilds of
its own shards, so no cluster marks another's guilds as left or purges them."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from bot.cluster import shard_of, shard_slice
from bot.config import PrivacySettings, default_settings
from bot.service.app import Services
from bot.service.guilds import GuildLifecycle
from bot.storage import Storage

SHARDS = 4


def guild_on(shard: int, n: int) -> int:
    return ((1000 + n * SHARDS + shard) << 22) | 7


async def test_each_cluster_reconciles_and_purges_its_own_shards(tmp_path):
    storage = await Storage.open(tmp_path / "bot.sqlite3")
    movie = await storage.add_movie("Heat", 1995, ("Crime",))
    guilds = [guild_on(shard, n) for shard in range(SHARDS) for n in range(2)]
    for guild in guilds:
        await storage.upsert_rating(guild, 1, movie.id, 8)
    settings = dataclasses.replace(default_settings(), privacy=PrivacySettings(0))
    services = Services.build(storage, settings)
    try:
        clusters = []
        for cluster_id in range(2):
            mine = set(shard_slice(SHARDS, 2, cluster_id))
            lifecycle = GuildLifecycle(storage, settings, services.recommendations,
                                       services.gate)  # one storage, each its own shards
            lifecycle.owns = lambda g, mine=mine: shard_of(g, SHARDS) in mine
            clusters.append((mine, lifecycle))
        gone = guild_on(3, 1)  # the bot was removed from it while cluster 1 was down
        for mine, lifecycle in clusters:  # each cluster sees only its own guilds at start
            present = [g for g in guilds if shard_of(g, SHARDS) in mine and g != gone]
            await lifecycle.reconcile(present)
        far = datetime.now(UTC) + timedelta(days=1)
        assert await storage.guilds_left_before(far) == [gone]
        # Cluster 0 purges nothing of cluster 1's; cluster 1 purges its departed guild.
        assert await clusters[0][1].purge_departed(keep=[]) == []
        assert await clusters[1][1].purge_departed(keep=[]) == [gone]
        assert await storage.guilds_with_data() == set(guilds) - {gone}
    finally:
        await services.recommendations.close()
        await storage.close()
