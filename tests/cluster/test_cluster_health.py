"""One health status per cluster (security issue, round 2, row 16): two cluster processes on one
host with one database path each keep their own status file, so `python -m bot health` never
flips between them; asked about a cluster id it answers for that one, with MOVIEBOT_CLUSTER_ID
(a cluster's container) for its own, otherwise for every cluster, one line each."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from cluster_support import REPO

from bot import create_bot
from bot.config import RedisSettings, ShardingSettings, default_settings
from bot.health import check, status_path
from emulator import DiscordEmulator, quiet_discord_logging

quiet_discord_logging()
WINDOW = 0.3


def cluster_settings(database: Path, redis: str, cluster_id: int) -> Any:
    return dataclasses.replace(
        default_settings(), database=database, redis=RedisSettings(url=redis),
        sharding=ShardingSettings(shard_count=4, clusters=2, cluster_id=cluster_id,
                                  identify_seconds=WINDOW))


async def health(config: Path, *args: str, **env: str) -> tuple[int, list[str]]:
    return await cli(config, "health", *args, **env)


async def cli(config: Path, *args: str, **env: str) -> tuple[int, list[str]]:
    environ = {k: v for k, v in os.environ.items()
               if k not in ("DISCORD_TOKEN", "MOVIEBOT_CONFIG", "MOVIEBOT_CLUSTER_ID",
                            "MOVIEBOT_DATABASE", "MOVIEBOT_REDIS_URL")}
    environ.update(PYTHONPATH=str(REPO), **env)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), *args,
        cwd=config.parent, env=environ, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode().strip().splitlines()


@pytest.mark.slow
async def test_each_cluster_keeps_its_own_health(tmp_path, redis_db, monkeypatch):
    monkeypatch.setattr("bot.health.HEARTBEAT_EVERY", 0.05)
    database = tmp_path / "bot.sqlite3"
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\ndatabase = "{database}"\n[redis]\nurl = "{redis_db}"\n'
                      "[sharding]\nshard_count = 4\nclusters = 2\n", encoding="utf-8")
    config.chmod(0o600)
    async with DiscordEmulator() as emu:
        emu.configure_sharding(4, max_concurrency=1, identify_window=WINDOW)
        emu.create_sharded_guilds(4, 4)
        emu.point_discord_py_here()
        bots = [create_bot(cluster_settings(database, redis_db, k), guild_ready_timeout=0.05)
                for k in (0, 1)]
        tasks = [asyncio.create_task(b.start("token")) for b in bots]
        try:
            for k in (0, 1):
                await emu.wait_until(lambda k=k: check(database, cluster_id=k).ok or None, 20,
                                     f"cluster {k}'s heartbeat")
            assert status_path(database, 0) != status_path(database, 1)
            code, lines = await health(config)
            assert code == 0 and len(lines) == 2, lines
            assert lines[0].startswith("cluster 0 healthy: gateway heartbeat")
            assert lines[1].startswith("cluster 1 healthy: gateway heartbeat")
            code, lines = await health(config, "--cluster", "1")
            assert code == 0 and len(lines) == 1 and lines[0].startswith("cluster 1 healthy")
            code, lines = await cli(config, "stats")  # `stats` sees both clusters too
            assert code == 0 and "Bot:      2 of 2 clusters running and connected" in lines

            await bots[1].close()  # cluster 1 stops; cluster 0 runs on
            assert not status_path(database, 1).exists()
            written = status_path(database, 0).stat().st_mtime_ns
            await emu.wait_until(  # cluster 0 rewrote its status after cluster 1 stopped
                lambda: status_path(database, 0).stat().st_mtime_ns != written or None, 10,
                "a new status write of cluster 0")
            assert check(database, cluster_id=0).ok
            code, lines = await health(config, "--cluster", "0")
            assert code == 0 and lines[0].startswith("cluster 0 healthy"), lines
            code, lines = await health(config, MOVIEBOT_CLUSTER_ID="0")  # its container
            assert code == 0 and len(lines) == 1 and lines[0].startswith("cluster 0 healthy")
            code, lines = await health(config, MOVIEBOT_CLUSTER_ID="1")
            assert code == 1 and "cluster 1 unhealthy: no status file" in lines[0], lines
            code, lines = await health(config)  # every cluster: one is down
            assert code == 1 and lines[0].startswith("cluster 0 healthy"), lines
            assert lines[1].startswith("cluster 1 unhealthy: no status file"), lines
        finally:
            for b in bots:
                with contextlib.suppress(Exception):
                    await b.close()
            await asyncio.wait(tasks, timeout=10)
