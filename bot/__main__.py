"""Command line: `python -m bot [--config PATH] [run|sync|catalog|prior|console|backup|purge]`.

Every failure a person can fix (missing token, bad config, a newer database) ends with one line
on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from bot.config import ConfigError, Settings, default_settings, load_settings, permission_warnings

CONFIG_ENV = "MOVIEBOT_CONFIG"
DEFAULT_CONFIG = "config.toml"
NO_TOKEN = (
    "No Discord bot token: set the DISCORD_TOKEN environment variable or [discord] token in "
    "your config file (the README's 'Create the Discord application' says where to get one)."
)

log = logging.getLogger("bot")


class RedactToken(logging.Filter):
    """Replaces the token wherever it would appear in a log line."""

    def __init__(self, token: str | None) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if self.token:
            message = record.getMessage()
            if self.token in message:
                record.msg = message.replace(self.token, "[token]")
                record.args = None
            # A traceback (exc_info) or stack can carry the token too (an error message or a
            # request URL): format it here, redacted; the formatter then uses exc_text as is.
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text and self.token in record.exc_text:
                record.exc_text = record.exc_text.replace(self.token, "[token]")
            if record.stack_info and self.token in record.stack_info:
                record.stack_info = record.stack_info.replace(self.token, "[token]")
        return True


def setup_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactToken(settings.token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    logging.getLogger("discord").setLevel(max(logging.INFO, root.level))


def _settings_for(args: argparse.Namespace) -> Settings:
    if args.config is None and not Path(DEFAULT_CONFIG).exists():
        return default_settings()
    return load_settings(args.config or DEFAULT_CONFIG)


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.client import create_bot

    if not settings.token:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    from bot.lifecycle import serve

    return await serve(create_bot(settings), settings.token)


async def _sync(args: argparse.Namespace, settings: Settings) -> int:
    import discord

    from bot.client import create_bot

    if not settings.token:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    bot = create_bot(settings)
    async with bot:
        await bot.login(settings.token)
        if args.guild:
            guild = discord.Object(id=args.guild)
            bot.tree.copy_global_to(guild=guild)
            synced = await bot.tree.sync(guild=guild)
            print(f"Synced {len(synced)} commands to guild {args.guild} (visible at once).")
        else:
            synced = await bot.tree.sync()
            print(f"Synced {len(synced)} commands globally (Discord may take a few minutes "
                  "to show changes).")
    return 0


async def _backup(args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage import Storage

    storage = await Storage.open(settings.database)
    try:
        await storage.backup(Path(args.path))
    finally:
        await storage.close()
    print(f"Backed up {settings.database} to {args.path}")
    return 0


async def _purge(args: argparse.Namespace, settings: Settings) -> int:
    from bot.privacy import purge_departed_guilds
    from bot.storage import Storage

    storage = await Storage.open(settings.database)
    try:
        if args.guild:
            removed = await storage.purge_guild(args.guild)
            print(f"Purged guild {args.guild}: {removed} rows removed")
        else:
            grace = 0 if args.now else settings.privacy.purge_grace_days
            purged = await purge_departed_guilds(storage, grace_days=grace)
            print(f"Purged {len(purged)} departed guild(s)"
                  + (f": {', '.join(map(str, purged))}" if purged else ""))
    finally:
        await storage.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--config", default=os.environ.get(CONFIG_ENV),
        help=f"config file (default: ${CONFIG_ENV} or ./{DEFAULT_CONFIG}; "
             "built-in defaults plus environment when absent)")
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="connect to Discord and serve commands (default)")
    run.set_defaults(func=_run)
    sync = sub.add_parser("sync", help="register the slash commands with Discord")
    sync.add_argument("--guild", type=int, help="sync to this guild only (instant)")
    sync.set_defaults(func=_sync)
    backup = sub.add_parser("backup", help="online, consistent copy of the database")
    backup.add_argument("path", help="where to write the copy")
    backup.set_defaults(func=_backup)
    purge = sub.add_parser("purge", help="delete data of guilds the bot has left")
    purge.add_argument("--guild", type=int, help="purge this guild now, whatever its state")
    purge.add_argument("--now", action="store_true",
                       help="ignore the grace period for guilds the bot has left")
    purge.set_defaults(func=_purge)

    # The try-it console lives outside the runtime (top-level `console/`); importing its
    # `register` is cheap: it loads the local Discord it runs on only when a session starts.
    from bot.catalog.cli import register as register_catalog
    from bot.prior.cli import register as register_prior
    from console import register as register_console

    register_catalog(sub)
    register_prior(sub)
    register_console(sub)
    parser.set_defaults(func=_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = _settings_for(args)
    except ConfigError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2
    setup_logging(settings)
    from bot.redaction import install_excepthooks  # uncaught exceptions: redacted too

    install_excepthooks(settings.token)
    for warning in permission_warnings(settings):
        log.warning(warning)
    try:
        return asyncio.run(args.func(args, settings))
    except ConfigError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # a last line of defence for known, user-fixable failures
        from bot.errors import user_facing_error

        message = user_facing_error(error)
        if message is None:
            # A bug: the traceback goes through the logging handler, which redacts the token.
            log.critical("stopped by an unexpected error", exc_info=True)
            return 1
        print(message, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
