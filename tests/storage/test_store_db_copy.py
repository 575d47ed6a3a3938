"""`python -m bot db copy --to postgresql://...`: an SQLite install moved to PostgreSQL keeps
every row (movies their ids), the ratings versions and saved models stay current, the counts
are verified, and failures are one line."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from bot.__main__ import main
from bot.db_copy import SQLITE_ONLY, copy_tables
from bot.service.app import member_tables
from bot.storage import MovieRow, PostgresStorage, Storage
from bot.storage.models import PriorLink, PriorMovie

G1, G2 = 1001, 2002
ALICE, BOB = 111_111_111_111_111_111, 222_222_222_222_222_222


async def _fill(path) -> dict:
    async with await Storage.open(path) as store:
        await store.add_movies_bulk([MovieRow(f"Film {i}", 1950 + i, ("Drama",), 100 + i)
                                     for i in range(30)])
        heat = await store.add_movie("Heat", 1995, ["Crime"], imdb_id="tt0113277")
        gone = await store.add_movie("Deleted Later", 2001)
        local = await store.add_movie("Our Club Film", 2021, ["Drama"], guild_id=G1)
        await store.purge_guild(999)
        await store.upsert_rating(G1, ALICE, heat.id, 8)
        await store.upsert_rating(G1, ALICE, heat.id, 9)
        await store.upsert_rating(G1, BOB, local.id, 4)
        await store.upsert_rating(G2, ALICE, gone.id, 2)
        await store.delete_rating(G2, ALICE, gone.id)
        await store.update_guild_settings(G1, ratings_visible=False, features=7)
        await store.mark_guild_left(G2, 1000.0)
        version, _ = await store.ratings_version(G1)
        await store.save_model(G1, b"\x00model\xff", ratings_version=version, settings_key="k")
        await store.save_prior(
            b"prior-blob", source="test", id_kind="movielens",
            movies=[PriorMovie(5, "Heat (1995)", 1995, n_ratings=3), PriorMovie(6, "X", 1)],
            stored_keys=[5], links=[PriorLink(heat.id, 5, "imdb")], dataset_users=2,
            dataset_ratings=3)
        await store.mark_setup_step("starter_catalog")
        return {"heat": heat, "local": local, "version": version,
                "versions": {g: await store.ratings_version(g) for g in (G1, G2)},
                "count": await store.movie_count()}


def _copied_tables(path) -> set[str]:
    async def read() -> set[str]:
        async with await Storage.open(path) as storage:
            return {t.name for t in copy_tables(member_tables(storage))}

    return asyncio.run(read())


def test_every_sqlite_table_is_copied(tmp_path):
    copied = _copied_tables(tmp_path / "s.sqlite3")
    conn = sqlite3.connect(tmp_path / "s.sqlite3")
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                                            " AND name NOT LIKE 'sqlite_%'")}
    finally:
        conn.close()
    assert {n for n in names if not n.startswith(SQLITE_ONLY)} == copied


def test_every_column_is_copied(tmp_path):
    """A column a migration added and the copy's table list forgot would be lost (the
    server's language was)."""
    path = tmp_path / "s.sqlite3"

    async def tables():
        async with await Storage.open(path) as storage:
            return copy_tables(member_tables(storage))

    conn = sqlite3.connect(path)
    try:
        for table in asyncio.run(tables()):
            columns = {r[1] for r in conn.execute(f"PRAGMA table_info({table.name})")}
            assert set(table.columns) == columns, table.name
    finally:
        conn.close()


def test_db_copy_keeps_ids_versions_models_and_verifies_counts(tmp_path, postgres_database,
                                                                 capsys):
    source = tmp_path / "bot.sqlite3"
    before = asyncio.run(_fill(source))
    assert main(["db", "copy", "--to", postgres_database, "--from", str(source)]) == 0
    out, err = capsys.readouterr()
    assert "copying ratings" in err and "ok" in out and "MISMATCH" not in out
    assert "Copied" in out and out.count(" ok") == len(_copied_tables(source))

    async def check() -> None:
        async with await PostgresStorage.open(postgres_database) as pg:
            heat, local = before["heat"], before["local"]
            assert await pg.get_movie(G1, heat.id) == heat
            assert await pg.get_movie(G1, local.id) == local
            assert await pg.get_movie(G2, local.id) is None
            assert await pg.movie_count() == before["count"]
            assert await pg.get_rating(G1, ALICE, heat.id) == 9
            for guild, version in before["versions"].items():
                assert await pg.ratings_version(guild) == version
            state = await pg.load_model_state(G1)
            assert state is not None and state.blob == b"\x00model\xff"
            assert state.ratings_version == before["version"]
            settings = await pg.get_guild_settings(G1)
            assert (settings.ratings_visible, settings.features) == (False, 7)
            assert await pg.guilds_left_before(2000.0) == [G2]
            assert await pg.load_prior() == b"prior-blob"
            assert (await pg.prior_status()).linked_movies == 1
            assert await pg.setup_step_done("starter_catalog")
            assert [m.id for m in await pg.search_movies(G1, "heta")] == [heat.id]
            # The identity sequence was set past the copied ids; triggers are on again.
            new = await pg.add_movie("Brand New", 2024)
            assert new.id > max(heat.id, local.id)
            await pg.upsert_rating(G1, ALICE, new.id, 5)
            assert (await pg.ratings_version(G1))[0] == before["version"] + 1

    asyncio.run(check())

    # A second copy into the now-filled database is refused, with one line.
    assert main(["db", "copy", "--to", postgres_database, "--from", str(source)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("db copy failed:") and "not empty" in err[0]


@pytest.mark.parametrize("target, expected", [
    ("postgresql://bot:secret@127.0.0.1:1/none", "cannot connect to PostgreSQL"),
    ("mysql://x", "must be a postgresql:// URL"),
])
def test_db_copy_failures_are_one_line(tmp_path, capsys, target, expected):
    source = tmp_path / "bot.sqlite3"
    asyncio.run(_fill(source))
    assert main(["db", "copy", "--to", target, "--from", str(source)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0] and "secret" not in err[0]


def test_db_copy_of_a_missing_file_is_one_line(tmp_path, capsys):
    assert main(["db", "copy", "--to", "postgresql://x@127.0.0.1:1/y",
                 "--from", str(tmp_path / "nope.sqlite3")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no SQLite database" in err[0]
