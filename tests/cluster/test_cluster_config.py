"""Cluster settings and the choice of bot class: [sharding], [redis], their environment
overrides, the contiguous shard slices and the set-ups refused with one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from discord.ext import commands

from bot import create_bot
from bot.client import MovieBot
from bot.cluster import ShardedMovieBot, check_sharding, shard_of, shard_slice
from bot.config import ConfigError, default_settings, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ("MOVIEBOT_CLUSTER_ID", "MOVIEBOT_REDIS_URL", "MOVIEBOT_DATABASE",
                 "DISCORD_TOKEN"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("shards,clusters", [(1, 1), (2, 2), (4, 2), (5, 2), (7, 3), (16, 5)])
def test_slices_are_contiguous_and_cover_every_shard_once(shards, clusters):
    slices = [shard_slice(shards, clusters, k) for k in range(clusters)]
    assert [s for part in slices for s in part] == list(range(shards))
    assert max(map(len, slices)) - min(map(len, slices)) <= 1
    assert all(part for part in slices)


def test_four_shards_over_two_clusters():
    assert shard_slice(4, 2, 0) == [0, 1] and shard_slice(4, 2, 1) == [2, 3]
    assert shard_slice(5, 2, 0) == [0, 1, 2] and shard_slice(5, 2, 1) == [3, 4]
    assert shard_of((1234 << 22) | 77, 4) == 1234 % 4


def test_settings_from_file_and_environment(tmp_path, monkeypatch):
    path = write(tmp_path, """
[sharding]
shard_count = 4
clusters = 2
cluster_id = 1
identify_seconds = 0.5

[redis]
url = "redis://127.0.0.1:6379/0"

[training]
mode = "queue"
""")
    settings = load_settings(path)
    assert (settings.sharding.shard_count, settings.sharding.clusters,
            settings.sharding.cluster_id) == (4, 2, 1)
    assert settings.sharding.identify_seconds == 0.5
    assert settings.redis.url == "redis://127.0.0.1:6379/0"
    assert settings.training.mode == "queue"
    monkeypatch.setenv("MOVIEBOT_CLUSTER_ID", "0")
    monkeypatch.setenv("MOVIEBOT_REDIS_URL", "redis://10.0.0.5:6380/2")
    settings = load_settings(path)
    assert settings.sharding.cluster_id == 0
    assert settings.redis.url == "redis://10.0.0.5:6380/2"
    monkeypatch.setenv("MOVIEBOT_CLUSTER_ID", "one")
    with pytest.raises(ConfigError, match="MOVIEBOT_CLUSTER_ID"):
        load_settings(path)


@pytest.mark.parametrize("text,key", [
    ("[redis]\nurl = 'http://x'\n", "redis.url"),
    ("[redis]\nhost = 'x'\n", "redis.host"),
    ("[sharding]\nshard_count = -1\n", "sharding.shard_count"),
    ("[sharding]\nspare = 1\n", "sharding.spare"),
    ("[training]\nmode = 'celery'\n", "training.mode"),
])
def test_bad_values_name_the_key(tmp_path, text, key):
    with pytest.raises(ConfigError, match=f"'{key}'"):
        load_settings(write(tmp_path, text))


@pytest.mark.parametrize("sharding,redis,message", [
    ({"shard_count": 2, "clusters": 3}, "", "must not exceed"),
    ({"shard_count": 4, "clusters": 2, "cluster_id": 2}, "redis://h", "cluster_id"),
    ({"shard_count": 4, "clusters": 2}, "", "needs Redis"),
    ({"shard_count": 0, "clusters": 2}, "redis://h", "needs shard_count"),
])
def test_impossible_set_ups_are_refused(sharding, redis, message):
    from dataclasses import replace

    from bot.config import RedisSettings, ShardingSettings

    settings = replace(default_settings(), sharding=ShardingSettings(**sharding),
                       redis=RedisSettings(url=redis))
    with pytest.raises(ConfigError, match=message):
        check_sharding(settings)


def test_create_bot_stays_single_process_by_default_and_unstarted():
    bot = create_bot(default_settings())
    assert type(bot) is MovieBot and not isinstance(bot, commands.AutoShardedBot)
    assert bot.services is None


def test_create_bot_picks_the_clusters_slice_when_sharded():
    from dataclasses import replace

    from bot.config import ShardingSettings

    settings = replace(default_settings(), dev_guild_id=42,
                       sharding=ShardingSettings(shard_count=6, clusters=3, cluster_id=1))
    settings = replace(settings, redis=replace(settings.redis, url="redis://127.0.0.1:1/0"))
    bot = create_bot(settings)
    assert isinstance(bot, ShardedMovieBot) and isinstance(bot, commands.AutoShardedBot)
    assert bot.shard_ids == [2, 3] and bot.shard_count == 6
    assert bot.services is None  # unstarted: nothing opened, no network
    assert bot.settings.dev_guild_id is None  # command sync: cluster 0 only
    assert bot.owns_guild((2 << 22) | 5) and not bot.owns_guild((4 << 22) | 5)
    cluster0 = create_bot(replace(settings, sharding=ShardingSettings(6, 3, 0)))
    assert cluster0.settings.dev_guild_id == 42 and cluster0.shard_ids == [0, 1]


def test_clusters_on_one_host_serve_metrics_on_their_own_ports():
    from dataclasses import replace

    from bot.config import MetricsSettings, RedisSettings, ShardingSettings

    base = replace(default_settings(), redis=RedisSettings("redis://127.0.0.1:1/0"),
                   metrics=MetricsSettings(enabled=True, port=9108))
    ports = [create_bot(replace(base, sharding=ShardingSettings(4, 2, k))).settings.metrics.port
             for k in (0, 1)]
    assert ports == [9108, 9109]


def test_cluster_compose_matches_the_example_config(monkeypatch):
    """docker-compose.cluster.yml has one cluster-N service per cluster of
    config.cluster.example.toml, each with its MOVIEBOT_CLUSTER_ID, plus workers; the example
    config loads and asks for queued training."""
    import re

    repo = Path(__file__).resolve().parents[2]
    settings = load_settings(repo / "config.cluster.example.toml")
    assert settings.training.mode == "queue" and settings.sharding.shard_count >= 2
    check_sharding(dataclasses_replace_redis(settings))
    compose = (repo / "docker-compose.cluster.yml").read_text()
    services = re.findall(r"^  (cluster-(\d+)):\n(?:    .*\n|\n)*?      MOVIEBOT_CLUSTER_ID: "
                          r'"(\d+)"', compose, flags=re.M)
    assert [(int(n), int(cid)) for _name, n, cid in services] == [
        (k, k) for k in range(settings.sharding.clusters)]
    for name in ("postgres:", "redis:", "worker:", "sync:"):
        assert f"\n  {name}" in compose
    assert 'command: ["worker"' in compose  # the image's ENTRYPOINT is python -m bot


def dataclasses_replace_redis(settings):
    from dataclasses import replace

    return replace(settings, redis=replace(settings.redis, url="redis://redis:6379/0"))
