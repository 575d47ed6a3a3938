"""`python -m bot console`: the subcommand's arguments and the session's run loop.

`register` adds the `console` subcommand to the bot's command line; `run_console` starts the
emulator, the demo server and the real bot logged into it, then runs the prompt loop until the
input ends or the person quits (exit code 0). The emulator is imported only when the console
runs: the bot's own command line imports `register`, and running the bot never loads it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import logging
import signal
import sys
import tempfile
import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .examples import EXAMPLES

if TYPE_CHECKING:
    from bot.config import Settings

    from .reader import LineReader
    from .session import Console


async def run_console(args: argparse.Namespace, settings: Settings) -> int:
    from bot import create_bot
    from emulator import DiscordEmulator, quiet_discord_logging, running_bot

    from .demo import DEMO_GUILD, DEMO_MEMBERS, create_demo_server, prepare_demo_database
    from .reader import LineReader, setup_readline, terminal_restored
    from .session import Console

    quiet_discord_logging(logging.ERROR)
    logging.getLogger().setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    interactive = args.script is None and sys.stdin.isatty()
    with tempfile.TemporaryDirectory(prefix="moviebot-console-") as tmp:
        database = Path(args.database) if args.database else Path(tmp) / "console.sqlite3"
        async with DiscordEmulator() as emu:
            server = create_demo_server(emu)
            own, ignored = demo_settings(settings, database)
            console_settings = replace(
                own, token="console", dev_guild_id=server.guild.id,
                limits=replace(settings.limits, recommend_cooldown_seconds=args.cooldown))
            await prepare_demo_database(database, server)
            bot = create_bot(console_settings, guild_ready_timeout=0.1)
            async with running_bot(bot, emu, token="console"):
                if args.script:
                    text = await asyncio.to_thread(Path(args.script).read_text, "utf-8")
                    source: Any = io.StringIO(text)
                else:
                    source = sys.stdin
                reader = LineReader(source, interactive)
                console = Console(emu, server.guild, server.channel, server.guild.owner,
                                  reader=reader)
                if interactive:
                    setup_readline(console.completions())
                console.print(f"Movie bot console: you are 'you' in the server '{DEMO_GUILD}' "
                              f"with {', '.join(DEMO_MEMBERS)}. Type 'help' for examples.")
                if ignored:
                    console.print("Note: the console uses its own demo database and runs in "
                                  "this one process; from your configuration it does not use "
                                  f"{', '.join(ignored)}.")
                with terminal_restored() if interactive else contextlib.nullcontext():
                    await prompt_loop(console, reader)
    return 0


def demo_settings(settings: Settings, database: Path) -> tuple[Settings, list[str]]:
    """The settings the console's bot runs with, and the configured parts it leaves out.

    Whatever the configuration says, the console runs on its own SQLite demo `database` (never
    the PostgreSQL database of `[storage] url`: the demo server would be empty there, and the
    demo members' ratings would land in the real data), in one process (no sharding, no Redis
    queue of fits) and serves no metrics (the port may be the running bot's)."""
    from bot.config import MetricsSettings, RedisSettings, ShardingSettings

    ignored = [name for name, used in (
        ("[storage] url", bool(settings.database_url)),
        ("[sharding]", bool(settings.sharding.shard_count)),
        ("[redis] url", bool(settings.redis.url)),
        ('training.mode "queue"', settings.training.mode == "queue"),
        ("[metrics]", settings.metrics.enabled)) if used]
    mode = "auto" if settings.training.mode == "queue" else settings.training.mode
    return replace(
        settings, database=database, database_url="", sharding=ShardingSettings(),
        redis=RedisSettings(), metrics=MetricsSettings(),
        training=replace(settings.training, debounce_seconds=1.0, mode=mode)), ignored


async def prompt_loop(console: Console, reader: LineReader) -> None:
    """Read and run lines until the input ends or the person quits. Ctrl-C cancels the
    command being waited for, or at the prompt ends the session."""
    loop = asyncio.get_running_loop()
    running: asyncio.Task[bool] | None = None

    def on_interrupt() -> None:
        if running is not None and not running.done():
            running.cancel()
        elif not reader.interrupt():
            raise KeyboardInterrupt

    handled_sigint = False
    if console.interactive and threading.current_thread() is threading.main_thread():
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, on_interrupt)
            handled_sigint = True
    try:
        while True:
            line = await reader.read(console.prompt())
            if line is None:
                if console.interactive:
                    console.print()
                break
            if not console.interactive:
                console.print(f"{console.prompt()}{line.strip()}")
            running = asyncio.create_task(console.handle(line))
            try:
                keep_going = await running
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise
                console.print("(cancelled)")
                keep_going = True
            finally:
                running = None
            if not keep_going:
                break
    finally:
        if handled_sigint:
            loop.remove_signal_handler(signal.SIGINT)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `console` to the bot's command line (`python -m bot console --help`)."""
    parser = subparsers.add_parser(
        "console", help="try the bot without Discord (local emulator, demo server)",
        description=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--script", help="read commands from this file instead of stdin")
    parser.add_argument("--database", help="keep the demo database here (default: temporary)")
    parser.add_argument("--verbose", action="store_true", help="show the bot's log lines")
    parser.add_argument("--cooldown", type=float, default=0.0, metavar="SECONDS",
                        help="seconds between two /recommend of one member (default: 0, off; "
                             "the real bot uses [limits] recommend_cooldown_seconds)")
    parser.set_defaults(func=run_console)
