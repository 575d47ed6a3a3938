"""Reading movie lists: MovieLens `movies.csv`, MovieLens 100K `u.item` and plain CSV.

Every parser takes an iterable of text lines and yields, in file order, `ParsedRow` (a line
number and a `MovieRow`) or `BadRow` (a line number and the reason the row was skipped).
Parsing never stops at a bad row. `detect_format` guesses the format from the first line.

* MovieLens (ml-latest, ml-25m...): `movieId,title,genres`, UTF-8, a header row, titles like
  "Matrix, The (1999)", genres `|`-separated or "(no genres listed)".
* MovieLens 100K `u.item`: latin-1, `|`-separated, no header:
  `id|title|release date|video release date|IMDb URL|` then 19 0/1 genre flags. Its ids are not
  MovieLens ids of the other datasets, so they are not stored.
* Plain CSV: `title,year[,genres]`, optional header row, genres `|`-separated, year may be
  empty (then a "(Year)" at the end of the title is used).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.domain.errors import DomainError
from bot.domain.genres import canonical_genres, split_genres
from bot.domain.title_forms import normalize, parse_title
from bot.domain.titles import MAX_TITLE_LENGTH
from bot.domain.years import MIN_YEAR, is_valid_year, max_year
from bot.storage.models import MovieRow

from .format_names import FORMATS

ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance",
    "Sci-Fi", "Thriller", "War", "Western",
)
_DATE_YEAR_RE = re.compile(r"(\d{4})\s*$")


@dataclass(frozen=True, slots=True)
class ParsedRow:
    line: int
    movie: MovieRow


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    reason: str


Parsed = ParsedRow | BadRow


class FormatError(ValueError):
    """The file is not in any format we read (or not in the one asked for)."""


def encoding_for(fmt: str) -> str:
    return "latin-1" if fmt == "ml-100k" else "utf-8-sig"


def detect_format(first_line: str) -> str:
    """"movielens", "ml-100k" or "csv" from the first line of a file."""
    line = first_line.strip().lstrip("\ufeff")
    if line.lower().replace(" ", "").startswith("movieid,title"):
        return "movielens"
    fields = line.split("|")
    if len(fields) >= 5 + len(ML100K_GENRES) and fields[0].strip().isdigit():
        return "ml-100k"
    return "csv"


def detect_file_format(path: Path) -> str:
    with path.open("rb") as handle:
        first = handle.readline(65536)
    return detect_format(first.decode("latin-1"))


def _check_title(raw: str) -> str | None:
    """The reason a title is unusable, or None."""
    if "\ufffd" in raw:
        return "text is not valid UTF-8"
    if not raw.strip():
        return "empty title"
    if len(raw) > MAX_TITLE_LENGTH:
        return f"title longer than {MAX_TITLE_LENGTH} characters"
    if not normalize(raw):
        return f"title {raw.strip()!r} has no letters or digits"
    return None


def csv_rows(lines: Iterable[str]) -> Iterator[tuple[int, list[str]] | BadRow]:
    """(line number, cells) for each line, or a BadRow for a line that is not valid CSV.

    Each physical line is one row: an unclosed quote is reported on its own line instead of
    swallowing the rows after it into one field (no movie list has line breaks in a cell).
    """
    for line, text in enumerate(lines, start=1):
        try:
            row = next(csv.reader([text.rstrip("\r\n")], strict=True), [])
        except csv.Error as error:
            reason = ("unclosed quote (a '\"' without its closing '\"')"
                      if "end of data" in str(error) else f"not valid CSV ({error})")
            yield BadRow(line, reason)
            continue
        yield line, row


def _rows(lines: Iterable[str]) -> Iterator[tuple[int, list[str]] | BadRow]:
    for item in csv_rows(lines):
        if isinstance(item, BadRow) or (item[1] and any(cell.strip() for cell in item[1])):
            yield item


def _genres(raw: str, line: int) -> tuple[str, ...] | BadRow:
    """A file's genre list in the one vocabulary `/movies add` uses (`bot.domain.genres`)."""
    try:
        return canonical_genres(split_genres(raw))
    except DomainError as error:
        return BadRow(line, str(error).rstrip("."))


def parse_movielens(lines: Iterable[str]) -> Iterator[Parsed]:
    """MovieLens `movies.csv` (movieId,title,genres)."""
    for item in _rows(lines):
        if isinstance(item, BadRow):
            yield item
            continue
        line, row = item
        if line == 1 and row[0].strip().lstrip("\ufeff").lower() == "movieid":
            continue
        if len(row) != 3:
            yield BadRow(line, f"expected 3 columns (movieId,title,genres), got {len(row)}")
            continue
        movie_id, raw_title, genres = row
        try:
            ml_id = int(movie_id.strip())
        except ValueError:
            yield BadRow(line, f"movieId {movie_id.strip()!r} is not a whole number")
            continue
        if ml_id <= 0:
            yield BadRow(line, f"movieId {ml_id} is not positive")
            continue
        problem = _check_title(raw_title)
        if problem:
            yield BadRow(line, problem)
            continue
        genre_tuple = _genres(genres, line)
        if isinstance(genre_tuple, BadRow):
            yield genre_tuple
            continue
        parsed = parse_title(raw_title)
        yield ParsedRow(line, MovieRow(parsed.title, parsed.year, genre_tuple, ml_id,
                                       alt_title=parsed.alt_title))


def parse_ml100k(lines: Iterable[str]) -> Iterator[Parsed]:
    """MovieLens 100K `u.item` (decode it as latin-1)."""
    expected = 5 + len(ML100K_GENRES)
    for line, text in enumerate(lines, start=1):
        text = text.rstrip("\r\n")
        if not text.strip():
            continue
        fields = text.split("|")
        if len(fields) != expected:
            yield BadRow(line, f"expected {expected} '|'-separated fields, got {len(fields)}")
            continue
        if not fields[0].strip().isdigit():
            yield BadRow(line, f"movie id {fields[0].strip()!r} is not a whole number")
            continue
        raw_title = fields[1]
        if raw_title.strip().lower() == "unknown":
            yield BadRow(line, "title is 'unknown'")
            continue
        problem = _check_title(raw_title)
        if problem:
            yield BadRow(line, problem)
            continue
        flags = [f.strip() for f in fields[5:]]
        if any(f not in ("0", "1") for f in flags):
            yield BadRow(line, "genre flags must be 0 or 1")
            continue
        genres = tuple(name for name, flag in zip(ML100K_GENRES, flags, strict=True)
                       if flag == "1" and name != "unknown")
        parsed = parse_title(raw_title)
        year = parsed.year
        if year is None:
            match = _DATE_YEAR_RE.search(fields[2])
            if match and is_valid_year(int(match.group(1))):
                year = int(match.group(1))
        yield ParsedRow(line, MovieRow(parsed.title, year, genres, alt_title=parsed.alt_title))


def parse_plain_csv(lines: Iterable[str]) -> Iterator[Parsed]:
    """Plain CSV: title,year[,genres] with an optional header row."""
    for item in _rows(lines):
        if isinstance(item, BadRow):
            yield item
            continue
        line, row = item
        if line == 1 and row[0].strip().lstrip("\ufeff").lower() == "title":
            continue
        if len(row) not in (2, 3):
            yield BadRow(line, f"expected 2 or 3 columns (title,year[,genres]), got {len(row)}")
            continue
        raw_title, raw_year = row[0], row[1].strip()
        problem = _check_title(raw_title)
        if problem:
            yield BadRow(line, problem)
            continue
        parsed = parse_title(raw_title, alt=False)
        if raw_year:
            try:
                number = int(raw_year)
            except ValueError:
                yield BadRow(line, f"year {raw_year!r} is not a whole number")
                continue
            if not is_valid_year(number):
                yield BadRow(line, f"year {number} is outside {MIN_YEAR}-{max_year()}")
                continue
            year: int | None = number
            title = parsed.title if parsed.year in (None, year) else raw_title.strip()
        else:
            year, title = parsed.year, parsed.title
        genres = _genres(row[2], line) if len(row) == 3 else ()
        if isinstance(genres, BadRow):
            yield genres
            continue
        yield ParsedRow(line, MovieRow(title, year, genres))


PARSERS = {"movielens": parse_movielens, "ml-100k": parse_ml100k, "csv": parse_plain_csv}


def parse_lines(lines: Iterable[str], fmt: str) -> Iterator[Parsed]:
    try:
        parser = PARSERS[fmt]
    except KeyError:
        raise FormatError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})") from None
    return parser(lines)


def parse_file(path: Path, fmt: str = "auto") -> Iterator[Parsed]:
    """Parse a file (format detected from its first line when `fmt` is "auto")."""
    if fmt == "auto":
        fmt = detect_file_format(path)
    with path.open(encoding=encoding_for(fmt), errors="replace", newline="") as handle:
        yield from parse_lines(handle, fmt)


def count_rows(path: Path, fmt: str = "auto") -> int:
    """Data rows in a file (non-blank lines, a header row not counted): the progress total."""
    if fmt == "auto":
        fmt = detect_file_format(path)
    rows = 0
    first = True
    with path.open(encoding=encoding_for(fmt), errors="replace", newline="") as handle:
        for text in handle:
            if not text.strip():
                continue
            if first and fmt != "ml-100k" and is_header(text, fmt):
                first = False
                continue
            first = False
            rows += 1
    return rows


def is_header(first_line: str, fmt: str) -> bool:
    """Whether a file's first line is its header row (MovieLens' `movieId,...`, `title,...`)."""
    cell = first_line.split(",", 1)[0].strip().strip('"').lstrip("\ufeff").lower()
    return (fmt == "movielens" and cell == "movieid") or (fmt == "csv" and cell == "title")


def parse_links(lines: Iterable[str]) -> dict[int, tuple[str | None, int | None]]:
    """MovieLens `links.csv` (movieId,imdbId,tmdbId) -> {movieId: ("tt0114709", 862)}.

    Malformed rows are ignored: links only add ids to movies that are imported anyway.
    """
    links: dict[int, tuple[str | None, int | None]] = {}
    reader = csv.reader(lines)
    for row in reader:
        if len(row) != 3 or not row[0].strip().isdigit():
            continue
        imdb = row[1].strip()
        tmdb = row[2].strip()
        links[int(row[0])] = (f"tt{imdb}" if imdb.isdigit() else None,
                              int(tmdb) if tmdb.isdigit() else None)
    return links
