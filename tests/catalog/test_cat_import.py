"""Importing files into the catalog: every format, idempotency, the CLI, the starter catalog."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bot.catalog import starter
from bot.catalog.cli import register
from bot.catalog.formats import count_rows, parse_file
from bot.catalog.importer import import_movies
from bot.catalog.progress import Progress
from bot.catalog.starter import ensure_starter_catalog
from bot.config import Settings
from bot.storage import Storage

MOVIELENS = """\
movieId,title,genres
1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy
2571,"Matrix, The (1999)",Action|Sci-Fi|Thriller
oops,Broken (2000),Drama
4226,Memento (2000),Mystery|Thriller
"""
FLAGS = "|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0"
U_ITEM = (
    "1|Toy Story (1995)|01-Jan-1995||http://x" + FLAGS + "\n"
    "267|unknown||||1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
    "50|Star Wars (1977)|01-Jan-1977||http://x" + FLAGS + "\n"
    "51|Legends of the Fall (1994)|01-Jan-1994||http://x|0\n"
)
PLAIN = """\
title,year,genres
Heat,1995,Crime|Thriller
"Matrix, The",1999,Action
Bad,year,Drama
Amélie,2001,Comedy|Romance
"""


@pytest.fixture
async def store(tmp_path):
    storage = await Storage.open(tmp_path / "bot.sqlite3")
    yield storage
    await storage.close()


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(("name", "text", "encoding", "added", "bad_lines"), [
    ("movies.csv", MOVIELENS, "utf-8", 3, [4]),
    ("u.item", U_ITEM, "latin-1", 2, [2, 4]),
    ("mine.csv", PLAIN, "utf-8", 3, [4]),
])
async def test_each_format_imports_once(store, tmp_path, name, text, encoding, added, bad_lines):
    path = write(tmp_path, name, text, encoding)
    calls: list[int] = []
    summary = await import_movies(store, parse_file(path), calls.append, batch_size=2)
    assert summary.added == added
    assert summary.skipped_existing == 0
    assert [line for line, _ in summary.bad_rows] == bad_lines
    # The progress bar counts data rows: a header row is not one (u.item has none).
    rows = len(text.splitlines()) - (0 if name == "u.item" else 1)
    assert calls and calls[-1] == rows
    assert count_rows(path) == rows
    assert await store.catalog_count() == added

    again = await import_movies(store, parse_file(path))
    assert (again.added, again.skipped_existing) == (0, added)
    assert await store.catalog_count() == added


async def test_formats_overlap_without_duplicates(store, tmp_path):
    await import_movies(store, parse_file(write(tmp_path, "mine.csv", PLAIN)))
    summary = await import_movies(store, parse_file(write(tmp_path, "movies.csv", MOVIELENS)))
    # "The Matrix (1999)" was already there from the plain CSV: its MovieLens id is filled in.
    assert (summary.added, summary.skipped_existing, summary.ids_filled) == (2, 1, 1)
    matrix = await store.resolve_movie(1, "The Matrix (1999)")
    assert matrix.movielens_id == 2571
    found = await store.search_movies(1, "amelie")
    assert [m.label for m in found] == ["Amélie (2001)"]


async def test_starter_catalog_loads_once(store, monkeypatch):
    text = starter.read_starter_csv()
    if text is None:  # the packaged file is written separately; fall back to a fixture
        monkeypatch.setattr(starter, "read_starter_csv", lambda: PLAIN)
    added = await ensure_starter_catalog(store)
    assert added > 0
    assert await store.catalog_count() == added
    assert await ensure_starter_catalog(store) == 0  # not empty any more: nothing to do
    assert await store.catalog_count() == added


async def test_packaged_starter_catalog_is_clean(store):
    text = starter.read_starter_csv()
    if text is None:
        pytest.skip("bot/catalog/starter_movies.csv not written yet")
    from bot.catalog.formats import BadRow, parse_plain_csv

    parsed = list(parse_plain_csv(text.splitlines(keepends=True)))
    assert [p for p in parsed if isinstance(p, BadRow)] == []
    assert len(parsed) >= 100


async def test_starter_catalog_is_a_step_of_its_own_not_an_empty_catalog(store, monkeypatch):
    # An import before the first start used to stop the starter catalog from ever loading.
    await store.add_movie("Heat", 1995, [])
    monkeypatch.setattr(starter, "read_starter_csv", lambda: PLAIN)
    assert await ensure_starter_catalog(store) == 2  # Heat was there already
    assert await store.catalog_count() == 3
    assert await store.setup_step_done(starter.STARTER_STEP)
    assert await ensure_starter_catalog(store) == 0  # done once, never again


def parse_cli(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot")
    register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


async def test_cli_import_prints_summary_and_bad_rows(tmp_path, capsys):
    settings = Settings(database=tmp_path / "cli.sqlite3")
    path = write(tmp_path, "movies.csv", MOVIELENS)
    args = parse_cli(["catalog", "import", str(path)])
    assert await args.func(args, settings) == 0
    out, err = capsys.readouterr()
    assert out.strip() == f"Imported 3 movies (0 already present, 1 bad row) from {path}"
    assert "line 4: movieId 'oops' is not a whole number" in err
    assert await args.func(args, settings) == 0
    out, _ = capsys.readouterr()
    assert out.strip() == f"Imported 0 movies (3 already present, 1 bad row) from {path}"


async def test_cli_forced_format_and_errors(tmp_path, capsys):
    settings = Settings(database=tmp_path / "cli.sqlite3")
    path = write(tmp_path, "movies.csv", MOVIELENS)
    args = parse_cli(["catalog", "import", "--format", "ml-100k", str(path)])
    assert await args.func(args, settings) == 1  # nothing usable: wrong format
    out, _err = capsys.readouterr()
    assert "Imported 0 movies (0 already present, 5 bad rows)" in out
    args = parse_cli(["catalog", "import", str(tmp_path / "missing.csv")])
    assert await args.func(args, settings) == 1
    assert "Cannot read" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_cli(["catalog", "import", "--format", "xml", str(path)])
    with pytest.raises(SystemExit):
        parse_cli(["catalog"])


def test_progress_bar_is_quiet_off_a_terminal(capsys):
    import io

    stream = io.StringIO()
    bar = Progress(100, "Importing", stream=stream)
    for done in range(0, 101, 10):
        bar.update(done)
    assert stream.getvalue() == ""
    bar.close()
    bar.close()
    assert stream.getvalue() == "Importing [" + "#" * 30 + "] 100% 100/100 rows\n"

    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty = Tty()
    bar = Progress(2048, "Downloading", unit="bytes", stream=tty, interval=0)
    bar.update(1024)
    bar.update(2048)
    bar.close()
    assert tty.getvalue().startswith("\rDownloading [")
    assert "50%" in tty.getvalue() and tty.getvalue().endswith("2.0 KB/2.0 KB\n")
