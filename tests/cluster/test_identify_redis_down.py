"""Redis down when Discord invalidates a session (security issue, round 2, row 19): the cluster's
shards must identify again, which takes the identify lock in Redis. The process stays up: each
shard waits, retries with backoff (one log line per attempt), and identifies once Redis is back.

Redis is the real test server behind a small TCP relay the test can take down and bring back.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

from bot import create_bot
from bot.config import RedisSettings, ShardingSettings, default_settings
from emulator import DiscordEmulator, quiet_discord_logging

quiet_discord_logging()
WINDOW = 0.3


class Relay:
    """A TCP relay to Redis: `down()` refuses and cuts every connection, `up()` serves again
    on the same port."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def up(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port,
                                                 reuse_address=True)
        self.port = self.server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.writers |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.writers -= {writer, up_writer}


@contextlib.asynccontextmanager
async def relay_to(url: str) -> AsyncIterator[tuple[Relay, str]]:
    parts = urlsplit(url)
    relay = Relay(parts.hostname or "127.0.0.1", parts.port or 6379)
    await relay.up()
    try:
        yield relay, urlunsplit(parts._replace(netloc=f"127.0.0.1:{relay.port}"))
    finally:
        await relay.down()


async def test_identify_waits_for_redis_and_the_process_stays_up(tmp_path, redis_db, caplog):
    async with relay_to(redis_db) as (relay, via_relay), DiscordEmulator() as emu:
        emu.configure_sharding(4, max_concurrency=1, identify_window=WINDOW)
        guilds = emu.create_sharded_guilds(4, 4)
        emu.point_discord_py_here()
        settings = dataclasses.replace(
            default_settings(), database=tmp_path / "bot.sqlite3",
            redis=RedisSettings(url=via_relay),
            sharding=ShardingSettings(shard_count=4, clusters=2, cluster_id=0,
                                      identify_seconds=WINDOW))
        bot = create_bot(settings, guild_ready_timeout=0.05)
        task = asyncio.create_task(bot.start("token"))
        try:
            await emu.wait_until(lambda: bot.is_ready() or task.done() or None, 30, "ready")
            assert not task.done(), task
            identified = len(emu.gateway.identify_log)
            assert identified == 2  # shards 0 and 1

            with caplog.at_level(logging.INFO, logger="bot.cluster"):
                await relay.down()  # Redis unreachable ...
                await emu.gateway.invalidate_sessions(resumable=False)  # ... and Discord

                def failed_attempts() -> int:
                    return sum("Redis unreachable for the identify lock" in r.getMessage()
                               for r in caplog.records)

                await emu.wait_until(lambda: failed_attempts() >= 2 or task.done() or None,
                                     30, "identify retries")
                assert not task.done(), task  # the process is still up
                await relay.up()  # Redis is back: both shards identify again
                await emu.wait_until(
                    lambda: len(emu.gateway.identify_log) >= identified + 2 or task.done()
                    or None, 60, "the shards identifying again")
                await emu.wait_until(
                    lambda: sorted(emu.sessions_by_shard()) == [0, 1] or None, 30,
                    "both shards connected")
            assert not task.done(), task
            assert emu.gateway.identify_refusals == []
            lines = [r.getMessage() for r in caplog.records]
            retry = next(line for line in lines if "Redis unreachable" in line)
            assert "(attempt 1)" in retry and "retrying in" in retry
            assert any("Redis reachable again" in line for line in lines)
            owned = {g.id for g in guilds if (g.id >> 22) % 4 in (0, 1)}
            await emu.wait_until(lambda: {g.id for g in bot.guilds} == owned or None, 30,
                                 "the cluster's guilds back")
        finally:
            with contextlib.suppress(Exception):
                await bot.close()
            await asyncio.wait([task], timeout=10)
