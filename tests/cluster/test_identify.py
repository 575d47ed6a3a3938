"""Two cluster bots starting together against an emulator that enforces Discord's identify
limit: with the Redis lock no IDENTIFY is refused and each bucket's IDENTIFYs are a window
apart; the start-up jobs run once; each cluster only holds its own shards' guilds. Without
coordination (discord.py's per-process spacing) the same start gets op 9 refusals."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
from discord.ext import commands

from bot import create_bot
from bot.cluster import ShardedMovieBot
from bot.config import RedisSettings, ShardingSettings, default_settings
from emulator import DiscordEmulator, quiet_discord_logging

quiet_discord_logging()
WINDOW = 0.3


@contextlib.asynccontextmanager
async def started_together(emu: DiscordEmulator, bots: list[Any],
                           timeout: float = 20.0) -> AsyncIterator[None]:  # noqa: ASYNC109
    """Start every bot at the same moment; yield once all are ready; close them all."""
    emu.point_discord_py_here()
    tasks = [asyncio.create_task(b.start("token")) for b in bots]
    try:
        async with asyncio.timeout(timeout):
            while not all(b.is_ready() for b in bots):
                for task in tasks:
                    if task.done():
                        raise AssertionError(f"a bot stopped: {task.exception()!r}\n"
                                             + emu.diagnostics())
                await asyncio.sleep(0.01)
        yield
    finally:
        for b in bots:
            with contextlib.suppress(Exception):
                await b.close()
        await asyncio.wait(tasks, timeout=10)


def cluster_settings(tmp_path: Path, redis: str, cluster_id: int) -> Any:
    return dataclasses.replace(
        default_settings(), database=tmp_path / "bot.sqlite3", redis=RedisSettings(url=redis),
        sharding=ShardingSettings(shard_count=4, clusters=2, cluster_id=cluster_id,
                                  identify_seconds=WINDOW))


async def test_clusters_share_the_identify_limit_through_redis(tmp_path, redis_db, caplog):
    async with DiscordEmulator() as emu:
        emu.configure_sharding(4, max_concurrency=1, identify_window=WINDOW)
        guilds = emu.create_sharded_guilds(8, 4)
        bots = [create_bot(cluster_settings(tmp_path, redis_db, k), guild_ready_timeout=0.05)
                for k in (0, 1)]
        assert all(isinstance(b, ShardedMovieBot) for b in bots)
        with caplog.at_level(logging.INFO, logger="bot.service.app"):
            async with started_together(emu, bots):
                assert emu.gateway.identify_refusals == []
                times = [t for t, _shard, _n in emu.gateway.identify_log]
                assert sorted(s for _t, s, _n in emu.gateway.identify_log) == [0, 1, 2, 3]
                gaps = [b - a for a, b in itertools.pairwise(times)]
                assert min(gaps) >= WINDOW, gaps  # one bucket: a window between IDENTIFYs
                for bot, shards in zip(bots, ([0, 1], [2, 3]), strict=True):
                    assert sorted(bot.shards) == shards
                    assert {g.id for g in bot.guilds} == {
                        g.id for g in guilds if (g.id >> 22) % 4 in shards}
                # The first shard of one of the two processes waited for the other's lock.
                waits = sorted(w for b in bots for _s, w in b.identify_waits)
                assert waits[-1] >= WINDOW * 0.9
        starter = [r for r in caplog.records if "loaded the starter catalog" in r.getMessage()]
        assert len(starter) == 1  # the one-time start-up job ran in one process only


async def test_uncoordinated_processes_break_the_limit(tmp_path):
    """The same start without the lock: both processes identify their first shard at once and
    Discord (the emulator) refuses one with op 9."""
    async with DiscordEmulator() as emu:
        emu.configure_sharding(4, max_concurrency=1, identify_window=WINDOW)
        emu.create_sharded_guilds(4, 4)

        async def no_wait(shard_id: int | None, *, initial: bool = False) -> None:
            if not initial:  # discord.py's own spacing, shortened to the emulator's window
                await asyncio.sleep(WINDOW * 1.1)

        bots = []
        for shard_ids in ([0, 1], [2, 3]):
            bot = commands.AutoShardedBot(command_prefix="!", intents=discord.Intents.none(),
                                          shard_ids=shard_ids, shard_count=4,
                                          guild_ready_timeout=0.05)
            bot.before_identify_hook = no_wait  # type: ignore[method-assign]
            bots.append(bot)
        async with started_together(emu, bots):
            assert [r[2] for r in emu.gateway.identify_refusals][:1] == ["rate"]


async def test_one_sharded_process_without_redis_spaces_its_identifies(tmp_path):
    """`clusters = 1` needs no Redis: the process spaces its own IDENTIFYs per bucket."""
    settings = dataclasses.replace(
        default_settings(), database=tmp_path / "bot.sqlite3",
        sharding=ShardingSettings(shard_count=2, clusters=1, identify_seconds=WINDOW))
    async with DiscordEmulator() as emu:
        emu.configure_sharding(2, max_concurrency=1, identify_window=WINDOW)
        emu.create_sharded_guilds(4, 2)
        bot = create_bot(settings, guild_ready_timeout=0.05)
        assert bot.coordinator is None
        async with started_together(emu, [bot]):
            assert emu.gateway.identify_refusals == []
            assert len(bot.guilds) == 4 and sorted(bot.shards) == [0, 1]
            (first, _a, _b), (second, _c, _d) = emu.gateway.identify_log
            assert second - first >= WINDOW


async def test_sharding_required_is_one_line(tmp_path):
    """Discord closing with 4011 (too many servers on a shard) ends the bot with a line that
    says what to set."""
    from bot.errors import user_facing_error
    from emulator import running_bot

    async with DiscordEmulator() as emu:
        emu.configure_sharding(1, max_guilds_per_shard=1, enforce_identify_rate=False)
        emu.create_sharded_guilds(2, 1)
        bot = create_bot(dataclasses.replace(default_settings(),
                                             database=tmp_path / "bot.sqlite3"),
                         guild_ready_timeout=0.05)
        try:
            async with running_bot(bot, emu, ready_timeout=10):
                raise AssertionError("the bot got ready on an over-full shard")
        except RuntimeError as failed:
            error = failed.__cause__
        assert isinstance(error, discord.ConnectionClosed) and error.code == 4011
        assert "[sharding] shard_count" in (user_facing_error(error) or "")


async def test_unreachable_redis_is_one_line(tmp_path):
    import socket

    from bot.errors import user_facing_error
    from emulator import running_bot

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    async with DiscordEmulator() as emu:
        emu.configure_sharding(4, enforce_identify_rate=False)
        bot = create_bot(cluster_settings(tmp_path, f"redis://127.0.0.1:{closed}/0", 0),
                         guild_ready_timeout=0.05)
        try:
            async with running_bot(bot, emu, ready_timeout=10):
                raise AssertionError("the cluster started without its Redis")
        except RuntimeError as failed:
            error = failed.__cause__
        message = user_facing_error(error) or ""
        assert message.startswith("Cannot reach Redis ([redis] url or MOVIEBOT_REDIS_URL)")
        assert str(closed) in message


async def test_a_lock_that_expired_while_held_is_logged_not_raised(redis_db, caplog):
    """The start-up lock lost while held (it expired, or Redis lost it) must not kill the
    cluster process that did the work (seen as LockNotOwnedError in a loaded CI run)."""
    import redis.asyncio as aioredis

    from bot.cluster import Coordinator

    coordinator = Coordinator(redis_db)
    client = aioredis.from_url(redis_db)
    try:
        with caplog.at_level(logging.WARNING, logger="bot.cluster"):
            async with coordinator.exclusive("moviebot:test-lock", seconds=30):
                await client.delete("moviebot:test-lock")  # gone while we hold it
        assert "no longer ours" in caplog.text
        async with coordinator.exclusive("moviebot:test-lock", seconds=30):
            pass  # and it can be taken again
    finally:
        await client.aclose()
        await coordinator.aclose()
