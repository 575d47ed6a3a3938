"""Command line: `python -m bot [--config PATH] [run|sync|catalog|prior|console|backup|purge|
stats|health|invite]`.

Every failure a person can fix (missing token, bad config, a newer database, a database that
is not there) ends with one line on stderr and a non-zero exit code, never a traceback. Global
options (`--config`) work before or after the subcommand. Exit codes: 0 done, 1 failed (a bug,
or something the line explains), 2 configuration error, 78 Discord refused the token or the
intents (a restart will not help: `RestartPreventExitStatus=78` under systemd), 130 Ctrl-C,
141 the reader of the output went away (`stats | head`: no traceback).
`health` adds 3: starting (the database is ready, Discord not reached yet).

`run` creates and migrates the database before it first tries Discord (`bot.lifecycle.serve`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
from pathlib import Path

from bot.config import (
    QUIET_LOGGERS,
    ConfigError,
    Settings,
    default_settings,
    load_settings,
    permission_warnings,
)
from bot.dbcheck import MissingDatabaseError, require_database
from bot.domain.plural import plural
from bot.redaction import Redactor, RedactSecrets, redactor_for

CONFIG_ENV = "MOVIEBOT_CONFIG"
DEFAULT_CONFIG = "config.toml"
NO_TOKEN = (
    "No Discord bot token: set the DISCORD_TOKEN environment variable or [discord] token in "
    "your config file (the README's 'Create the Discord application' says where to get one)."
)

EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_DISCORD_REFUSED = 78  # sysexits' EX_CONFIG: fix the token or the intents, then start
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a writer whose reader went away

log = logging.getLogger("bot")


class RedactToken(RedactSecrets):
    """Replaces the token (and the config's other secrets, and URL passwords) wherever they
    would appear in a log line (`bot.redaction`)."""

    def __init__(self, token: str | None, secrets: tuple[str, ...] | list[str] = ()) -> None:
        super().__init__(Redactor(token, secrets))


def logger_levels(settings: Settings) -> dict[str, int]:
    """Each logger's level: libraries quiet by default (never louder than `[logging] level`),
    then `[logging.levels]` as written."""
    root = logging.getLevelName(settings.log_level)
    levels = {name: max(root, logging.getLevelName(level))
              for name, level in QUIET_LOGGERS.items()}
    levels.update({name: logging.getLevelName(level) for name, level in settings.log_levels})
    return levels


def setup_logging(settings: Settings) -> None:
    from bot.reconnect_log import OneLineReconnects

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(redactor_for(settings)))
    handler.addFilter(OneLineReconnects())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    for name, level in logger_levels(settings).items():
        logging.getLogger(name).setLevel(level)


def _settings_for(args: argparse.Namespace) -> Settings:
    if args.config is None and not Path(DEFAULT_CONFIG).exists():
        return default_settings()
    return load_settings(args.config or DEFAULT_CONFIG)


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from bot import create_bot

    if not settings.token:
        print(NO_TOKEN, file=sys.stderr)
        return EXIT_CONFIG
    from bot.about import startup_line
    from bot.lifecycle import serve

    # Built (discord.py, the service, SciPy imported: a second or so) before the start line,
    # so a stop requested once the line shows finds `serve`'s signal handlers at once.
    movie_bot = create_bot(settings)
    for note in settings.notes:
        log.warning(note)
    log.info(startup_line(settings))
    return await serve(movie_bot, settings.token)


async def _sync(args: argparse.Namespace, settings: Settings) -> int:
    import discord

    from bot import create_bot

    if not settings.token:
        print(NO_TOKEN, file=sys.stderr)
        return EXIT_CONFIG
    from bot.lifecycle import describe, is_transient

    bot = create_bot(settings)
    try:
        async with bot:
            await bot.login(settings.token)
            if args.guild:
                guild = discord.Object(id=args.guild)
                bot.tree.copy_global_to(guild=guild)
                synced = await bot.tree.sync(guild=guild)
                print(f"Synced {plural(len(synced), 'command')} to guild {args.guild} (visible "
                      "at once).")
            else:
                synced = await bot.tree.sync()
                print(f"Synced {plural(len(synced), 'command')} globally (Discord may take a "
                      "few minutes to show changes).")
    except Exception as error:
        if not is_transient(error):  # a refused token and bugs: main() explains or traces them
            raise
        # The network or Discord (offline, DNS, 5xx): one line, like `run`'s retries.
        print(f"Cannot reach Discord, nothing was synced: {describe(error)}. Check the "
              "network and run `python -m bot sync` again.", file=sys.stderr)
        return EXIT_FAILED
    return 0


async def _backup(args: argparse.Namespace, settings: Settings) -> int:
    from bot.backups import backup_destination
    from bot.storage import open_storage

    require_database(settings)
    storage = await open_storage(settings)  # PostgreSQL: refused, pointing at pg_dump
    try:
        # A folder (existing, or written with a trailing slash) gets a new file inside it.
        dest = await storage.backup(backup_destination(args.path))
    finally:
        await storage.close()
    print(f"Backed up {settings.database} to {dest}")
    return 0


async def _purge(args: argparse.Namespace, settings: Settings) -> int:
    from bot.privacy import purge_departed_guilds
    from bot.service.app import member_tables
    from bot.storage import open_storage

    require_database(settings)
    storage = await open_storage(settings)
    try:
        tables = [table.name for table in member_tables(storage, settings)]
        if args.guild:
            removed = await storage.purge_guild(args.guild, tables)
            print(f"Purged guild {args.guild}: {plural(removed, 'row')} removed")
        else:
            grace = 0 if args.now else settings.privacy.purge_grace_days
            purged = await purge_departed_guilds(storage, grace_days=grace,
                                                 member_tables=tables)
            print(f"Purged {plural(len(purged), 'departed guild')}"
                  + (f": {', '.join(map(str, purged))}" if purged else ""))
    finally:
        await storage.close()
    return 0


async def _stats(args: argparse.Namespace, settings: Settings) -> int:
    from bot.stats import stats_text

    require_database(settings)
    from bot.storage import database_target

    print(await stats_text(database_target(settings)))
    return 0


async def _health(args: argparse.Namespace, settings: Settings) -> int:
    from bot.about import database_server
    from bot.config import CLUSTER_ID_ENV
    from bot.health import check

    sharding = settings.sharding
    clusters: list[int | None] = [None]  # a single process: its one status file
    if args.cluster is not None:
        clusters = [args.cluster]
    elif sharding.shard_count and os.environ.get(CLUSTER_ID_ENV, "").strip():
        clusters = [sharding.cluster_id]  # a cluster's own container: its own status
    elif sharding.shard_count:
        clusters = list(range(sharding.clusters))  # every cluster, one line each
    verdicts = [check(settings.database, max_age=args.max_age,
                      server=bool(database_server(settings)), cluster_id=cluster)
                for cluster in clusters]
    # 0 when all are healthy, 1 when one is unhealthy, else 3: starting (bot.health)
    code = max(verdicts, key=lambda v: (v.exit_code == EXIT_FAILED, v.exit_code)).exit_code
    for verdict in verdicts:
        print(verdict.message, file=sys.stderr if code == EXIT_FAILED else sys.stdout)
    return code


async def _invite(args: argparse.Namespace, settings: Settings) -> int:
    from bot.invite import InviteError, invite_notes, invite_url, resolve_application_id

    try:
        application_id = resolve_application_id(args.application_id, settings.application_id,
                                                settings.token)
    except InviteError as error:
        print(f"Cannot make the invite link: {error}", file=sys.stderr)
        return EXIT_CONFIG
    print(invite_url(application_id))  # alone on stdout, for scripts
    print(invite_notes(), file=sys.stderr)
    return 0


def _version() -> str:
    from bot.about import version

    return f"moviebot {version()}"


def _add_global_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """`--config` on the top parser and, without a default of its own, on every subcommand, so
    `backup --config x.toml PATH` means the same as `--config x.toml backup PATH`."""
    parser.add_argument(
        "--config", default=os.environ.get(CONFIG_ENV) if top else argparse.SUPPRESS,
        help=f"config file (default: ${CONFIG_ENV} or ./{DEFAULT_CONFIG}; "
             "built-in defaults plus environment when absent)")


def _finish_subcommands(parser: argparse.ArgumentParser) -> None:
    """Every subcommand (nested too) gets the global options, and its one-line help as the
    description its own `--help` shows."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {choice.dest: choice.help for choice in action._choices_actions}
        for name, sub in action.choices.items():
            if sub.description is None and helps.get(name):
                text = str(helps[name])
                sub.description = text[:1].upper() + text[1:] + "."
            if not any("--config" in a.option_strings for a in sub._actions):
                _add_global_options(sub, top=False)
            _finish_subcommands(sub)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Movie bot: a self-hosted Discord bot that recommends movies from each "
                    "server's own ratings. Without a command it runs the bot.")
    parser.add_argument("--version", action="version", version=_version())
    _add_global_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = sub.add_parser("run", help="connect to Discord and serve commands (default)")
    run.set_defaults(func=_run)
    sync = sub.add_parser("sync", help="register the slash commands with Discord")
    sync.add_argument("--guild", type=int, help="sync to this guild only (instant)")
    sync.set_defaults(func=_sync)
    backup = sub.add_parser(
        "backup", help="write an online, consistent copy of the database (safe while the bot "
                       "runs)")
    backup.add_argument(
        "path", help="the backup file to write; a folder (existing, or ending in /) gets a new "
                     "moviebot-DATE-TIME.sqlite3 inside it, the folder created if missing")
    backup.set_defaults(func=_backup)
    purge = sub.add_parser(
        "purge", help="delete the data of servers the bot has left (after the grace period, "
                      "or now)")
    purge.add_argument("--guild", type=int, help="purge this guild now, whatever its state")
    purge.add_argument("--now", action="store_true",
                       help="ignore the grace period for guilds the bot has left")
    purge.set_defaults(func=_purge)
    stats = sub.add_parser("stats", help="print a one-screen summary of the database")
    stats.set_defaults(func=_stats)
    health = sub.add_parser(
        "health", help="check the database and the running bot's gateway heartbeat (exit 0 = "
                       "healthy, 1 = unhealthy, 3 = starting: Discord not reached yet; "
                       "Docker's HEALTHCHECK)")
    health.add_argument("--max-age", type=float, default=90.0, metavar="SECONDS",
                        help="unhealthy when the last heartbeat is older (default: 90)")
    health.add_argument("--cluster", type=int, metavar="ID",
                        help="a sharded bot: check this cluster process only (default: "
                             "MOVIEBOT_CLUSTER_ID when set, else every cluster)")
    health.set_defaults(func=_health)
    invite = sub.add_parser(
        "invite", help="print the link that adds the bot to a server, with exactly the "
                       "permissions it needs")
    invite.add_argument("--application-id", type=int, metavar="ID",
                        help="the application id (default: [discord] application_id, or read "
                             "from the token)")
    invite.set_defaults(func=_invite)

    # The try-it console lives outside the runtime (top-level `console/`); importing its
    # `register` is cheap: it loads the local Discord it runs on only when a session starts.
    from bot.catalog.cli import register as register_catalog
    from bot.prior.cli import register as register_prior
    from console import register as register_console

    register_catalog(sub)
    register_prior(sub)
    register_console(sub)
    __import__("bot.worker_cli").worker_cli.register(sub)  # `worker`: queued refits
    __import__("bot.db_copy").db_copy.register(sub)  # `db copy`: SQLite -> PostgreSQL
    parser.set_defaults(func=_run)
    _finish_subcommands(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; a reader that goes away (`stats | head`) ends it quietly."""
    try:
        try:
            code = _main(argv)
        finally:
            sys.stdout.flush()  # a closed pipe shows here, not as a traceback at exit
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    return code


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush has nowhere to fail."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = _settings_for(args)
    except ConfigError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2
    setup_logging(settings)
    from bot.redaction import install_excepthooks  # uncaught exceptions: redacted too

    install_excepthooks(redactor_for(settings))
    for warning in permission_warnings(settings):
        log.warning(warning)
    try:
        return asyncio.run(args.func(args, settings))
    except ConfigError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except MissingDatabaseError as error:
        print(error, file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        raise  # the reader of our output went away: main() ends quietly
    except Exception as error:  # a last line of defence for known, user-fixable failures
        import discord

        from bot.errors import user_facing_error

        message = user_facing_error(error)
        if message is None:
            # A bug: the traceback goes through the logging handler, which redacts the token.
            log.critical("stopped by an unexpected error", exc_info=True)
            return EXIT_FAILED
        print(message, file=sys.stderr)
        if isinstance(error, discord.LoginFailure | discord.PrivilegedIntentsRequired):
            return EXIT_DISCORD_REFUSED  # restarting will not help until it is fixed
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
