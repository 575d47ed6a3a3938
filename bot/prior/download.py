"""`prior download small|full`: fetch a MovieLens zip from GroupLens and build the prior.

The zip goes to a temporary folder removed afterwards (the data is never kept, only the prior
learned from it). The licence terms are printed before the download starts, and the archive's
own "Usage License" section (README.txt) after it.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import TextIO

from bot.catalog.download import fetch, license_text
from bot.storage import Storage

from .build import MOVIELENS_TERMS, BuildReport, build_from_path
from .datasets import DATASETS
from .readers import open_dataset


def dataset_licence(path: Path) -> str | None:
    """The "Usage License" section of the archive's README.txt, if any."""
    dataset = open_dataset(path)
    if not dataset.has("readme.txt"):
        return None
    return license_text(dataset.read_text("readme.txt"))


async def download_and_build(
    storage: Storage,
    which: str,
    *,
    url: str | None = None,
    keep_all: bool = False,
    out: TextIO,
    err: TextIO | None = None,
    **options: object,
) -> BuildReport:
    """Download `which` ("small" or "full", or `url`), print the licence, build the prior.

    Raises bot.catalog.download.DownloadError or PriorSourceError (one line each).
    """
    url = url or DATASETS[which]
    out.write(MOVIELENS_TERMS + "\n\n")
    out.flush()
    with tempfile.TemporaryDirectory(prefix="moviebot-prior-") as folder:
        name = url.rstrip("/").rsplit("/", 1)[-1] or "movielens.zip"
        path = Path(folder) / (name if name.endswith(".zip") else name + ".zip")
        await fetch(url, path, stream=err)
        terms = await asyncio.to_thread(dataset_licence, path)
        if terms:
            out.write("From the dataset's README.txt:\n\n" + terms + "\n\n")
            out.flush()
        dataset = await asyncio.to_thread(open_dataset, path)
        return await build_from_path(storage, path, source=f"{dataset.name} ({url})",
                                     keep_all=keep_all, err=err, **options)
