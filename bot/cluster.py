"""Sharded clusters: one `AutoShardedBot` process per contiguous slice of Discord's shards.

`[sharding] shard_count = N, clusters = C, cluster_id = K` (`MOVIEBOT_CLUSTER_ID` overrides K)
makes `create_bot` return a `ShardedMovieBot` running shards `shard_slice(N, C, K)`. A guild's
shard is `(guild_id >> 22) % N` (Discord's rule), so a guild always lives in exactly one
process and its model state, cached in that process, needs no sharing.

What the processes share goes through Redis (`[redis] url`):

* **Discord's identify limit**, one IDENTIFY per `identify_seconds` (5 s) per bucket
  `shard_id % max_concurrency`, holds across processes: `before_identify_hook` takes the
  bucket's key with `SET key NX PX 5500` (the hold is 10 % over the limit) and waits while
  another process holds it. discord.py's own hook only spaces shards inside one process.
  With Redis out of reach (a restart, a network cut) the hook waits and retries with backoff,
  one log line per attempt: a shard whose session Discord invalidated meanwhile identifies
  once Redis is back, and the process stays up.
* **Per-process resources**: with `[metrics] enabled`, cluster K serves on `port + K`.
* **One-time start-up jobs** run once, not in every process: migrations and the starter
  catalog under a Redis lock (the first process does them, the others find them done); the
  dev-guild command sync only in cluster 0 (the global sync stays `python -m bot sync`, run
  once per deploy); reconciling and purging departed guilds per shard: each cluster only
  marks and purges guilds of its own shards, so no two processes purge the same guild and
  none marks another cluster's guilds as left.

Without Redis, sharding works in one process (`clusters = 1`): identifies are spaced per
bucket in-process. More than one cluster requires Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from discord.ext import commands

from bot.client import MovieBot
from bot.config import ConfigError, Settings
from bot.domain.plural import plural
from bot.domain.shards import shard_of, shard_slice

log = logging.getLogger(__name__)

IDENTIFY_MARGIN = 1.1  # hold each bucket 10 % longer than Discord's window (5 s -> 5.5 s)
STARTUP_LOCK_SECONDS = 600  # the start-up lock expires if its holder dies mid-migration
KEY_PREFIX = "moviebot"
# Redis out of reach while a shard must identify: retry after 0.5 s, doubling, at most 30 s
# apart (discord.py gives a whole identify 60 s, then reconnects and comes back here).
IDENTIFY_RETRY_BASE, IDENTIFY_RETRY_CAP = 0.5, 30.0


def check_sharding(settings: Settings) -> None:
    """Refuse a sharding set-up that cannot work, with one line (a `ConfigError`)."""
    sharding = settings.sharding
    if sharding.shard_count <= 0:
        if sharding.clusters > 1:
            raise ConfigError("[sharding] clusters > 1 needs shard_count (at least one shard "
                              "per cluster)")
        return
    if sharding.clusters > sharding.shard_count:
        raise ConfigError(f"[sharding] clusters ({sharding.clusters}) must not exceed "
                          f"shard_count ({sharding.shard_count})")
    if not 0 <= sharding.cluster_id < sharding.clusters:
        raise ConfigError(f"[sharding] cluster_id (or MOVIEBOT_CLUSTER_ID) must be 0.."
                          f"{sharding.clusters - 1}, got {sharding.cluster_id}")
    if sharding.clusters > 1 and not settings.redis.url:
        raise ConfigError("[sharding] with several clusters needs Redis ([redis] url or "
                          "MOVIEBOT_REDIS_URL) to share Discord's identify limit")


class Coordinator:
    """The Redis keys the cluster processes share (identify buckets, the start-up lock)."""

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self.redis: Any = Redis.from_url(url)

    async def identify_slot(self, key: str, hold_seconds: float) -> float:
        """Wait until `key` is free, then hold it for `hold_seconds` (`SET NX PX`): one
        IDENTIFY per bucket per window across every process. Returns the seconds waited."""
        started = time.monotonic()
        hold_ms = max(1, int(hold_seconds * 1000))
        while not await self.redis.set(key, b"1", nx=True, px=hold_ms):
            left_ms = await self.redis.pttl(key)
            await asyncio.sleep(max(left_ms, 5) / 1000)
        return time.monotonic() - started

    @contextlib.asynccontextmanager
    async def exclusive(self, key: str, seconds: float = STARTUP_LOCK_SECONDS
                        ) -> AsyncIterator[None]:
        """One process at a time (redis-py's lock: a token, released only by its holder).
        A lock that expired (or was removed) while held is logged, not raised: the work it
        guarded is done, and failing the process for it would only restart the same work."""
        from redis.exceptions import LockNotOwnedError

        lock = self.redis.lock(key, timeout=seconds, sleep=0.05)
        await lock.acquire()
        try:
            yield
        finally:
            try:
                await lock.release()
            except LockNotOwnedError:
                log.warning("the lock %s was no longer ours when released (expired after "
                            "%s s, or removed from Redis)", key, seconds)

    async def aclose(self) -> None:
        with contextlib.suppress(Exception):
            await self.redis.aclose()


class ShardedMovieBot(MovieBot, commands.AutoShardedBot):
    """The movie bot over this cluster's shards (see the module docstring)."""

    def __init__(self, settings: Settings, **options: Any) -> None:
        check_sharding(settings)
        sharding = settings.sharding
        self.cluster_shards = shard_slice(sharding.shard_count, sharding.clusters,
                                          sharding.cluster_id)
        if sharding.cluster_id != 0:  # command sync is a one-time job: cluster 0's
            settings = replace(settings, dev_guild_id=None)
        if settings.metrics.enabled and settings.metrics.port:  # clusters may share a host
            settings = replace(settings, metrics=replace(
                settings.metrics, port=settings.metrics.port + sharding.cluster_id))
        options.setdefault("shard_ids", self.cluster_shards)
        options.setdefault("shard_count", sharding.shard_count)
        super().__init__(settings, **options)
        self.coordinator = Coordinator(settings.redis.url) if settings.redis.url else None
        self._max_concurrency: int | None = None
        self._last_identify: dict[int, float] = {}  # bucket -> monotonic time (no Redis)
        self.identify_waits: list[tuple[int, float]] = []  # (shard, seconds waited)

    def _key(self, *parts: object) -> str:
        return ":".join([KEY_PREFIX, str(self.application_id or 0), *map(str, parts)])

    def owns_guild(self, guild_id: int) -> bool:
        """Whether the guild's shard is one of this cluster's."""
        return shard_of(guild_id, self.settings.sharding.shard_count) in self.cluster_shards

    async def prepare(self) -> None:
        # Migrations and the starter catalog: one process at a time, so the first does them
        # and the others find them done. This runs before the login, when the application id
        # is not known yet: the lock's key is the same for every process.
        if self.services is None and self.coordinator is not None:
            async with self.coordinator.exclusive(f"{KEY_PREFIX}:startup"):
                await super().prepare()
        else:
            await super().prepare()
        if self.services is not None:
            self.services.guilds.owns = self.owns_guild  # reconcile and purge: own shards
            self.services.media.owns = self.owns_guild  # periodic syncs: own shards' links

    async def setup_hook(self) -> None:
        await super().setup_hook()
        log.info("cluster %d/%d: shards %s of %d", self.settings.sharding.cluster_id,
                 self.settings.sharding.clusters, self.cluster_shards,
                 self.settings.sharding.shard_count)

    async def max_concurrency(self) -> int:
        """Discord's `session_start_limit.max_concurrency` (asked once; 1 if unknown)."""
        if self._max_concurrency is None:
            try:
                limits = await self.fetch_session_start_limits()
                self._max_concurrency = max(1, int(limits.max_concurrency))
                if limits.remaining < len(self.cluster_shards):
                    log.warning("Discord allows %d more session starts today (reset in %.0f "
                                "min); this cluster needs %d", limits.remaining,
                                limits.reset_after / 60000, len(self.cluster_shards))
            except Exception:  # the safe value: one identify per window for everyone
                log.warning("could not read the session start limit; assuming "
                            "max_concurrency 1", exc_info=True)
                self._max_concurrency = 1
        return self._max_concurrency

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        shard = shard_id or 0
        bucket = shard % await self.max_concurrency()
        window = self.settings.sharding.identify_seconds
        if self.coordinator is not None:
            waited = await self._shared_identify_slot(
                self.coordinator, shard, self._key("identify", bucket), window * IDENTIFY_MARGIN)
        else:
            started = time.monotonic()
            last = self._last_identify.get(bucket)
            if last is not None:
                await asyncio.sleep(max(0.0, last + window * IDENTIFY_MARGIN - started))
            self._last_identify[bucket] = time.monotonic()
            waited = self._last_identify[bucket] - started
        self.identify_waits.append((shard, waited))
        log.debug("identify shard=%s bucket=%s waited=%.2fs", shard, bucket, waited)

    async def _shared_identify_slot(self, coordinator: Coordinator, shard: int, key: str,
                                    hold: float) -> float:
        """The bucket's identify slot through Redis, waiting out a Redis that cannot be
        reached (retried with backoff, logged); the seconds waited."""
        from redis.exceptions import ConnectionError as RedisUnreachable
        from redis.exceptions import TimeoutError as RedisTimeout

        from bot.lifecycle import backoff_delay, describe

        started = time.monotonic()
        attempt = 0
        while True:
            try:
                await coordinator.identify_slot(key, hold)
            except (RedisUnreachable, RedisTimeout, OSError) as error:
                if self.is_closed():
                    raise
                attempt += 1
                delay = backoff_delay(attempt, base=IDENTIFY_RETRY_BASE, cap=IDENTIFY_RETRY_CAP)
                log.warning("shard %s cannot identify: Redis unreachable for the identify lock "
                            "(attempt %d): %s; retrying in %.1f s", shard, attempt,
                            describe(error), delay)
                await asyncio.sleep(delay)
                continue
            if attempt:
                log.info("shard %s: Redis reachable again after %s; identifying", shard,
                         plural(attempt, "failed attempt"))
            return time.monotonic() - started

    async def _close_once(self) -> None:
        try:
            await super()._close_once()
        finally:
            if self.coordinator is not None:
                await self.coordinator.aclose()
