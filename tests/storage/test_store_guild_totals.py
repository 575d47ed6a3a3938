"""A guild's sum and count of scores (`guild_score_total`, the server average `/movies info`
pulls a movie's score toward) come from the row the ratings triggers keep (migration 21), not
from reading every rating: on both backends they equal the ratings table's own sum and count
after every kind of write, and SQLite's upgrade fills the sum in for existing ratings."""

from __future__ import annotations

import aiosqlite
import pytest

from bot.storage import PostgresStorage, Storage
from bot.storage.postgres.migrations import PG_MIGRATIONS
from bot.storage.sql.ratings import GUILD_TOTAL_SQL
from bot.storage.sqlite.base import numbered
from bot.storage.sqlite.migrations import MIGRATIONS, apply_migrations

G1, G2 = 1001, 2002
ALICE, BOB, CAROL = 111_111_111_111_111_111, 222_222_222_222_222_222, 333


async def scanned(sql_value, guild_id: int) -> tuple[int, int]:
    """The totals the old query computed from the ratings table itself."""
    total = await sql_value("SELECT COALESCE(sum(score), 0) FROM ratings WHERE guild_id = ?",
                            guild_id)
    count = await sql_value("SELECT count(*) FROM ratings WHERE guild_id = ?", guild_id)
    return int(total), int(count)


async def test_guild_score_total_follows_every_write(store, sql_value):
    shared = [await store.add_movie(f"Shared {i}", 1990 + i, ["Drama"]) for i in range(4)]
    local = await store.add_movie("Our Club Film", 2021, ["Drama"], guild_id=G1)
    assert await store.guild_score_total(G1) == (0, 0)

    async def check() -> None:
        for guild in (G1, G2):
            assert await store.guild_score_total(guild) == await scanned(sql_value, guild)

    await store.upsert_rating(G1, ALICE, shared[0].id, 8)
    await store.upsert_rating(G1, BOB, shared[0].id, 3)
    await store.upsert_rating(G1, BOB, local.id, 10)
    await store.upsert_rating(G2, ALICE, shared[1].id, 6)
    assert await store.guild_score_total(G1) == (21, 3)
    await check()
    await store.upsert_rating(G1, ALICE, shared[0].id, 8)  # unchanged score
    await store.upsert_rating(G1, ALICE, shared[0].id, 2)  # changed: 8 -> 2
    assert await store.guild_score_total(G1) == (15, 3)
    await check()
    await store.import_history(G1, CAROL, [(shared[1].id, 7), (shared[2].id, 9)])
    await store.delete_rating(G1, BOB, shared[0].id)
    assert await store.guild_score_total(G1) == (28, 4)
    await check()
    await store.delete_member_ratings(G1, CAROL)
    await check()
    await store.purge_guild(G1)  # its own movie goes too (the ratings by cascade)
    assert await store.guild_score_total(G1) == (0, 0)
    assert await store.guild_score_total(G2) == (6, 1)
    await check()
    await store.upsert_rating(G1, ALICE, shared[3].id, 5)  # a guild that comes back
    assert await store.guild_score_total(G1) == (5, 1)
    await check()


async def test_guild_score_total_reads_no_ratings(sqlite_store):
    """One row of guild_versions by its key: the plan never touches the ratings table."""
    async with sqlite_store.connection.execute(
            "EXPLAIN QUERY PLAN " + numbered(GUILD_TOTAL_SQL), (G1,)) as cursor:
        plan = " ".join(str(row[-1]) for row in await cursor.fetchall())
    assert "ratings" not in plan.replace("guild_versions", "") and "SCAN" not in plan


async def test_upgrade_fills_the_sum_for_existing_ratings(tmp_path):
    path = tmp_path / "old.sqlite3"
    before = [m for m in MIGRATIONS if m.version < 21]
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        await apply_migrations(conn, before)
        await conn.execute("INSERT INTO movies (id, title, year, genres, norm_title) VALUES "
                           "(1, 'A', 2000, 'Drama', 'a'), (2, 'B', 2001, 'Drama', 'b')")
        await conn.execute(
            "INSERT INTO ratings (guild_id, user_id, movie_id, score, updated_at) VALUES "
            "(10, 1, 1, 9, 0), (10, 2, 1, 4, 0), (10, 2, 2, 7, 0), (20, 1, 2, 3, 0)")
    finally:
        await conn.close()
    async with await Storage.open(path) as storage:
        assert await storage.guild_score_total(10) == (20, 3)
        assert await storage.guild_score_total(20) == (3, 1)
        await storage.upsert_rating(10, 1, 2, 1)
        assert await storage.guild_score_total(10) == (21, 4)


@pytest.mark.parametrize("backend", ["postgres"])
async def test_postgres_upgrade_fills_the_sum(store):
    """PostgreSQL's migration 21 backfills the sum from the ratings (its UPDATE, run again on
    a zeroed column)."""
    assert isinstance(store, PostgresStorage)
    movie = await store.add_movie("A", 2000, [])
    await store.upsert_rating(G1, ALICE, movie.id, 9)
    await store.upsert_rating(G1, BOB, movie.id, 4)
    async with store.pool.acquire() as conn:
        await conn.execute("UPDATE guild_versions SET ratings_sum = 0")
        backfill = next(m for m in PG_MIGRATIONS if m.version == 21).statements[1]
        await conn.execute(backfill)
    assert await store.guild_score_total(G1) == (13, 2)
