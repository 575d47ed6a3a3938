"""What the person running the bot sees about its servers (issue 21, item 10): a log line when
the bot joins or leaves one (name sanitised, id, member count), and the guild count and the
gateway connection on the metrics page."""

from __future__ import annotations

import asyncio
import logging
import re
import time

import aiohttp
from prometheus_client import generate_latest

from bot import create_bot
from bot.config import MetricsSettings, Settings
from emulator import DiscordEmulator, running_bot

# A name that tries to forge a second log line and reverse the text after it.
HOSTILE = "Night\nERROR bot: fake line \u202eevil"


def _counted(bot) -> asyncio.Event:
    """An event set each time the bot has recounted its servers (after a join or a leave)."""
    event = asyncio.Event()
    recount = bot._count_guilds

    def count_and_tell() -> None:
        recount()
        event.set()

    bot._count_guilds = count_and_tell
    return event


async def _scrape(port: int) -> str:
    async with aiohttp.ClientSession() as session, \
            session.get(f"http://127.0.0.1:{port}/metrics") as response:
        return await response.text()


def _value(text: str, sample: str) -> float:
    match = re.search(rf"^{re.escape(sample)} (\S+)$", text, re.MULTILINE)
    assert match, f"{sample} not on the metrics page"
    return float(match.group(1))


async def test_joins_and_leaves_are_logged_and_counted(tmp_path, caplog) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    async with DiscordEmulator() as emu:
        first = emu.world.create_guild("Film Club", owner="owner", channels=("general",))
        first.add_member("alice")
        settings = Settings(database=tmp_path / "bot.sqlite3",
                            metrics=MetricsSettings(enabled=True, host="127.0.0.1", port=0))
        bot = create_bot(settings, guild_ready_timeout=0.1)
        async with running_bot(bot, emu):
            port = bot.metrics.port
            counted = _counted(bot)
            text = await _scrape(port)
            assert _value(text, "moviebot_guilds") == 1
            assert _value(text, 'moviebot_gateway_connected{shard="0"}') == 1
            assert _value(text, 'moviebot_gateway_connects_total{shard="0"}') >= 1

            second = await emu.add_guild(HOSTILE, owner="owner2", channels=("general",))
            for name in ("bob", "carol"):
                second.add_member(name)
            await asyncio.wait_for(counted.wait(), 10)
            counted.clear()
            assert _value(await _scrape(port), "moviebot_guilds") == 2

            await emu.remove_guild(first)
            await asyncio.wait_for(counted.wait(), 10)
            assert _value(await _scrape(port), "moviebot_guilds") == 1
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.client"]
    joined = [line for line in lines if line.startswith("joined server")]
    left = [line for line in lines if line.startswith("left server")]
    # The emulator counts the owner and the bot as members.
    assert joined == [f"joined server Night ERROR bot: fake line evil (id {second.id}, "
                      "2 members); now in 2 servers"], lines
    assert left == [f"left server Film Club (id {first.id}, 3 members); now in 1 server"]


async def _stored_names(bot) -> dict[int, str | None]:
    return {g.guild_id: g.name for g in (await bot.storage.summary()).busiest}


async def _wait_for_name(bot, guild_id: int) -> None:
    deadline = time.monotonic() + 10
    while True:
        if (await _stored_names(bot)).get(guild_id):
            return
        assert time.monotonic() < deadline, f"the name of {guild_id} was never stored"
        await asyncio.sleep(0.02)


async def test_stats_names_the_servers(tmp_path) -> None:
    from bot.stats import stats_text

    database = tmp_path / "bot.sqlite3"
    async with DiscordEmulator() as emu:
        first = emu.world.create_guild("Film Club", owner="owner", channels=("general",))
        alice = first.add_member("alice")
        bot = create_bot(Settings(database=database), guild_ready_timeout=0.1)
        async with running_bot(bot, emu):
            movie = await bot.storage.resolve_movie(first.id, "Alien")
            await bot.storage.upsert_rating(first.id, alice.id, movie.id, 9)
            await _wait_for_name(bot, first.id)  # from the start-up reconcile

            second = await emu.add_guild(HOSTILE, owner="owner2", channels=("general",))
            await bot.storage.upsert_rating(second.id, alice.id, movie.id, 7)
            await bot.storage.upsert_rating(second.id, alice.id + 1, movie.id, 8)
            await _wait_for_name(bot, second.id)  # from the join
            text = await stats_text(database)
    assert f"  Night ERROR bot: fake line evil ({second.id}): 2 ratings by 2 members" in text
    assert f"  Film Club ({first.id}): 1 rating by 1 member, last" in text


async def test_a_sharded_bot_reports_each_shards_connection_once() -> None:
    # discord.py tells a sharded client both `connect` and `shard_connect` for each shard: the
    # gauge follows the per-shard events only, so shard labels are right and nothing counts
    # twice.
    from bot.config import ShardingSettings
    from bot.metrics import Metrics

    settings = Settings(sharding=ShardingSettings(shard_count=3))
    bot = create_bot(settings)
    bot.metrics = metrics = Metrics()
    try:
        for shard in bot.cluster_shards:
            await bot.on_connect()
            await bot.on_shard_connect(shard)
        await bot.on_disconnect()
        await bot.on_shard_disconnect(2)
        down = generate_latest(metrics.registry).decode()
        await bot.on_resumed()
        await bot.on_shard_resumed(2)
        text = generate_latest(metrics.registry).decode()
    finally:
        bot.metrics = None  # never started: nothing to close
    assert bot.cluster_shards == [0, 1, 2]
    assert _value(down, 'moviebot_gateway_connected{shard="2"}') == 0
    assert _value(down, 'moviebot_gateway_connected{shard="0"}') == 1
    for shard in ("0", "1", "2"):
        assert _value(text, f'moviebot_gateway_connected{{shard="{shard}"}}') == 1
    assert _value(text, 'moviebot_gateway_connects_total{shard="0"}') == 1
    assert _value(text, 'moviebot_gateway_connects_total{shard="2"}') == 2
