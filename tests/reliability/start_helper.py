"""Subprocess side of the start-up tests: the real `python -m bot --config CONFIG run` (main(),
its exit codes and signal handlers) against a Discord that is unreachable or misbehaves.

    python start_helper.py MODE CONFIG

MODE: `closed` (nothing listens where Discord should be: connection refused; `sync-closed`
runs `sync` instead of `run` against it), `offline` (the same as `closed`, with the bot's own
backoff between attempts: 1 s, 2 s, ...), `flaky` (the emulator answers the first login
attempts with HTTP 502, then works), `bad-token` (the emulator expects another token),
`intents` (the emulator's gateway closes with 4014, disallowed intents), `hanging` (the login
request never gets an answer). The emulator runs on a thread of its own, so the bot's event
loop and signal handlers are exactly those of `main()`; except `offline`, retries wait a few
hundredths of a second.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import threading

import bot.lifecycle
from bot.__main__ import main
from emulator import DiscordEmulator, fast_retries

FAILED_LOGIN_REQUESTS = 10  # discord.py tries a 5xx request 5 times: two failed attempts


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again on exit: connections are refused


def start_emulator(mode: str) -> DiscordEmulator:
    started = threading.Event()
    holder: dict[str, DiscordEmulator] = {}

    async def serve() -> None:
        emu = DiscordEmulator(token="the-right-token" if mode == "bad-token" else None)
        await emu.start()
        guild = emu.world.create_guild("Film Club", owner="owner", channels=("general",))
        guild.add_member("alice")
        if mode == "hanging":  # a login request that never gets an answer
            emu.faults.delay("GET /users/@me", 3600)
        if mode == "flaky":
            emu.faults.error("GET /users/@me", 502, count=FAILED_LOGIN_REQUESTS)
        if mode == "intents":
            async def refuse(conn, data) -> None:
                await conn.ws.close(code=4014, message=b"Disallowed intent(s).")

            emu.gateway._identify = refuse
        holder["emu"] = emu
        started.set()
        await asyncio.Event().wait()  # until the process ends

    threading.Thread(target=lambda: asyncio.run(serve()), daemon=True).start()
    started.wait(10)
    return holder["emu"]


def run(mode: str, config: str) -> int:
    command = "run"
    if mode == "sync-closed":  # `python -m bot sync` with Discord unreachable
        command, mode = "sync", "closed"
    if mode != "offline":  # `offline`: a closed port, with the bot's own backoff (1 s, 2 s...)
        bot.lifecycle.BACKOFF_BASE = 0.05
        bot.lifecycle.BACKOFF_CAP = 0.4
    if mode in ("closed", "offline"):
        import discord.http

        discord.http.Route.BASE = f"http://127.0.0.1:{closed_port()}/api/v10"
    else:
        start_emulator(mode).point_discord_py_here()
    with fast_retries():
        return main([command, "--config", config])  # --config after the command, as typed


if __name__ == "__main__":
    sys.exit(run(sys.argv[1], sys.argv[2]))
