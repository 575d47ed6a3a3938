"""`python -m bot catalog ...`: import a movie list or download MovieLens into the catalog.

    python -m bot catalog import PATH [--format auto|movielens|ml-100k|csv]
    python -m bot catalog download movielens

`register(subparsers)` adds the commands; each sets `args.func` to an
`async def (args, settings) -> int` exit code. Registering is cheap (`python -m bot --help`):
the storage, the parsers and the downloader are imported when a command runs.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .format_names import FORMATS

if TYPE_CHECKING:
    from bot.config import Settings

    from .importer import ImportSummary

MAX_BAD_ROWS_SHOWN = 50


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `catalog` command (with `import` and `download`) to the bot's CLI."""
    catalog = subparsers.add_parser("catalog", help="import movies into the shared catalog")
    commands = catalog.add_subparsers(dest="catalog_command", metavar="{import,download}")
    commands.required = True
    importer = commands.add_parser(
        "import", help="import a MovieLens movies.csv, a MovieLens 100K u.item or a plain "
                       "CSV (title,year[,genres])")
    importer.add_argument("path", type=Path, help="the file to import")
    importer.add_argument("--format", choices=FORMATS, default="auto",
                          help="file format (default: detected from the first line)")
    importer.set_defaults(func=run_import)
    download = commands.add_parser(
        "download", help="download a dataset's movie list and import it")
    download.add_argument("dataset", choices=["movielens"],
                          help="movielens: the MovieLens 'latest small' dataset (GroupLens)")
    download.set_defaults(func=run_download)


def report(summary: ImportSummary, source: object) -> None:
    """The summary line on stdout, each bad row on stderr."""
    shown = summary.bad_rows[:MAX_BAD_ROWS_SHOWN]
    for line, reason in shown:
        print(f"line {line}: {reason}", file=sys.stderr)
    if len(summary.bad_rows) > len(shown):
        print(f"... and {len(summary.bad_rows) - len(shown)} more bad rows", file=sys.stderr)
    print(summary.line(source))


async def run_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage import open_storage

    from .formats import count_rows, detect_file_format, parse_file
    from .importer import import_movies
    from .progress import Progress

    path: Path = args.path
    try:
        fmt = args.format
        if fmt == "auto":
            fmt = await asyncio.to_thread(detect_file_format, path)
        total = await asyncio.to_thread(count_rows, path, fmt)
    except OSError as error:
        print(f"Cannot read {path}: {error.strerror or error}", file=sys.stderr)
        return 1
    storage = await open_storage(settings)
    try:
        progress = Progress(total, f"Importing {path.name} ({fmt})")
        try:
            summary = await import_movies(storage, parse_file(path, fmt), progress)
        except OSError as error:
            print(f"Cannot read {path}: {error.strerror or error}", file=sys.stderr)
            return 1
        progress.update(total)
        progress.close()
    finally:
        await storage.close()
    report(summary, path)
    if summary.added == 0 and summary.skipped_existing == 0 and summary.bad_rows:
        return 1  # nothing in the file was usable: probably the wrong format
    return 0


async def run_download(args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage import open_storage

    from .download import DownloadError, download_movielens

    storage = await open_storage(settings)
    try:
        summary = await download_movielens(settings, storage)
    except DownloadError as error:
        print(f"Download failed: {error}", file=sys.stderr)
        return 1
    finally:
        await storage.close()
    report(summary, settings.movielens_url)
    return 0
