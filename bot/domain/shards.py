"""Discord's shards: which shard a guild lives on, and which shards a cluster runs.

Pure functions shared by the sharded bot (`bot.cluster`) and the start-up line (`bot.about`).
"""

from __future__ import annotations


def shard_of(guild_id: int, shard_count: int) -> int:
    """Discord's rule: the shard a guild's events arrive on."""
    return (guild_id >> 22) % shard_count


def shard_slice(shard_count: int, clusters: int, cluster_id: int) -> list[int]:
    """Cluster `cluster_id`'s contiguous shard ids; the first `shard_count % clusters`
    clusters take one more shard than the others."""
    base, extra = divmod(shard_count, clusters)
    start = cluster_id * base + min(cluster_id, extra)
    return list(range(start, start + base + (1 if cluster_id < extra else 0)))
