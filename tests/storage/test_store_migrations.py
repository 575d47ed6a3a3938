"""Schema migrations: fresh database, upgrade from v1 with data, too-new refusal, atomicity."""

from __future__ import annotations

import sqlite3

import aiosqlite
import pytest

from bot.storage import MigrationError, SchemaTooNewError, Storage
from bot.storage.sqlite.migrations import LATEST_VERSION, MIGRATIONS, Migration, apply_migrations


def tables(path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}


def version(path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


async def test_fresh_database_gets_every_migration_and_pragmas(tmp_path):
    path = tmp_path / "sub" / "dir" / "bot.sqlite3"  # folders are created
    storage = await Storage.open(path)
    try:
        conn = storage.connection
        assert (await (await conn.execute("PRAGMA user_version")).fetchone())[0] == LATEST_VERSION
        assert (await (await conn.execute("PRAGMA foreign_keys")).fetchone())[0] == 1
        assert (await (await conn.execute("PRAGMA journal_mode")).fetchone())[0] == "wal"
        assert (await (await conn.execute("PRAGMA busy_timeout")).fetchone())[0] == 5000
        assert (await (await conn.execute("PRAGMA synchronous")).fetchone())[0] == 1  # NORMAL
    finally:
        await storage.close()
    assert LATEST_VERSION >= 2
    assert {"movies", "ratings", "guild_settings", "model_state", "movies_fts"} <= tables(path)


async def test_reopening_applies_nothing_and_keeps_data(tmp_path):
    path = tmp_path / "bot.sqlite3"
    async with await Storage.open(path) as storage:
        movie = await storage.add_movie("Heat", 1995, ["Crime"])
    async with await Storage.open(path) as storage:
        assert await storage.get_movie(None, movie.id) == movie
        assert await apply_migrations(storage.connection) == []


async def test_upgrade_from_v1_keeps_data_and_search_works(tmp_path):
    path = tmp_path / "old.sqlite3"
    conn = await aiosqlite.connect(path, isolation_level=None)
    assert await apply_migrations(conn, MIGRATIONS[:1]) == [1]
    # Data as the v1 bot wrote it (v1 had no search column, no FTS, no model table).
    await conn.execute(
        "INSERT INTO movies (id, title, year, genres, norm_title) VALUES "
        "(1, 'The Matrix', 1999, 'Action|Sci-Fi', 'matrix'), "
        "(2, 'Amélie', 2001, 'Comedy', 'amelie')")
    await conn.execute(
        "INSERT INTO ratings (guild_id, user_id, movie_id, score, updated_at) "
        "VALUES (10, 20, 1, 9, 1700000000.0)")
    await conn.execute("INSERT INTO guild_settings (guild_id, features) VALUES (10, 7)")
    await conn.close()
    assert version(path) == 1
    assert "movies_fts" not in tables(path)

    async with await Storage.open(path) as storage:
        assert version(path) == LATEST_VERSION
        assert await storage.get_rating(10, 20, 1) == 9
        assert (await storage.get_guild_settings(10)).features == 7
        assert [m.title for m in await storage.search_movies(10, "matrx")] == ["The Matrix"]
        assert [m.title for m in await storage.search_movies(10, "amelie")] == ["Amélie"]
        # The FTS triggers work on the upgraded schema too.
        await storage.add_movie("The Matrix Reloaded", 2003, [])
        assert len(await storage.search_movies(10, "matrix")) == 2
        await storage.save_model(10, b"blob")
        assert await storage.load_model(10) == b"blob"


async def test_database_from_a_newer_bot_is_refused_untouched(tmp_path):
    path = tmp_path / "future.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE something (x)")
        conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 3}")
    with pytest.raises(SchemaTooNewError) as caught:
        await Storage.open(path)
    message = str(caught.value)
    assert f"version {LATEST_VERSION + 3}" in message
    assert f"up to version {LATEST_VERSION}" in message
    assert "Upgrade the bot" in message
    assert version(path) == LATEST_VERSION + 3
    assert tables(path) == {"something"}
    with sqlite3.connect(path) as conn:  # not switched to WAL either
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


async def test_failing_migration_is_rolled_back_completely(tmp_path):
    path = tmp_path / "broken.sqlite3"
    broken = [
        *MIGRATIONS,
        Migration(LATEST_VERSION + 1, "half-good", (
            "CREATE TABLE new_table (x INTEGER)",
            "ALTER TABLE movies ADD COLUMN extra TEXT",
            "INSERT INTO no_such_table VALUES (1)",
        )),
    ]
    async with await Storage.open(path) as storage:
        await storage.add_movie("Heat", 1995, [])
    with pytest.raises(MigrationError, match=f"migration {LATEST_VERSION + 1}"):
        await Storage.open(path, migrations=broken)
    assert version(path) == LATEST_VERSION
    assert "new_table" not in tables(path)
    with sqlite3.connect(path) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(movies)")}
    assert "extra" not in columns
    async with await Storage.open(path) as storage:  # still a good database
        assert await storage.movie_count() == 1


async def test_earlier_migrations_stay_when_a_later_one_fails(tmp_path):
    path = tmp_path / "partial.sqlite3"
    broken = [MIGRATIONS[0], Migration(2, "bad", ("SELECT * FROM nowhere",))]
    with pytest.raises(MigrationError):
        await Storage.open(path, migrations=broken)
    assert version(path) == 1
    assert "movies" in tables(path)
