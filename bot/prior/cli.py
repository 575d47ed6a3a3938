"""`python -m bot prior ...`: build, download, inspect or remove the taste prior.

    python -m bot prior build PATH [--all-movies]
    python -m bot prior download small|full [--url URL] [--all-movies]
    python -m bot prior status
    python -m bot prior remove

`register(subparsers)` adds the commands; each sets `args.func` to an
`async def (args, settings) -> int` exit code. Failures a person can fix (a wrong path, a
failed download, nothing to link) end with one line on stderr and exit code 1. Registering is
cheap (`python -m bot --help`): the storage, the builder (SciPy) and the downloader are
imported when a command runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.dbcheck import require_database
from bot.domain.plural import plural

from .datasets import DATASETS

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.storage import Storage

    from .build import BuildReport

NO_PRIOR = ("No taste prior installed: build one with `python -m bot prior download small` "
            "or `python -m bot prior build PATH` (see the README's 'Taste prior').")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `prior` command (build, download, status, remove) to the bot's CLI."""
    prior = subparsers.add_parser(
        "prior", help="the taste prior: movie features learned from MovieLens")
    commands = prior.add_subparsers(dest="prior_command",
                                    metavar="{build,download,status,remove}")
    commands.required = True
    keep = {"action": "store_true", "dest": "all_movies",
            "help": "store every rated movie of the dataset, not only those linked to the "
                    "catalog (bigger; lets movies imported later link without a rebuild)"}
    build = commands.add_parser(
        "build", help="learn the prior from a MovieLens folder or zip (ratings.csv + "
                      "movies.csv [+ links.csv], or ML-100K u.data + u.item)")
    build.add_argument("path", type=Path, help="the dataset folder or .zip")
    build.add_argument("--all-movies", **keep)
    build.set_defaults(func=run_build)
    download = commands.add_parser(
        "download", help="download MovieLens from GroupLens and build the prior from it")
    download.add_argument("dataset", choices=sorted(DATASETS),
                          help="small: ml-latest-small (1 MB, 100k ratings, seconds); full: "
                               "ml-latest (~350 MB, ~33M ratings, minutes)")
    download.add_argument("--url", help="download from this URL instead (a mirror)")
    download.add_argument("--all-movies", **keep)
    download.set_defaults(func=run_download)
    status = commands.add_parser("status", help="whether a prior is installed, and its links")
    status.set_defaults(func=run_status)
    remove = commands.add_parser("remove", help="delete the installed prior")
    remove.set_defaults(func=run_remove)


def _print_report(report: BuildReport) -> None:
    for line in report.lines():
        print(line)


async def _open(settings: Settings) -> Storage:
    from bot.catalog.starter import ensure_starter_catalog
    from bot.storage import open_storage

    storage = await open_storage(settings)
    try:
        await ensure_starter_catalog(storage)  # what the bot's first start would load
    except BaseException:
        await storage.close()
        raise
    return storage


async def run_build(args: argparse.Namespace, settings: Settings) -> int:
    from .build import MOVIELENS_TERMS, build_from_path
    from .readers import PriorSourceError

    storage = await _open(settings)
    try:
        print(MOVIELENS_TERMS + "\n", flush=True)
        report = await build_from_path(storage, args.path, keep_all=args.all_movies)
    except PriorSourceError as error:
        print(f"Cannot build the taste prior: {error}", file=sys.stderr)
        return 1
    finally:
        await storage.close()
    _print_report(report)
    return 0


async def run_download(args: argparse.Namespace, settings: Settings) -> int:
    from bot.catalog.download import DownloadError

    from .download import download_and_build
    from .readers import PriorSourceError

    storage = await _open(settings)
    try:
        report = await download_and_build(storage, args.dataset, url=args.url,
                                          keep_all=args.all_movies, out=sys.stdout)
    except DownloadError as error:
        print(f"Download failed: {error}", file=sys.stderr)
        return 1
    except PriorSourceError as error:
        print(f"Cannot build the taste prior: {error}", file=sys.stderr)
        return 1
    finally:
        await storage.close()
    _print_report(report)
    return 0


async def run_status(args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage import open_storage

    from .build import human_size

    require_database(settings)  # reads only: never creates an empty database
    async with await open_storage(settings) as storage:
        status = await storage.prior_status()
        catalog = await storage.catalog_count()
    if status is None:
        print(NO_PRIOR)
        return 0
    share = status.linked_ratings / status.dataset_ratings if status.dataset_ratings else 0.0
    print("Taste prior: installed")
    print(f"  source:   {status.source}")
    print(f"  built at: {status.built_at:%Y-%m-%d %H:%M} UTC"
          f" (links updated {status.linked_at:%Y-%m-%d %H:%M} UTC)")
    print(f"  dataset:  {plural(status.dataset_ratings, 'rating')} by "
          f"{plural(status.dataset_users, 'user')} on {plural(status.dataset_movies, 'movie')}")
    print(f"  stored:   {plural(status.stored_movies, 'movie')}, {human_size(status.blob_bytes)}")
    print(f"  linked:   {status.linked_movies} of {plural(catalog, 'catalog movie')}, holding "
          f"{status.linked_ratings} ({share:.1%}) of the dataset's ratings")
    return 0


async def run_remove(args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage import open_storage

    require_database(settings)
    async with await open_storage(settings) as storage:
        removed = await storage.delete_prior()
    print("Removed the taste prior." if removed else NO_PRIOR)
    return 0
