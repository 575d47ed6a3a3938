"""A movie's ratings in a guild (`movie_stats`: `/movies info`'s average; `score_counts`: the
score charts) are read from the covering index (guild_id, movie_id, score) on SQLite. Left to
itself SQLite's planner took the movie_id foreign-key index, reading every guild's ratings of
the movie and looking each one up for its score (7.5 ms against 0.35 ms for a popular movie
of the 10^6-rating many_guilds guild). The plans are those of the statements the storage
really ran (traced on its connection), with and without ANALYZE's statistics."""

from __future__ import annotations

import pytest

from bot.storage import Storage

G1, G2 = 1001, 2002


async def traced_plans(storage: Storage, call) -> list[str]:
    """The query plans of the statements `call()` runs (one connection: an in-memory
    database has no reader pool)."""
    conn = storage.connection
    statements: list[str] = []
    await conn._execute(conn._conn.set_trace_callback, statements.append)
    try:
        await call()
    finally:
        await conn._execute(conn._conn.set_trace_callback, None)
    plans = []
    for sql in statements:
        async with conn.execute("EXPLAIN QUERY PLAN " + sql) as cursor:
            plans.append(" | ".join(str(row[-1]) for row in await cursor.fetchall()))
    return plans


@pytest.mark.parametrize("analyze", [False, True])
async def test_movie_reads_use_the_covering_index(analyze):
    async with await Storage.open(":memory:") as storage:
        movies = [await storage.add_movie(f"Film {i}", 1990 + i, ["Drama"]) for i in range(5)]
        for member in range(30):
            for guild in (G1, G2):
                for movie in movies[: 1 + member % 5]:
                    await storage.upsert_rating(guild, member, movie.id, 1 + member % 10)
        if analyze:
            await storage.connection.execute("ANALYZE")
        target = movies[0].id
        expected = await storage.movie_stats(G1, target)
        assert expected[1] == 30

        plans = await traced_plans(storage, lambda: storage.movie_stats(G1, target))
        plans += await traced_plans(
            storage, lambda: storage.score_counts(G1, [m.id for m in movies[:2]]))
        ratings_plans = [p for p in plans if "ratings" in p]
        assert len(ratings_plans) == 2, plans
        for plan in ratings_plans:
            assert "COVERING INDEX ratings_movie " in plan, plan
            assert "ratings_movie_fk" not in plan and "SCAN ratings" not in plan, plan
        # The same answers as counting the rows directly.
        async with storage.connection.execute(
                "SELECT avg(score), count(*) FROM ratings NOT INDEXED WHERE guild_id = ? "
                "AND movie_id = ?", (G1, target)) as cursor:
            row = await cursor.fetchone()
        assert expected == (float(row[0]), int(row[1]))
