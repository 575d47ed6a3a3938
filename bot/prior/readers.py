"""Reading a MovieLens dataset for the taste prior: a folder or a zip, ratings and movies.

Layouts (found by file name anywhere in the folder or zip, the shallowest one wins):

* ml-latest-small, ml-latest, ml-25m, ml-32m: `ratings.csv` (userId,movieId,rating,timestamp,
  a header row, stars 0.5-5) and `movies.csv` (movieId,title,genres), optional `links.csv`
  (movieId,imdbId,tmdbId). Keys are MovieLens movieIds.
* ML-100K: `u.data` (user, item, rating 1-5, timestamp; tab-separated) and `u.item`
  (`|`-separated, latin-1). Its item ids are not MovieLens movieIds.

Ratings are parsed by numpy in C, a block of lines at a time, into preallocated columns: no
Python object per rating, and memory stays at the three columns (20 bytes a rating) plus one
block. Scores stay in stars (`STAR_SCALE`): the prior works in rating units, so stars learned
here apply to the bot's 1-10 scale unchanged.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

import numpy as np

from bot.catalog.formats import parse_links
from bot.domain.title_forms import parse_title
from bot.domain.years import is_valid_year
from bot.storage.models import PriorMovie

BLOCK_BYTES = 1 << 24  # ratings text parsed per numpy call
STAR_SCALE = (0.5, 5.0)  # MovieLens stars; ML-100K uses whole stars 1-5 on the same scale
MIN_STARS, MAX_STARS = STAR_SCALE
_DATE_YEAR_RE = re.compile(r"(\d{4})\s*$")

LAYOUTS = {
    "movielens": ("ratings.csv", "movies.csv", ","),
    "ml-100k": ("u.data", "u.item", "\t"),
}


class PriorSourceError(Exception):
    """The dataset cannot be used; the message is one line for the person running the CLI."""


@dataclass(frozen=True)
class Dataset:
    """Where a dataset's files are: `members` maps a base name to a path or zip member."""

    location: Path
    name: str  # "ml-latest-small", "ml-100k", ...
    kind: str  # "movielens" or "ml-100k" (see LAYOUTS)
    members: dict[str, str]
    is_zip: bool

    @property
    def ratings_name(self) -> str:
        return LAYOUTS[self.kind][0]

    @property
    def movies_name(self) -> str:
        return LAYOUTS[self.kind][1]

    def has(self, base: str) -> bool:
        return base in self.members

    @contextmanager
    def open(self, base: str) -> Iterator[BinaryIO]:
        """The file `base` ("ratings.csv", "u.item"...) opened for binary reading."""
        member = self.members[base]
        try:
            if self.is_zip:
                with zipfile.ZipFile(self.location) as archive, archive.open(member) as handle:
                    yield cast(BinaryIO, handle)
            else:
                with open(member, "rb") as handle:
                    yield handle
        except (OSError, zipfile.BadZipFile) as error:
            raise PriorSourceError(f"cannot read {base} in {self.location}: "
                                   f"{getattr(error, 'strerror', None) or error}") from None

    def size(self, base: str) -> int:
        """Uncompressed size in bytes of `base`."""
        member = self.members[base]
        if self.is_zip:
            with zipfile.ZipFile(self.location) as archive:
                return archive.getinfo(member).file_size
        return Path(member).stat().st_size

    def read_text(self, base: str, encoding: str = "utf-8-sig") -> str:
        with self.open(base) as handle:
            return handle.read().decode(encoding, errors="replace")


def _find(paths: list[str]) -> tuple[str, str, dict[str, str]] | None:
    """(kind, folder, {base name: path}) of the shallowest folder holding a whole dataset."""
    folders: dict[str, dict[str, str]] = {}
    for path in paths:
        folder, _, base = path.rpartition("/")
        folders.setdefault(folder, {})[base.lower()] = path
    for folder in sorted(folders, key=lambda f: (f.count("/") + bool(f), f)):
        files = folders[folder]
        for kind, (ratings, movies, _) in LAYOUTS.items():
            if ratings in files and movies in files:
                return kind, folder, files
    return None


def open_dataset(path: Path) -> Dataset:
    """Find the dataset's files in a folder or zip; PriorSourceError when it is not one.

    The shallowest folder holding both files of a layout wins (a folder with ml-latest-small
    inside works; so does a zip of it).
    """
    path = Path(path)
    if not path.exists():
        raise PriorSourceError(f"{path} does not exist")
    known = {name for layout in LAYOUTS.values() for name in layout[:2]}
    if path.is_file() and path.name.lower() in known:
        path = path.parent  # "ml-latest-small/ratings.csv" means its folder
    is_zip = not path.is_dir()
    if is_zip:
        try:
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if not n.endswith("/")]
        except zipfile.BadZipFile:
            raise PriorSourceError(
                f"{path} is neither a folder nor a zip archive (give a MovieLens folder or "
                ".zip)") from None
        except OSError as error:
            raise PriorSourceError(f"cannot read {path}: {error.strerror or error}") from None
    else:
        names = [p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()]
    found = _find(names)
    if found is None:
        raise PriorSourceError(
            f"{path} has no MovieLens ratings: expected ratings.csv and movies.csv "
            "(ml-latest-small, ml-latest, ml-25m, ml-32m) or u.data and u.item (ML-100K)")
    kind, folder, files = found
    name = folder.rsplit("/", 1)[-1] if folder else (path.stem if is_zip else path.name)
    if not is_zip:
        files = {base: str(path / rel) for base, rel in files.items()}
    return Dataset(path, name, kind, files, is_zip)


@dataclass(frozen=True)
class Ratings:
    """A dataset's ratings as parallel columns, scores in stars (`STAR_SCALE`)."""

    user_keys: np.ndarray  # int64
    movie_keys: np.ndarray  # int64
    scores: np.ndarray  # float32
    skipped: int = 0  # rows outside the star range

    def __len__(self) -> int:
        return int(self.scores.shape[0])


class _Columns:
    """Three growable columns (amortised doubling, shrunk in place at the end)."""

    def __init__(self, capacity: int) -> None:
        capacity = max(capacity, 1024)
        self.users = np.empty(capacity, dtype=np.int64)
        self.movies = np.empty(capacity, dtype=np.int64)
        self.scores = np.empty(capacity, dtype=np.float32)
        self.n = 0

    def append(self, block: np.ndarray) -> None:
        rows = block.shape[0]
        if self.n + rows > self.users.shape[0]:
            size = max(self.n + rows, int(self.users.shape[0] * 1.5))
            for column in (self.users, self.movies, self.scores):
                column.resize(size, refcheck=False)
        end = self.n + rows
        self.users[self.n:end] = block[:, 0]
        self.movies[self.n:end] = block[:, 1]
        self.scores[self.n:end] = block[:, 2]
        self.n = end

    def finish(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        for column in (self.users, self.movies, self.scores):
            column.resize(self.n, refcheck=False)
        return self.users, self.movies, self.scores


def _parse_block(block: bytes, delimiter: str, where: str) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "input contained no data"
        try:
            return np.loadtxt(io.BytesIO(block), delimiter=delimiter, usecols=(0, 1, 2),
                              dtype=np.float64, ndmin=2, comments=None)
        except ValueError as error:
            raise PriorSourceError(f"{where}: not a ratings file ({error})") from None


def read_ratings(dataset: Dataset, progress: Callable[[int], None] | None = None,
                 *, block_bytes: int = BLOCK_BYTES) -> Ratings:
    """All ratings of the dataset; `progress(bytes_read)` after each block."""
    base = dataset.ratings_name
    delimiter = LAYOUTS[dataset.kind][2]
    total = dataset.size(base)
    columns = _Columns(total // 24 + 1)
    done = 0
    rest = b""
    first = True
    with dataset.open(base) as handle:
        while True:
            chunk = handle.read(block_bytes)
            done += len(chunk)
            data = rest + chunk
            if chunk:
                cut = data.rfind(b"\n") + 1
                data, rest = data[:cut], data[cut:]
            else:
                rest = b""
            if first and data:
                first = False
                if data.lstrip(b"\xef\xbb\xbf")[:1].isalpha():  # header row
                    data = data[data.find(b"\n") + 1:] if b"\n" in data else b""
            if data.strip():
                columns.append(_parse_block(data, delimiter, f"{dataset.location}: {base}"))
            if progress is not None:
                progress(done)
            if not chunk:
                break
    users, movies, stars = columns.finish()
    good = (stars >= MIN_STARS) & (stars <= MAX_STARS) & (movies > 0)
    skipped = int(good.size - np.count_nonzero(good))
    if skipped:
        users, movies, stars = users[good], movies[good], stars[good]
    return Ratings(users, movies, stars, skipped)


def _year(raw_title: str, release: str = "") -> int | None:
    year = parse_title(raw_title).year
    if year is None and release:
        match = _DATE_YEAR_RE.search(release)
        if match and is_valid_year(int(match.group(1))):
            year = int(match.group(1))
    return year


def read_movies(dataset: Dataset) -> list[PriorMovie]:
    """The dataset's movie list (raw titles, years, IMDb/TMDB ids from links.csv).

    Malformed rows are skipped: a movie missing here only cannot be linked by title.
    """
    movies: list[PriorMovie] = []
    if dataset.kind == "ml-100k":
        text = dataset.read_text("u.item", encoding="latin-1")
        for line in text.splitlines():
            fields = line.split("|")
            if len(fields) < 5 or not fields[0].strip().isdigit():
                continue
            raw = " ".join(fields[1].split())
            if not raw or raw.lower() == "unknown":
                continue
            movies.append(PriorMovie(int(fields[0]), raw, _year(raw, fields[2])))
        return movies
    links: dict[int, tuple[str | None, int | None]] = {}
    if dataset.has("links.csv"):
        links = parse_links(io.StringIO(dataset.read_text("links.csv"), newline=""))
    reader = csv.reader(io.StringIO(dataset.read_text("movies.csv"), newline=""))
    for row in reader:
        if len(row) < 2 or not row[0].strip().isdigit():
            continue  # the header, or a broken row
        key = int(row[0])
        raw = " ".join(row[1].split())
        if not raw or "\ufffd" in raw:
            continue
        imdb, tmdb = links.get(key, (None, None))
        movies.append(PriorMovie(key, raw, _year(raw), imdb, tmdb))
    return movies
