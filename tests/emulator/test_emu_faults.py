"""Fault switches: rate limits, server errors, slow responses, dropped websockets."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import discord
from discord import app_commands

from emulator import DiscordEmulator, fast_retries


async def test_rate_limit_headers(emu: DiscordEmulator):
    emu.faults.rate_limit("GET /users/@me", retry_after=0.25, bucket="abc123", scope="shared")
    async with aiohttp.ClientSession() as s:
        async with s.get(emu.api_base + "/users/@me") as resp:
            assert resp.status == 429
            assert resp.headers["Content-Type"] == "application/json"
            assert resp.headers["Via"]
            assert resp.headers["X-RateLimit-Bucket"] == "abc123"
            assert resp.headers["X-RateLimit-Scope"] == "shared"
            assert resp.headers["X-RateLimit-Remaining"] == "0"
            assert float(resp.headers["X-RateLimit-Reset-After"]) == 0.25
            body = await resp.json()
            assert body["retry_after"] == 0.25 and body["global"] is False
        async with s.get(emu.api_base + "/users/@me") as resp:
            assert resp.status == 200  # count=1: only the first request is limited


async def test_429_is_retried_and_command_still_answers(emu, scene, bot):
    fault = emu.faults.rate_limit("POST /interactions/*/callback", retry_after=0.1)
    t0 = time.monotonic()
    inter = await emu.slash(scene.alice, scene.general, "rate", movie="Heat", score=9)
    reply = await inter.response()
    assert time.monotonic() - t0 >= 0.1
    assert reply.content.endswith("rated **Heat** 9/10")
    statuses = [r.status for r in emu.requests_matching("POST /interactions/*/callback")]
    assert statuses == [429, 200]
    assert fault.hits == 1


async def test_single_500_is_retried(emu, scene, bot):
    emu.faults.error("POST /interactions/*/callback", 500)
    with fast_retries():
        reply = await (await emu.slash(scene.alice, scene.general, "perms")).response()
    assert reply.content.startswith("manage_guild=False")
    statuses = [r.status for r in emu.requests_matching("POST /interactions/*/callback")]
    assert statuses == [500, 200]


async def test_persistent_500_surfaces_to_the_bot(emu, scene, bot):
    emu.faults.error("POST /interactions/*/callback", 500, count=None)
    with fast_retries():
        inter = await emu.slash(scene.alice, scene.general, "perms")
        await emu.wait_until(lambda: bot.seen["errors"], what="the tree error handler")
    (err,) = bot.seen["errors"]
    assert isinstance(err, app_commands.CommandInvokeError)
    assert isinstance(err.original, discord.DiscordServerError)
    assert not inter.responded
    assert len(emu.requests_matching("POST /interactions/*/callback")) == 5  # discord.py tries 5x


async def test_403_surfaces_immediately(emu, scene, bot):
    emu.faults.error("POST /channels/*/messages", 403)
    inter = await emu.slash(scene.alice, scene.general, "announce", text="hi")
    await inter.response()
    await emu.wait_until(lambda: bot.seen["errors"], what="the tree error handler")
    assert isinstance(bot.seen["errors"][0].original, discord.Forbidden)


async def test_slow_responses(emu, scene, bot):
    emu.faults.delay("POST /interactions/*/callback", 0.3)
    t0 = time.monotonic()
    await (await emu.slash(scene.alice, scene.general, "perms")).response()
    assert time.monotonic() - t0 >= 0.3


async def test_dropped_websocket_resumes(emu, scene, bot):
    await emu.drop_websocket()
    assert len(emu.gateway.resumes) == 1
    await emu.wait_until(lambda: bot.seen["resumed"] == 1, what="on_resumed")
    assert len(emu.gateway.identifies) == 1  # resumed, not re-identified
    reply = await (await emu.slash(scene.alice, scene.general, "perms")).response()
    assert reply.content.startswith("manage_guild=False")


async def test_events_sent_while_disconnected_are_replayed_on_resume(emu, scene, bot):
    before = emu.gateway.connect_count
    await emu.gateway.drop(abrupt=True)
    inter = await emu.slash(scene.alice, scene.general, "perms")  # buffered in the session
    await emu.gateway.wait_connected(after=before)
    reply = await inter.response()
    assert reply.content.startswith("manage_guild=False")
    assert emu.gateway.resumes


async def test_refused_resume_reidentifies(emu, scene, bot):
    emu.faults.refuse_next_resume = True
    await emu.drop_websocket()
    assert len(emu.gateway.identifies) == 2
    await emu.wait_until(lambda: bot.seen["ready"] == 2, what="second on_ready")
    reply = await (await emu.slash(scene.mod, scene.general, "perms")).response()
    assert reply.content.startswith("manage_guild=True")


async def test_reconnect_opcode(emu, scene, bot):
    before = emu.gateway.connect_count
    await emu.gateway.send_reconnect()
    await emu.gateway.wait_connected(after=before)
    await asyncio.sleep(0)
    assert emu.gateway.resumes
    assert (await (await emu.slash(scene.alice, scene.general, "perms")).response()).content
