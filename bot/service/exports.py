"""`/export`'s files: a member's ratings, watchlist, hidden picks and linked media accounts
as UTF-8 CSV.

`/import` reads the ratings and watchlist files back (`bot.service.import_formats`). Every cell
that a spreadsheet would run as a formula is prefixed with `'` (CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, datetime

from bot.domain.media import MediaLink, SeenMovie
from bot.domain.models import Movie, NotInterested, RatedMovie, WatchlistEntry

CSV_COLUMNS = ("title", "year", "genres", "score", "updated_at")
WATCHLIST_COLUMNS = ("title", "year", "genres", "added_at")
NOT_INTERESTED_COLUMNS = ("title", "year", "genres", "hidden_at")
MEDIA_COLUMNS = ("service", "account", "title", "year", "rating", "when")
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """A CSV cell that spreadsheets will not run as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


def _movie_cells(movie: Movie) -> list[str]:
    return [csv_cell(movie.title), csv_cell(movie.year), csv_cell("|".join(movie.genres))]


def _csv(header: tuple[str, ...], rows: Iterable[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def ratings_csv(rows: Iterable[RatedMovie]) -> bytes:
    """The member's ratings (RatedMovie rows) as UTF-8 CSV with a header line."""
    return _csv(CSV_COLUMNS, (
        [*_movie_cells(row.movie), csv_cell(row.score),
         csv_cell(row.updated_at.isoformat(timespec="seconds"))] for row in rows))


def watchlist_csv(rows: Iterable[WatchlistEntry]) -> bytes:
    """The member's watchlist as UTF-8 CSV with a header line (what /import reads back)."""
    return _csv(WATCHLIST_COLUMNS, (
        [*_movie_cells(row.movie), csv_cell(row.added_at.isoformat(timespec="seconds"))]
        for row in rows))


def not_interested_csv(rows: Iterable[NotInterested]) -> bytes:
    """The movies the member hid from their picks, as UTF-8 CSV with a header line."""
    return _csv(NOT_INTERESTED_COLUMNS, (
        [*_movie_cells(row.movie), csv_cell(row.since.isoformat(timespec="seconds"))]
        for row in rows))


def media_csv(links: Iterable[MediaLink], seen: Iterable[SeenMovie]) -> bytes:
    """The member's linked accounts (never their tokens) and the history synced from them:
    one row per account (service, account, when it last synced), then one per watched movie
    (service, title, year, the rating there, when watched)."""
    def when(value: datetime | None) -> str:
        return value.isoformat(timespec="seconds") if value else ""

    accounts = ([csv_cell(link.service), csv_cell(link.account_name), "", "", "",
                 when(datetime.fromtimestamp(link.synced_at, UTC) if link.synced_at else None)]
                for link in links)
    movies = ([csv_cell(row.service), "", csv_cell(row.movie.title), csv_cell(row.movie.year),
               csv_cell(row.rating), when(row.watched_at)] for row in seen)
    return _csv(MEDIA_COLUMNS, [*accounts, *movies])


NOTIFY_COLUMNS = ("what", "movie", "at")


def notify_csv(since: float | None, sent: Iterable[tuple[str, float]]) -> bytes:
    """The member's /notify choice (a "notify on" row with its time, when on) and the "now
    available" notices sent ("Title (Year)", when) as UTF-8 CSV."""
    def at(epoch: float) -> str:
        return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")

    rows = [["notify on", "", at(since)]] if since is not None else []
    rows += [["notified", csv_cell(label), at(when)] for label, when in sent]
    return _csv(NOTIFY_COLUMNS, rows)
