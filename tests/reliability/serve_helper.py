"""Subprocess side of the SIGTERM test: the real `python -m bot run` code path (`_run`, with
its signal handlers) against an in-process Discord emulator.

    python serve_helper.py DB TOKEN

Prints "ready" once the bot is connected; each "rate MOVIE SCORE" line on stdin sends that /rate
as member "alice" and prints "reply: <text>"; prints "exit N" when `_run` returns N.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.__main__ import _run, setup_logging
from bot.config import Settings, TrainingSettings
from emulator import DiscordEmulator


async def drive(emu, bot_ready, alice, channel) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    await bot_ready()
    print("ready", flush=True)
    while line := (await reader.readline()).decode():
        parts = line.split()
        if parts[:1] == ["rate"]:
            inter = await emu.slash(alice, channel, "rate", movie=parts[1], score=int(parts[2]))
            reply = await inter.response(20)
            print(f"reply: {reply.rendered_text()}", flush=True)


async def main(database: str, token: str) -> int:
    async with DiscordEmulator() as emu:
        emu.point_discord_py_here()
        guild = emu.world.create_guild("Film Club", owner="owner", channels=("general",))
        alice = guild.add_member("alice")
        settings = Settings(token=token, database=Path(database), dev_guild_id=guild.id,
                            training=TrainingSettings(debounce_seconds=0.0))
        setup_logging(settings)

        async def ready() -> None:
            while True:
                try:
                    emu.find_command("rate", guild)
                except LookupError:
                    pass
                else:
                    if emu.gateway.connected_sessions:
                        return
                await asyncio.sleep(0.05)

        driver = asyncio.create_task(drive(emu, ready, alice, guild.channel("general")))
        code = await _run(argparse.Namespace(), settings)
        driver.cancel()
        print(f"exit {code}", flush=True)
        return code


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2])))
