"""Sharding in the emulator: /gateway/bot, guilds and events routed by shard, Discord's answers
to a bad shard, a missing shard and IDENTIFYs over the rate limit."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import discord
import pytest
from discord.ext import commands

from emulator import DiscordEmulator, running_bot
from emulator.payloads import client_user_payload


async def _raw_identify(emu: DiscordEmulator, shard: list[int] | None,
                        ) -> tuple[dict[str, Any] | None, int | None]:
    """IDENTIFY on a bare websocket: (first payload after HELLO or None, close code)."""
    async with aiohttp.ClientSession() as http, http.ws_connect(emu.gateway_url) as ws:
        hello = json.loads((await ws.receive(timeout=5)).data)
        assert hello["op"] == 10
        data: dict[str, Any] = {"token": "t", "intents": 1, "properties": {}}
        if shard is not None:
            data["shard"] = shard
        await ws.send_str(json.dumps({"op": 2, "d": data}))
        msg = await ws.receive(timeout=5)
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING,
                        aiohttp.WSMsgType.CLOSED):
            return None, ws.close_code
        return json.loads(msg.data), None


async def test_gateway_bot_reports_configured_shards_and_concurrency(emu: DiscordEmulator):
    emu.configure_sharding(6, max_concurrency=2)
    async with aiohttp.ClientSession() as http, http.get(emu.api_base + "/gateway/bot") as r:
        body = await r.json()
    assert body["shards"] == 6
    assert body["session_start_limit"]["max_concurrency"] == 2
    assert body["url"] == emu.gateway_url


async def test_sharded_guild_ids_follow_discords_formula(emu: DiscordEmulator):
    guilds = emu.create_sharded_guilds(12, 4)
    assert [(g.id >> 22) % 4 for g in guilds] == [i % 4 for i in range(12)]
    assert len({g.id for g in guilds}) == 12
    later = emu.world.create_guild("plain")  # ids stay unique and increasing afterwards
    assert later.id > max(g.id for g in guilds)


async def test_each_shard_gets_its_guilds_and_events(emu: DiscordEmulator):
    emu.configure_sharding(3, max_concurrency=3)
    guilds = emu.create_sharded_guilds(6, 3)
    intents = discord.Intents.none()
    intents.guilds = True
    bot = commands.AutoShardedBot(command_prefix="!", intents=intents, guild_ready_timeout=0.1)
    async with running_bot(bot, emu):
        assert bot.shard_count == 3  # asked /gateway/bot
        by_shard = emu.sessions_by_shard()
        assert sorted(by_shard) == [0, 1, 2]
        for shard_id, sessions in by_shard.items():
            (session,) = sessions
            ready = next(p for p in session.log if p["t"] == "READY")
            assert {int(g["id"]) for g in ready["d"]["guilds"]} == {
                g.id for g in guilds if (g.id >> 22) % 3 == shard_id}
        assert {g.id for g in bot.guilds} == {g.id for g in guilds}
        assert all(bot.get_guild(g.id).shard_id == (g.id >> 22) % 3 for g in guilds)

        # A guild's event reaches only its shard; an event without a guild only shard 0.
        target = guilds[4]  # shard 1
        before = {s.shard[0]: len(s.log) for s in emu.gateway.live_sessions}
        joined = await emu.add_guild("Late Guild", shard=(2, 3))
        assert await emu.gateway.dispatch("GUILD_UPDATE", {"id": str(target.id)},
                                          guild_id=target.id) == 1
        me = client_user_payload(emu.world.bot_user)
        assert await emu.gateway.dispatch("USER_UPDATE", me) == 1
        grown = {s.shard[0]: [p["t"] for p in s.log[before[s.shard[0]]:]]
                 for s in emu.gateway.live_sessions}
        assert grown == {0: ["USER_UPDATE"], 1: ["GUILD_UPDATE"], 2: ["GUILD_CREATE"]}
        await emu.wait_until(lambda: bot.get_guild(joined.id), what="the new guild")
        assert bot.get_guild(joined.id).shard_id == 2


async def test_invalid_shard_is_closed_with_4010(emu: DiscordEmulator):
    assert await _raw_identify(emu, [2, 2]) == (None, 4010)
    assert await _raw_identify(emu, [0, 0]) == (None, 4010)
    assert [r[2] for r in emu.gateway.identify_refusals] == ["invalid shard"] * 2


async def test_too_many_guilds_on_a_shard_is_closed_with_4011(emu: DiscordEmulator):
    emu.configure_sharding(2, max_guilds_per_shard=2, enforce_identify_rate=False)
    emu.create_sharded_guilds(4, 2)
    assert await _raw_identify(emu, None) == (None, 4011)  # 4 guilds on one connection
    ready, code = await _raw_identify(emu, [1, 2])  # 2 guilds on shard 1 of 2: fine
    assert code is None and ready is not None and ready["t"] == "READY"


async def test_discord_py_without_shards_stops_on_sharding_required(emu: DiscordEmulator):
    emu.configure_sharding(2, max_guilds_per_shard=1, enforce_identify_rate=False)
    emu.create_sharded_guilds(2, 2)
    bot = commands.Bot(command_prefix="!", intents=discord.Intents.none())
    with pytest.raises(RuntimeError) as failed:
        async with running_bot(bot, emu, ready_timeout=5):
            pass
    assert "4011" in str(failed.value)


async def test_identify_rate_is_per_bucket_and_window(emu: DiscordEmulator):
    emu.configure_sharding(4, max_concurrency=2, identify_window=0.4)
    first, _ = await _raw_identify(emu, [0, 4])
    other_bucket, _ = await _raw_identify(emu, [1, 4])  # bucket 1: its own window
    same_bucket, _ = await _raw_identify(emu, [2, 4])  # bucket 0 again within 0.4 s
    assert first["t"] == "READY" and other_bucket["t"] == "READY"
    assert same_bucket == {"op": 9, "d": False}
    assert [(r[1], r[2]) for r in emu.gateway.identify_refusals] == [(2, "rate")]
    await asyncio.sleep(0.45)
    later, _ = await _raw_identify(emu, [2, 4])
    assert later["t"] == "READY"
    assert [shard for _t, shard, _n in emu.gateway.identify_log] == [0, 1, 2]
    assert emu.gateway.gateway_bot()["session_start_limit"]["remaining"] == 997


async def test_refused_identify_is_retried_by_discord_py(emu: DiscordEmulator):
    """Two shards of one bucket identifying at once: the second gets op 9, waits in its
    before_identify_hook and identifies again; both end up connected."""
    emu.configure_sharding(2, max_concurrency=1, identify_window=0.3)
    emu.create_sharded_guilds(2, 2)
    bot = commands.AutoShardedBot(command_prefix="!", intents=discord.Intents.none(),
                                  guild_ready_timeout=0.1)
    waits: list[tuple[int | None, bool]] = []

    async def hook(shard_id: int | None, *, initial: bool = False) -> None:
        waits.append((shard_id, initial))
        if len(waits) > 2:  # the retry after op 9: wait out the window
            await asyncio.sleep(0.35)

    bot.before_identify_hook = hook  # type: ignore[method-assign]
    async with running_bot(bot, emu, skip_identify_delay=False):
        assert sorted(emu.sessions_by_shard()) == [0, 1]
        assert len(bot.guilds) == 2
    assert [(r[1], r[2]) for r in emu.gateway.identify_refusals] == [(1, "rate")]
    assert waits[-1] == (1, False)
