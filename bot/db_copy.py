"""`python -m bot db copy --to postgresql://...`: move an install from SQLite to PostgreSQL.

The SQLite database (`--from`, default the configured one) is first brought to the newest
schema (as the bot's start would), then every table is copied in one PostgreSQL transaction
into a freshly migrated, empty database: movies keep their ids (the identity sequence is set
past the largest after), ratings keep their timestamps, the per-guild ratings versions are
copied as they are (not recounted by the triggers, so saved models stay current and the
generation guard keeps its meaning), model and prior blobs byte for byte. Rows go through
binary COPY in chunks with a progress bar per table. The source is read in one read
transaction (a consistent snapshot, even if the bot writes to it meanwhile) and each table's
row count is compared on both sides *before* the PostgreSQL transaction commits: a mismatch
rolls everything back. All or nothing: any failure, a mismatch included, is one line on stderr
(exit 1) and leaves the destination as empty as it was.

Content the SQLite file accepted never fails the copy: text PostgreSQL cannot hold is cleaned
on the way (`_storable`: NUL and other control characters removed, as storage now does when
text comes in; bytes that are not UTF-8 become U+FFFD).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.domain.plural import plural
from bot.domain.stored_text import clean_text

if TYPE_CHECKING:
    from bot.service.member_data import MemberTable

CHUNK = 20_000  # rows per COPY batch


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    convert: dict[str, Callable[[Any], Any]] | None = None  # SQLite value -> PostgreSQL


def _bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _bytes(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


# Every table of the schema but the members' rows, which the services register
# (`bot.service.member_data`: `copy_tables` puts them in), parents before children (foreign
# keys): the movies first, the member tables (which refer to them) right after.
SCHEMA_TABLES: tuple[Table, ...] = (
    Table("movies", ("id", "title", "year", "genres", "guild_id", "movielens_id", "imdb_id",
                     "tmdb_id", "norm_title", "created_at", "search_text", "skeleton")),
    Table("guild_versions", ("guild_id", "ratings_version", "ratings_count",
                             "ratings_sum")),
    Table("guild_settings", ("guild_id", "add_movie_permission", "ratings_visible",
                             "min_ratings_for_personal", "features", "regularization",
                             "left_at", "timezone", "region", "services",
                             "reminder_minutes", "language"), {"ratings_visible": _bool}),
    Table("model_state", ("guild_id", "blob", "saved_at", "ratings_version", "settings_key"),
          {"blob": _bytes}),
    Table("prior_state", ("id", "blob", "source", "id_kind", "built_at", "linked_at",
                          "dataset_movies", "dataset_users", "dataset_ratings"),
          {"blob": _bytes}),
    Table("prior_movies", ("key", "title", "year", "imdb_id", "tmdb_id", "n_ratings", "stored"),
          {"stored": _bool}),
    Table("prior_links", ("movie_id", "key", "method")),
    Table("setup_steps", ("name", "done_at")),
    Table("movie_details", ("movie_id", "tmdb_id", "fetched_at", "poster_url", "overview",
                            "runtime", "original_title", "collection_id", "original_language",
                            "certifications", "providers")),
    Table("guild_names", ("guild_id", "name", "member_count", "updated_at")),
    Table("media_library", ("server", "item_id", "title", "norm_title", "year", "tmdb_id",
                            "imdb_id", "url", "seen_at")),
    Table("seerr_requests", ("tmdb_id", "seerr_user_id", "request_id", "status",
                             "requested_at")),
    Table("movie_nights", ("guild_id", "id", "channel_id", "message_id", "poll_message_id",
                           "candidates", "personal", "closes_at", "event_at",
                           "event_channel_id", "event_location", "language")),
    Table("movie_night_events", ("guild_id", "event_id", "movie_id", "channel_id", "starts_at",
                                 "remind_at")),
    Table("movie_night_joins", ("guild_id", "id", "channel_id", "message_id", "candidates",
                                "hours", "expires_at", "event_at", "event_channel_id",
                                "event_location", "allowed", "language")),
)


def copy_tables(member_tables: Sequence[MemberTable]) -> tuple[Table, ...]:
    """Every table `db copy` copies, in order: the schema's, with the registered member
    tables right after the movies."""
    movies, *rest = SCHEMA_TABLES
    return (movies, *(Table(t.name, t.columns) for t in member_tables), *rest)


# SQLite-only tables: the FTS5 index PostgreSQL replaces with pg_trgm.
SQLITE_ONLY = ("movies_fts",)


class CopyError(Exception):
    """The copy cannot be done; the message is one line."""


class CountMismatch(CopyError):
    """A table's copied rows differ from the source's; the copy was rolled back."""

    def __init__(self, counts: list[TableCount]) -> None:
        bad = ", ".join(f"{c.table} ({c.source} in the source, {c.copied} copied)"
                        for c in counts if not c.ok)
        super().__init__(f"row counts differ in {bad}; nothing was copied")
        self.counts = counts


@dataclass(frozen=True)
class TableCount:
    table: str
    source: int
    copied: int

    @property
    def ok(self) -> bool:
        return self.source == self.copied


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `db copy` to the bot's CLI."""
    db = subparsers.add_parser("db", help="database tools: copy an SQLite install to "
                                          "PostgreSQL")
    commands = db.add_subparsers(dest="db_command", metavar="{copy}")
    commands.required = True
    copy = commands.add_parser(
        "copy", help="copy the SQLite database into an empty PostgreSQL database "
                     "(ids kept, counts verified)")
    copy.add_argument("--to", required=True, metavar="POSTGRESQL_URL",
                      help="the destination, e.g. postgresql://bot:secret@db:5432/moviebot "
                           "(an empty database; its schema is created)")
    copy.add_argument("--from", dest="source", type=Path, metavar="PATH",
                      help="the SQLite file to copy (default: the configured database)")
    copy.set_defaults(func=run_copy)


async def run_copy(args: argparse.Namespace, settings: Settings) -> int:
    source = Path(args.source) if args.source else Path(settings.database)
    try:
        counts = await copy_database(source, args.to, stream=sys.stderr, settings=settings)
    except CopyError as error:
        if isinstance(error, CountMismatch):
            _print_counts(error.counts)
        print(f"db copy failed: {error}", file=sys.stderr)
        return 1
    _print_counts(counts)
    from bot.storage import display_url

    rows = plural(sum(c.copied for c in counts), "row")
    print(f"Copied {source} to {display_url(args.to)}: {rows} in {plural(len(counts), 'table')}"
          ". Set [storage] url (or MOVIEBOT_DATABASE_URL) to use it.")
    return 0


def _print_counts(counts: list[TableCount]) -> None:
    width = max(len(c.table) for c in counts)
    for count in counts:
        mark = "ok" if count.ok else "MISMATCH"
        print(f"  {count.table:<{width}}  {count.source:>10} -> {count.copied:>10}  {mark}")


def _check_source(source: Path) -> None:
    if not source.is_file():
        raise CopyError(f"no SQLite database at {source.expanduser().resolve()}")


def _sqlite_tables(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                        "AND name NOT LIKE 'sqlite_%'").fetchall()
    return {r[0] for r in rows if not str(r[0]).startswith(SQLITE_ONLY)}


async def copy_database(source: Path, url: str, *, stream: Any = None, chunk: int = CHUNK,
                        settings: Settings | None = None) -> list[TableCount]:
    """Copy the SQLite database at `source` into the empty PostgreSQL database at `url`;
    returns the verification counts. CopyError (one line) when it cannot be done. The member
    tables are the ones the services register (built with `settings`; nothing starts)."""
    import asyncpg

    from bot.catalog.progress import Progress
    from bot.service.app import member_tables
    from bot.storage import (
        PostgresStorage,
        Storage,
        StorageError,
        display_url,
        is_postgres_url,
    )

    if not is_postgres_url(url):
        raise CopyError(f"--to must be a postgresql:// URL, got {url!r}")
    _check_source(source)
    where = display_url(url)
    try:
        # The newest schema on the source first (as a start of the bot would do).
        async with await Storage.open(source) as storage:
            tables = copy_tables(member_tables(storage, settings))
        destination = await PostgresStorage.open(url)
    except StorageError as error:
        raise CopyError(str(error)) from error
    try:
        lite = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        lite.text_factory = _decoded
        try:
            unknown = _sqlite_tables(lite) - {t.name for t in tables}
            if unknown:
                raise CopyError(f"{source} has tables this version cannot copy: "
                                f"{', '.join(sorted(unknown))}")
            async with destination.pool.acquire() as conn:
                filled = [t.name for t in tables
                          if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {t.name})")]
                if filled:
                    raise CopyError(f"{where} is not empty ({', '.join(filled)} have rows): "
                                    "copy into a new, empty database")
                lite.execute("BEGIN")  # one read snapshot for every table and count
                async with conn.transaction():
                    # The copied ratings carry their guilds' versions: no trigger recounts.
                    await conn.execute("ALTER TABLE ratings DISABLE TRIGGER USER")
                    for table in tables:
                        await _copy_table(lite, conn, table, chunk, Progress, stream)
                    await conn.execute("ALTER TABLE ratings ENABLE TRIGGER USER")
                    await conn.execute(
                        "SELECT setval(pg_get_serial_sequence('movies', 'id'), "
                        "COALESCE((SELECT max(id) FROM movies), 0) + 1, false)")
                    counts = []
                    for table in tables:
                        source_rows = lite.execute(
                            f"SELECT count(*) FROM {table.name}").fetchone()
                        copied = await conn.fetchval(f"SELECT count(*) FROM {table.name}")
                        counts.append(TableCount(table.name, int(source_rows[0]), int(copied)))
                    if not all(c.ok for c in counts):
                        raise CountMismatch(counts)  # leaving the block rolls it all back
        finally:
            lite.close()
    except (sqlite3.Error, asyncpg.PostgresError, OSError) as error:
        raise CopyError(f"{type(error).__name__}: {str(error).splitlines()[0]}") from error
    finally:
        await destination.close()
    return counts


def _decoded(raw: bytes) -> str:
    """SQLite text as str: SQLite keeps any bytes in a TEXT value; invalid UTF-8 is replaced."""
    return raw.decode("utf-8", "replace")


def _storable(value: Any) -> Any:
    """A value PostgreSQL accepts: text without the control characters it refuses (NUL) or
    that storage no longer lets in; overviews keep their newlines."""
    return clean_text(value, newlines=True) if isinstance(value, str) else value


async def _copy_table(lite: sqlite3.Connection, conn: Any, table: Table, chunk: int,
                      progress_type: Any, stream: Any) -> None:
    total = int(lite.execute(f"SELECT count(*) FROM {table.name}").fetchone()[0])
    progress = progress_type(total, f"copying {table.name}", stream=stream)
    text = {r[0] for r in await conn.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = "
        "current_schema() AND table_name = $1 AND data_type IN ('text', 'character varying')",
        table.name)}
    converters: Sequence[Callable[[Any], Any] | None] = [
        (table.convert or {}).get(c) or (_storable if c in text else None)
        for c in table.columns]
    cursor = lite.execute(f"SELECT {', '.join(table.columns)} FROM {table.name}")
    done = 0
    while rows := cursor.fetchmany(chunk):
        if any(converters):
            rows = [tuple(f(v) if f else v for f, v in zip(converters, row, strict=True))
                    for row in rows]
        await conn.copy_records_to_table(table.name, records=rows, columns=list(table.columns))
        done += len(rows)
        progress.update(done)
    progress.close()
