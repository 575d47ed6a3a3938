"""Reading a member's movie history from another site's export (pure: bytes in, rows out).

Formats, told apart by their header line (never by the file name):

* **Letterboxd** `ratings.csv` (Date, Name, Year, Letterboxd URI, Rating: 0.5-5 stars in
  halves, converted by `bot.domain.scores.from_half_stars`) and `watchlist.csv` (the same
  without Rating), or the export **zip** holding both (other files in it are ignored);
* **IMDb** ratings export (Const = tt-id, Your Rating 1-10, Date Rated, Title, ..., Year,
  Genres) and IMDb's watchlist export (Const, Title, Year, no Your Rating); rows whose Title
  Type is not a movie (series, episodes, games) are skipped;
* the bot's own `/export` files: ratings (title, year, genres, score, updated_at) and
  watchlist (title, year, genres, added_at).

Any problem is one `ImportFileError` whose message is a single line naming the file and,
for a bad row, its line number: a file is read whole or refused whole.

Reading is bounded whatever the upload holds (a hostile file costs at most this much): every
row counts toward `MAX_ROWS`, blank lines and skipped rows too; the CSV files of a zip may
expand to `MAX_UNZIPPED` bytes, counted as they are decompressed (the sizes a zip declares are
not trusted), and only stored or deflated members are read (a bzip2 or LZMA member can expand
by millions of times in one step); a row may have `MAX_COLUMNS` cells; and the whole read must
finish within `READ_SECONDS`, checked as it goes. Callers run `read_history` off the event loop
(`bot.service.imports`).
"""

from __future__ import annotations

import csv
import io
import re
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.domain.errors import DomainError
from bot.domain.scores import check_score, from_half_stars
from bot.domain.years import is_valid_year
from bot.i18n import N_, _, number

MAX_ROWS = 20_000
"""Rows one import may hold (all files of a zip together), blank lines and skipped rows
included: a file of nothing still meets the limit."""
MAX_UNZIPPED = 4 * 1024 * 1024
"""Bytes the CSV files of one export zip may expand to, all together: as much as a plain CSV
upload may hold (`bot.service.imports.MAX_IMPORT_BYTES`). A 20,000-row export is about 2 MB."""
MAX_COLUMNS = 64
"""Cells a row may have (the formats read have at most 15 columns)."""
READ_SECONDS = 10.0
"""Time reading one upload may take (a 20,000-row file takes well under a second)."""
_CHUNK = 64 * 1024  # bytes decompressed at a time
_ZIP_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})

_IMDB_ID = re.compile(r"tt\d{5,10}")
# IMDb "Title Type" values that are movies (older exports "movie", newer "Movie", "TV Movie").
_IMDB_MOVIE_TYPES = frozenset({"movie", "tvmovie", "short", "tvshort", "video", "tvspecial"})
_FORMULA_GUARD = ("'=", "'+", "'-", "'@", "'\t", "'\r")  # what /export's csv_cell prefixed


# What an upload holds, named in the preview (marked here, translated where shown).
LETTERBOXD_EXPORT = N_("Letterboxd export")
LETTERBOXD_RATINGS = N_("Letterboxd ratings")
LETTERBOXD_WATCHLIST = N_("Letterboxd watchlist")
IMDB_RATINGS = N_("IMDb ratings")
IMDB_WATCHLIST = N_("IMDb watchlist")
BOT_RATINGS = N_("bot export")
BOT_WATCHLIST = N_("bot watchlist export")


class ImportFileError(DomainError):
    """The file cannot be imported; the message is one line for the member."""


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One movie of an export: how to find it and the member's score (None on a watchlist)."""

    line: int
    title: str
    year: int | None
    imdb_id: str | None
    score: int | None

    @property
    def label(self) -> str:
        return f"{self.title} ({self.year})" if self.year else self.title


@dataclass
class HistoryFile:
    """What an upload holds: its kind (for the preview: an English name marked with `N_`,
    translated where shown) and its rated and watchlist rows."""

    kind: str
    ratings: list[HistoryRow] = field(default_factory=list)
    watchlist: list[HistoryRow] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.ratings) + len(self.watchlist)


class _Budget:
    """What one upload may still cost: rows, decompressed bytes and time."""

    def __init__(self, rows: int, seconds: float) -> None:
        self.max_rows = rows
        self.rows = 0
        self.unzipped = 0
        self.deadline = time.monotonic() + seconds

    def row(self, name: str) -> None:
        """Count one row read (any row: blank, skipped or kept)."""
        self.rows += 1
        if self.rows > self.max_rows:
            raise ImportFileError(_("{file} has more than {n} rows; split it into smaller "
                                    "files.").format(file=name, n=number(self.max_rows)))
        if not self.rows % 256:
            self.clock()

    def expanded(self, size: int) -> None:
        """Count `size` more bytes decompressed from a zip."""
        self.unzipped += size
        if self.unzipped > MAX_UNZIPPED:
            raise _too_large()
        self.clock()

    def clock(self) -> None:
        if time.monotonic() > self.deadline:
            raise ImportFileError(_("That file takes too long to read; upload Letterboxd's "
                                    "ratings.csv or a smaller file."))


def read_history(filename: str, data: bytes, *, max_rows: int = MAX_ROWS,
                 seconds: float = READ_SECONDS) -> HistoryFile:
    """The history in an uploaded file (CSV or Letterboxd zip); ImportFileError if unusable.
    CPU-bound (up to `seconds`): call it off the event loop."""
    budget = _Budget(max_rows, seconds)
    if data.startswith(b"PK\x03\x04"):
        return _read_zip(data, budget)
    kind, ratings, watchlist = _read_csv(filename, data, budget)
    return HistoryFile(kind, ratings, watchlist)


def _read_zip(data: bytes, budget: _Budget) -> HistoryFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        budget.clock()
        members = {info.filename: info for info in archive.infolist()
                   if info.filename in ("ratings.csv", "watchlist.csv")}
        if not members:
            raise ImportFileError(_("That zip holds no ratings.csv or watchlist.csv: upload "
                                    "Letterboxd's export zip or one of its CSV files."))
        if any(info.compress_type not in _ZIP_METHODS for info in members.values()):
            raise ImportFileError(_("That zip is compressed in a way I do not read; upload "
                                    "Letterboxd's export zip as it came, or its ratings.csv."))
        if sum(info.file_size for info in members.values()) > MAX_UNZIPPED:  # as declared
            raise _too_large()
        history = HistoryFile(LETTERBOXD_EXPORT)
        for name in ("ratings.csv", "watchlist.csv"):
            if name not in members:
                continue
            kind, ratings, watchlist = _read_csv(name, _unzip(archive, members[name], budget),
                                                 budget)
            if kind not in (LETTERBOXD_RATINGS, LETTERBOXD_WATCHLIST):
                raise ImportFileError(_("{file} in that zip is not a Letterboxd file.").format(
                    file=name))
            history.ratings += ratings
            history.watchlist += watchlist
        return history
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError):
        raise ImportFileError(_("That zip file is damaged or encrypted; upload the export "
                                "again.")) from None


def _too_large() -> ImportFileError:
    return ImportFileError(_("That zip's CSV files are too large to import (over {size} MB "
                             "unzipped); upload ratings.csv on its own.").format(
        size=number(MAX_UNZIPPED // 1_048_576)))


def _unzip(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget) -> bytes:
    """A member's bytes, decompressed a chunk at a time under the budget's running cap."""
    chunks: list[bytes] = []
    with archive.open(info) as member:
        while chunk := member.read(_CHUNK):
            budget.expanded(len(chunk))
            chunks.append(chunk)
    return b"".join(chunks)


def _text(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(_("{file} is not a UTF-8 text (CSV) file.").format(
            file=name)) from None


def _read_csv(name: str, data: bytes,
              budget: _Budget) -> tuple[str, list[HistoryRow], list[HistoryRow]]:
    name = _shown(name)
    # strict: a quote inside a quoted cell must be doubled; and no cell of these formats runs
    # over a line, so a record that does (an unclosed quote swallowing the lines after it) is
    # refused with the line it starts on, never read as one long title.
    reader = csv.reader(io.StringIO(_text(name, data), newline=""), strict=True)
    line = 0  # the last line read
    try:
        header = next(reader, None)
        _one_line(name, line, reader.line_num)
        line = reader.line_num
        if header is None or not any(cell.strip() for cell in header[:MAX_COLUMNS]):
            raise ImportFileError(_("{file} is empty.").format(file=name))
        if len(header) > MAX_COLUMNS:
            raise ImportFileError(_at(name, 1, _too_many_columns()))
        columns = {cell.strip().lower(): i for i, cell in enumerate(header)}
        kind, parse = _detect(name, columns)
        ratings: list[HistoryRow] = []
        watchlist: list[HistoryRow] = []
        for row in reader:
            budget.row(name)
            _one_line(name, line, reader.line_num)
            line = reader.line_num
            if len(row) > MAX_COLUMNS:
                raise ImportFileError(_at(name, line, _too_many_columns()))
            if not any(cell.strip() for cell in row):
                continue
            try:
                item = parse(row, columns, line)
            except DomainError as error:
                raise ImportFileError(_at(name, line, str(error))) from None
            except (IndexError, ValueError):
                raise ImportFileError(_at(name, line, _("a column is missing."))) from None
            if item is not None:
                (watchlist if item.score is None else ratings).append(item)
    except csv.Error as error:
        raise ImportFileError(_at(name, line + 1, _(
            'this line is not valid CSV ({error}); a stray quote (") is the usual '
            "cause.").format(error=error))) from None
    return kind, ratings, watchlist


def _one_line(name: str, before: int, after: int) -> None:
    """Refuse a record that ran from line `before + 1` over to line `after`."""
    if after > before + 1:
        raise ImportFileError(_at(name, before + 1, _(
            'a quote (") opens a value that does not end on that line; remove the stray '
            "quote or close it.")))


def _at(name: str, line: int, problem: str) -> str:
    """A row's problem, naming the file and the line: "ratings.csv, line 7: ..."."""
    return _("{file}, line {line}: {problem}").format(file=name, line=line, problem=problem)


def _too_many_columns() -> str:
    return _("more than {n} columns.").format(n=number(MAX_COLUMNS))


def _shown(name: str) -> str:
    """The file name as a message may show it: printable, short, no Markdown."""
    clean = re.sub(r"[^\w. ()-]", "_", name.strip() or "file")
    return clean if len(clean) <= 60 else clean[:59] + "…"


RowParser = Callable[[list[str], dict[str, int], int], "HistoryRow | None"]


def _detect(name: str, columns: dict[str, int]) -> tuple[str, RowParser]:
    has = columns.keys().__contains__
    if all(map(has, ("name", "year", "letterboxd uri"))):
        if has("rating"):
            return LETTERBOXD_RATINGS, _letterboxd
        return LETTERBOXD_WATCHLIST, _letterboxd
    if has("const") and has("title"):
        return (IMDB_RATINGS if has("your rating") else IMDB_WATCHLIST), _imdb
    if has("title") and has("year"):
        if has("score"):
            return BOT_RATINGS, _own
        if has("added_at"):
            return BOT_WATCHLIST, _own
    raise ImportFileError(_("{file} is not a file I can read: upload Letterboxd's ratings.csv, "
                            "watchlist.csv or export zip, IMDb's ratings export, or this bot's "
                            "/export file.").format(file=name))


def _cell(row: list[str], columns: dict[str, int], name: str) -> str:
    index = columns.get(name)
    return row[index].strip() if index is not None and index < len(row) else ""


def _year(text: str) -> int | None:
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or not is_valid_year(int(text)):
        raise DomainError(_("“{text}” is not a year.").format(text=text[:12]))
    return int(text)


def _title(text: str) -> str:
    if not text:
        raise DomainError(_("the title is empty."))
    if text.startswith(_FORMULA_GUARD):
        text = text[1:]
    return text[:300]


def _letterboxd(row: list[str], columns: dict[str, int], line: int) -> HistoryRow | None:
    score = None
    if "rating" in columns:
        raw = _cell(row, columns, "rating")
        if not raw:  # logged but not rated: nothing to import
            return None
        score = from_half_stars(raw)
    return HistoryRow(line, _title(_cell(row, columns, "name")),
                      _year(_cell(row, columns, "year")), None, score)


def _imdb(row: list[str], columns: dict[str, int], line: int) -> HistoryRow | None:
    kind = _cell(row, columns, "title type").replace(" ", "").lower()
    if kind and kind not in _IMDB_MOVIE_TYPES:  # a series, an episode, a game: not a movie
        return None
    const = _cell(row, columns, "const")
    if not _IMDB_ID.fullmatch(const):
        raise DomainError(_("“{text}” is not an IMDb id (tt followed by digits).").format(
            text=const[:14]))
    score = None
    if "your rating" in columns:
        raw = _cell(row, columns, "your rating")
        score = check_score(int(raw)) if raw.isascii() and raw.isdigit() else check_score(raw)
    return HistoryRow(line, _title(_cell(row, columns, "title")),
                      _year(_cell(row, columns, "year")), const, score)


def _own(row: list[str], columns: dict[str, int], line: int) -> HistoryRow:
    score = None
    if "score" in columns:
        raw = _cell(row, columns, "score")
        score = check_score(int(raw)) if raw.isascii() and raw.isdigit() else check_score(raw)
    return HistoryRow(line, _title(_cell(row, columns, "title")),
                      _year(_cell(row, columns, "year")), None, score)

