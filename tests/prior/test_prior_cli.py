"""`python -m bot prior build|status|remove` on generated datasets: what is stored, how it
links, both import orders, and failures as one line."""

from __future__ import annotations

import argparse
import logging

import numpy as np
import pytest
from prior_dataset import CATALOG, catalog_rows, expected_links, movies_csv, write_folder, write_zip

from bot.__main__ import build_parser
from bot.catalog.formats import ParsedRow, parse_file
from bot.catalog.importer import import_movies
from bot.config import Settings
from bot.storage import MovieRow, Storage
from recommender.prior import TastePrior

LINKED = len(expected_links())


def parse(argv: list[str]) -> argparse.Namespace:
    return build_parser().parse_args(argv)


async def run(settings: Settings, *argv: str) -> int:
    args = parse(list(argv))
    return await args.func(args, settings)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(database=tmp_path / "db.sqlite3")


async def seed_catalog(settings: Settings) -> None:
    async with await Storage.open(settings.database) as storage:
        await import_movies(storage, [_parsed(i, row) for i, row in enumerate(catalog_rows())])


def _parsed(i: int, row: MovieRow) -> ParsedRow:
    return ParsedRow(i + 1, row)


async def linked_titles(storage: Storage) -> dict[tuple[str, int | None], int]:
    ids, keys = await storage.prior_links()
    movies = await storage.get_movies(None, ids.tolist())
    return {(movies[i].title, movies[i].year): k for i, k in zip(ids.tolist(), keys.tolist(),
                                                                strict=True)}


@pytest.mark.parametrize("kind", ["folder", "zip"])
async def test_build_stores_only_linked_movies_and_reports(settings, tmp_path, capsys, kind):
    await seed_catalog(settings)
    path = write_folder(tmp_path) if kind == "folder" else write_zip(tmp_path)
    assert await run(settings, "prior", "build", str(path)) == 0
    out, err = capsys.readouterr()
    assert "research only" in out and "Harper" in out  # the licence terms
    assert f"Taste prior: {LINKED} of {len(CATALOG)} catalog movies linked" in out
    assert "Reading ratings.csv" in err and "Learning the prior" in err

    async with await Storage.open(settings.database) as storage:
        assert await linked_titles(storage) == expected_links()
        prior = TastePrior.from_bytes(await storage.load_prior())
        assert sorted(prior.keys.tolist()) == sorted(expected_links().values())
        assert prior.factors.dtype == np.float32
        ids, keys = await storage.prior_links()
        assert ids.dtype == np.int64 and keys.dtype == np.int64
        guild_prior = prior.for_movies(ids, keys)
        assert guild_prior.movie_ids.tolist() == sorted(ids.tolist())
        status = await storage.prior_status()
        assert status.id_kind == "movielens" and status.source.startswith("ml-test")
        assert (status.dataset_movies, status.stored_movies, status.linked_movies) == (
            16, LINKED, LINKED)
        assert 0 < status.linked_ratings < status.dataset_ratings

    assert await run(settings, "prior", "status") == 0
    out = capsys.readouterr().out
    assert "Taste prior: installed" in out
    assert f"linked:   {LINKED} of {len(CATALOG)} catalog movies" in out


async def test_catalog_imported_after_the_prior_is_linked(settings, tmp_path, capsys):
    # A catalog with only two movies: the prior keeps just those unless --all-movies.
    async with await Storage.open(settings.database) as storage:
        await import_movies(storage, [_parsed(0, catalog_rows()[0])])
    folder = write_folder(tmp_path)
    assert await run(settings, "prior", "build", "--all-movies", str(folder)) == 0
    capsys.readouterr()
    async with await Storage.open(settings.database) as storage:
        assert await linked_titles(storage) == {("Toy Story", 1995): 1}
        assert len(TastePrior.from_bytes(await storage.load_prior())) == 16
    # Now import the rest through the catalog CLI: the import re-links.
    csv = tmp_path / "mine.csv"
    csv.write_text("title,year\n" + "".join(
        f'"{t}",{y}\n' for t, y, _, _ in CATALOG[1:] if y is not None))
    assert await run(settings, "catalog", "import", str(csv)) == 0
    out = capsys.readouterr().out
    assert "Taste prior: " in out
    async with await Storage.open(settings.database) as storage:
        links = await linked_titles(storage)
    # Everything but the IMDb-only link (this plain CSV carries no IMDb ids).
    assert links == {k: v for k, v in expected_links().items() if k[0] != "A Localised Title"}


async def test_movies_left_out_of_a_restricted_prior_are_reported(settings, tmp_path, capsys):
    async with await Storage.open(settings.database) as storage:
        await import_movies(storage, [_parsed(0, catalog_rows()[0])])
    assert await run(settings, "prior", "build", str(write_folder(tmp_path))) == 0
    capsys.readouterr()
    async with await Storage.open(settings.database) as storage:
        summary = await import_movies(storage, [_parsed(0, catalog_rows()[1])])
        assert summary.prior is not None and summary.prior.linked == 1
        assert summary.prior.unstored == 1  # The Matrix matches, but was not stored
        assert "prior build` again" in summary.line("x")
        assert await linked_titles(storage) == {("Toy Story", 1995): 1}


async def test_movielens_catalog_links_by_id(settings, tmp_path, capsys):
    folder = write_folder(tmp_path)
    movies = tmp_path / "movies.csv"
    movies.write_text(movies_csv())
    async with await Storage.open(settings.database) as storage:
        await import_movies(storage, parse_file(movies))
    assert await run(settings, "prior", "build", str(folder)) == 0
    out = capsys.readouterr().out
    # The two "Emma (1996)" are one catalog movie (same title and year): 15 movies, each
    # linked by its MovieLens id, even the ambiguous title.
    assert "Taste prior: 15 of 15 catalog movies linked" in out and "15 by movielens" in out
    async with await Storage.open(settings.database) as storage:
        status = await storage.prior_status()
        ids, keys = await storage.prior_links()
        movies_by_id = await storage.get_movies(None, ids.tolist())
    assert all(movies_by_id[i].movielens_id == k for i, k in zip(ids.tolist(), keys.tolist(),
                                                                  strict=True))
    assert status.linked_movies == await _catalog_count(settings) == len(ids)


async def _catalog_count(settings: Settings) -> int:
    async with await Storage.open(settings.database) as storage:
        return await storage.catalog_count()


async def test_empty_catalog_gets_the_starter_catalog_first(settings, tmp_path, capsys,
                                                            with_starter):
    assert await run(settings, "prior", "build", str(write_folder(tmp_path))) == 0
    out = capsys.readouterr().out
    async with await Storage.open(settings.database) as storage:
        assert await storage.catalog_count() > 400  # the starter catalog
        links = await linked_titles(storage)
    assert links[("Toy Story", 1995)] == 1 and links[("The Matrix", 1999)] == 2
    assert "catalog movies linked" in out


async def test_rebuild_replaces_and_remove_deletes(settings, tmp_path, capsys):
    await seed_catalog(settings)
    folder = write_folder(tmp_path)
    assert await run(settings, "prior", "build", str(folder)) == 0
    assert await run(settings, "prior", "build", str(folder)) == 0
    async with await Storage.open(settings.database) as storage:
        assert await linked_titles(storage) == expected_links()
    assert await run(settings, "prior", "remove") == 0
    assert await run(settings, "prior", "status") == 0
    out = capsys.readouterr().out
    assert "Removed the taste prior." in out and "No taste prior installed" in out
    async with await Storage.open(settings.database) as storage:
        assert await storage.load_prior() is None
        ids, keys = await storage.prior_links()
        assert ids.size == keys.size == 0
        assert await storage.prior_status() is None


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p / "nowhere", "does not exist"),
    (lambda p: p, "has no MovieLens ratings"),
])
async def test_unusable_path_is_one_line(settings, tmp_path, capsys, make, message):
    await seed_catalog(settings)
    path = make(tmp_path / "data")
    if path.name == "data":
        path.mkdir()
    assert await run(settings, "prior", "build", str(path)) == 1
    err = capsys.readouterr().err
    assert message in err and err.startswith("Cannot build the taste prior")
    assert err.count("\n") == 1


async def test_nothing_to_link_is_one_line_unless_all_movies(settings, tmp_path, capsys):
    async with await Storage.open(settings.database) as storage:
        await storage.add_movies_bulk(catalog_rows()[-1:])  # "Not In The Dataset"
    folder = write_folder(tmp_path)
    assert await run(settings, "prior", "build", str(folder)) == 1
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if not line.startswith("Reading")]
    assert len(lines) == 1 and "none of the 1 catalog movie matches" in lines[0]
    assert await run(settings, "prior", "build", "--all-movies", str(folder)) == 0
    async with await Storage.open(settings.database) as storage:
        assert (await storage.prior_status()).stored_movies == 16


def test_main_runs_prior_status_with_the_global_config(tmp_path, capsys):
    from bot.__main__ import main

    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\ndatabase = "{tmp_path / "x.sqlite3"}"\n')
    config.chmod(0o600)
    folder = write_folder(tmp_path)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        assert main(["--config", str(config), "prior", "build", "--all-movies",
                     str(folder)]) == 0
        assert main(["--config", str(config), "prior", "status"]) == 0
    finally:  # main() points the root logger at this test's captured stderr
        root.handlers[:] = handlers
        root.setLevel(level)
    out = capsys.readouterr().out
    assert "Taste prior: installed" in out and f"source:   ml-test ({folder})" in out
    assert (tmp_path / "x.sqlite3").exists()


async def test_unrated_dataset_movies_are_not_reported_as_left_out(settings, tmp_path, capsys):
    folder = write_folder(tmp_path)
    with (folder / "movies.csv").open("a") as handle:
        handle.write("17,Never Rated (1980),Drama\n")
    await seed_catalog(settings)
    assert await run(settings, "prior", "build", "--all-movies", str(folder)) == 0
    async with await Storage.open(settings.database) as storage:
        assert (await storage.prior_status()).dataset_movies == 16  # rated ones
        summary = await import_movies(storage, [_parsed(0, MovieRow("Never Rated", 1980))])
    assert summary.added == 1
    assert summary.prior is not None and summary.prior.unstored == 0
    assert "prior build` again" not in summary.line("x")


async def test_ml100k_folder_links_by_title(settings, tmp_path, capsys):
    from prior_dataset import MOVIES, ratings_rows

    folder = tmp_path / "ml-100k"
    folder.mkdir()
    flags = "|0" * 19
    (folder / "u.item").write_bytes("".join(
        f"{key}|{title}|01-Jan-1995||http://x{flags}\n" for key, title, _, _ in MOVIES
    ).encode("latin-1", errors="replace"))
    (folder / "u.data").write_text("".join(
        f"{u}\t{m}\t{max(1, round(r))}\t{t}\n" for u, m, r, t in ratings_rows()))
    await seed_catalog(settings)
    assert await run(settings, "prior", "build", str(folder)) == 0
    async with await Storage.open(settings.database) as storage:
        assert (await storage.prior_status()).id_kind == "ml-100k"
        links = await linked_titles(storage)
    # No links.csv, so no IMDb link; "Moonlight" gets 1995 from the release date column.
    assert links == {k: v for k, v in expected_links().items()
                     if k[0] not in ("A Localised Title", "Moonlight")}
