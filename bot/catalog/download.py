"""`catalog download movielens`: fetch the MovieLens "latest small" zip and import its movies.

The zip comes from `settings.movielens_url` (GroupLens by default) at run time, into a
temporary folder that is removed afterwards. Only `movies.csv` is imported (with IMDb/TMDb ids
from `links.csv` when present); ratings are not. The dataset's licence ("Usage License" in its
README.txt) is printed, since using the data means accepting it.
"""

from __future__ import annotations

import asyncio
import io
import re
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import aiohttp

from bot.config import Settings
from bot.storage import MovieRow, Storage

from .formats import ParsedRow, parse_links, parse_movielens
from .importer import ImportSummary, import_movies
from .progress import Progress

CHUNK = 1 << 16
TIMEOUT_SECONDS = 600
LICENSE_FALLBACK = ("The archive has no README.txt; read the MovieLens licence at "
                    "https://grouplens.org/datasets/movielens/ before using the data.")


class DownloadError(Exception):
    """The download or the archive failed; the message is one line for the user."""


@dataclass(frozen=True)
class Archive:
    movies_csv: str
    readme: str | None
    links_csv: str | None


def _member(names: list[str], basename: str) -> str | None:
    matches = [n for n in names if n.rsplit("/", 1)[-1].lower() == basename.lower()]
    # Prefer the shallowest path ("ml-latest-small/movies.csv").
    return min(matches, key=lambda n: (n.count("/"), n)) if matches else None


def read_archive(path: Path) -> Archive:
    """movies.csv, README.txt and links.csv (text) from a MovieLens zip."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            movies = _member(names, "movies.csv")
            if movies is None:
                raise DownloadError("the downloaded archive has no movies.csv")

            def text(name: str | None) -> str | None:
                if name is None:
                    return None
                return archive.read(name).decode("utf-8", errors="replace")

            return Archive(text(movies) or "", text(_member(names, "README.txt")),
                           text(_member(names, "links.csv")))
    except zipfile.BadZipFile as error:
        raise DownloadError(f"the downloaded file is not a valid zip archive ({error})") from None


def license_text(readme: str) -> str | None:
    """The "Usage License" section of a MovieLens README (up to the next heading)."""
    lines = readme.splitlines()
    underline = re.compile(r"^\s*(=+|-+)\s*$")
    start = None
    for i, line in enumerate(lines):
        if line.strip().lower().startswith("usage license"):
            start = i
            break
    if start is None:
        return None
    body = []
    i = start + 1
    if i < len(lines) and underline.match(lines[i]):
        i += 1
    while i < len(lines):
        if i + 1 < len(lines) and lines[i].strip() and underline.match(lines[i + 1]):
            break  # next heading
        body.append(lines[i])
        i += 1
    text = "\n".join(body).strip()
    return f"{lines[start].strip()}\n\n{text}" if text else None


async def fetch(url: str, dest: Path, *, stream: TextIO | None = None) -> int:
    """Download `url` to `dest` with a progress bar; returns the bytes written."""
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS, sock_connect=30)
    written = 0
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session, \
                session.get(url) as response:
            if response.status != 200:
                raise DownloadError(f"{url}: HTTP {response.status} {response.reason or ''}"
                                    .rstrip())
            progress = Progress(response.content_length, "Downloading", unit="bytes",
                                stream=stream)
            handle = await asyncio.to_thread(dest.open, "wb")
            try:
                async for chunk in response.content.iter_chunked(CHUNK):
                    await asyncio.to_thread(handle.write, chunk)
                    written += len(chunk)
                    progress.update(written)
            finally:
                await asyncio.to_thread(handle.close)
            progress.close()
    except aiohttp.ClientError as error:
        raise DownloadError(f"{url}: download failed: {error or type(error).__name__}") from None
    except TimeoutError:
        raise DownloadError(f"{url}: download timed out") from None
    return written


def movie_rows(archive: Archive) -> list:
    """Parsed rows of the archive's movies.csv, with ids from links.csv added."""
    links = parse_links(io.StringIO(archive.links_csv)) if archive.links_csv else {}
    rows = []
    for item in parse_movielens(io.StringIO(archive.movies_csv, newline="")):
        if isinstance(item, ParsedRow) and item.movie.movielens_id in links:
            imdb, tmdb = links[item.movie.movielens_id]
            movie: MovieRow = item.movie._replace(imdb_id=imdb, tmdb_id=tmdb)
            item = ParsedRow(item.line, movie)
        rows.append(item)
    return rows


async def download_movielens(
    settings: Settings,
    storage: Storage,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> ImportSummary:
    """Download, import the movies, print the licence. Raises DownloadError."""
    out = out if out is not None else sys.stdout
    url = settings.movielens_url
    with tempfile.TemporaryDirectory(prefix="moviebot-") as folder:
        path = Path(folder) / "movielens.zip"
        await fetch(url, path, stream=err)
        archive = await asyncio.to_thread(read_archive, path)
    rows = await asyncio.to_thread(movie_rows, archive)
    progress = Progress(len(rows), "Importing movies.csv", stream=err)
    summary = await import_movies(storage, rows, progress)
    progress.close()
    terms = license_text(archive.readme) if archive.readme else None
    out.write("\nMovieLens dataset licence (from its README.txt):\n\n"
              + (terms or LICENSE_FALLBACK) + "\n\n")
    out.flush()
    return summary
