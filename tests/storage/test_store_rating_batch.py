"""Concurrent `upsert_rating` calls, on both backends: SQLite coalesces them into one
transaction per batch (`bot/storage/sqlite/rating_batch.py`); every caller still gets its own
answer.
"""

from __future__ import annotations

import asyncio

import pytest

from bot.storage import UnknownMovieError


async def test_a_burst_of_ratings_each_gets_its_own_previous_score(sqlite_store):
    store = sqlite_store  # PostgreSQL runs concurrent calls on several connections: any order
    movie = await store.add_movie("Alien", 1979, ["Horror"], guild_id=None)
    other = await store.add_movie("Jaws", 1975, ["Thriller"], guild_id=None)
    await store.upsert_rating(1, 10, movie.id, 4)
    scores = [5, 6, 7, 8]
    # The same member re-rates the same movie four times at once: each call's previous score
    # is the one before it, in call order, and the last one stands.
    results = await asyncio.gather(*(store.upsert_rating(1, 10, movie.id, s) for s in scores),
                                   store.upsert_rating(1, 11, other.id, 9))
    assert results == [4, 5, 6, 7, None]
    assert await store.get_rating(1, 10, movie.id) == 8
    assert await store.get_rating(1, 11, other.id) == 9


async def test_concurrent_re_rates_chain_their_previous_scores(store):
    """On either backend, concurrent re-rates of one movie by one member are serialised: the
    previous scores they report chain from the stored one, each seen once."""
    movie = await store.add_movie("Alien", 1979, ["Horror"], guild_id=None)
    await store.upsert_rating(1, 10, movie.id, 1)
    scores = [2, 3, 4, 5, 6]
    previous = await asyncio.gather(*(store.upsert_rating(1, 10, movie.id, s) for s in scores))
    final = await store.get_rating(1, 10, movie.id)
    assert final in scores
    # In some serial order: each call saw the score before it; the last one stands.
    assert sorted(previous) == sorted({1, *scores} - {final})


async def test_one_bad_rating_in_a_burst_fails_alone(store):
    movie = await store.add_movie("Alien", 1979, ["Horror"], guild_id=None)
    private = await store.add_movie("Home video", 2020, [], guild_id=2)  # only in guild 2
    results = await asyncio.gather(
        store.upsert_rating(1, 10, movie.id, 7),
        store.upsert_rating(1, 11, private.id, 7),  # not visible in guild 1
        store.upsert_rating(1, 12, movie.id, 3),
        return_exceptions=True)
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], UnknownMovieError)
    assert await store.get_rating(1, 10, movie.id) == 7
    assert await store.get_rating(1, 12, movie.id) == 3
    assert await store.get_rating(1, 11, private.id) is None


async def test_rating_and_watchlist_removal_commit_together(store):
    movie = await store.add_movie("Alien", 1979, ["Horror"], guild_id=None)
    await store.watchlist_add(1, 10, movie.id)
    assert await store.upsert_rating(1, 10, movie.id, 9, unwatch=True) is None
    assert await store.count_watchlist(1, 10) == 0


async def test_a_caller_that_stops_waiting_does_not_undo_its_rating(sqlite_store):
    store = sqlite_store
    movie = await store.add_movie("Alien", 1979, ["Horror"], guild_id=None)
    task = asyncio.ensure_future(store.upsert_rating(1, 10, movie.id, 6))
    await asyncio.sleep(0)  # queued
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await store.upsert_rating(1, 11, movie.id, 2)  # the next batch runs after the first
    assert await store.get_rating(1, 10, movie.id) == 6


async def test_a_workers_model_save_waits_out_a_held_write_lock(sqlite_store, tmp_path):
    """A fit's save (worker thread or process) that meets a write lock held longer than the
    busy timeout is retried, not lost ("fit failed ... database is locked" in many_guilds)."""
    import sqlite3
    import threading
    import time

    from bot.storage import bulk

    store = sqlite_store
    movie = await store.add_movie("Alien", 1979, ["Horror"], guild_id=None)
    await store.upsert_rating(1, 10, movie.id, 7)
    version, _ = await store.ratings_version(1)
    holding, release = threading.Event(), threading.Event()

    def hog() -> None:
        conn = sqlite3.connect(store.path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        holding.set()
        release.wait(5)
        conn.execute("COMMIT")
        conn.close()

    def save() -> bool:
        with bulk.connect(store.path) as conn:
            conn.execute("PRAGMA busy_timeout = 50")  # far shorter than the hold
            return bulk.save_model(conn, 1, b"model", ratings_version=version,
                                   settings_key="k")

    thread = threading.Thread(target=hog)
    thread.start()
    holding.wait(5)
    timer = threading.Timer(0.6, release.set)
    timer.start()
    try:
        started = time.monotonic()
        assert await asyncio.to_thread(save)
        assert time.monotonic() - started >= 0.5  # it really waited for the lock
    finally:
        release.set()
        thread.join(5)
    assert await store.load_model(1) == b"model"


async def test_a_batch_is_one_round_trip_to_the_writer_thread(sqlite_store):
    """The whole transaction of a batch (BEGIN, visibility check, previous scores, upserts,
    watchlist removal, COMMIT) runs as one call on the writer connection's thread: on a busy
    machine each round trip costs a wait for the GIL on both sides (issue 24)."""
    store = sqlite_store
    movie = await store.add_movie("Alien", 1979, ["Horror"], guild_id=None)
    await store.watchlist_add(1, 10, movie.id)
    calls = []
    execute = store._conn._execute

    async def counting(fn, *args, **kwargs):
        calls.append(fn)
        return await execute(fn, *args, **kwargs)

    store._conn._execute = counting
    try:
        assert await store.upsert_rating(1, 10, movie.id, 7, unwatch=True) is None
    finally:
        del store._conn._execute
    assert len(calls) == 1
    assert await store.get_rating(1, 10, movie.id) == 7
    assert await store.watchlist(1, 10) == []


async def test_a_batch_looks_previous_scores_up_by_key_never_scanning_the_ratings(sqlite_store):
    """Every statement of a batch that reads the ratings table searches an index: the row-value
    "IN (VALUES ...)" it used was planned as a scan of the whole table, 0.75 s a batch at 2.57
    million ratings (many_guilds, issue 24)."""
    store = sqlite_store
    movies = [await store.add_movie(f"Film {i}", 1990 + i, ["Drama"], guild_id=None)
              for i in range(4)]
    for user in range(1, 30):  # enough rows that a scan and a search differ in the plan
        for movie in movies:
            await store.upsert_rating(7, user, movie.id, 1 + (user + movie.id) % 10)
    statements: list[str] = []
    await store.connection.set_trace_callback(statements.append)
    try:
        for movie in movies:
            await store.watchlist_add(7, 3, movie.id)
        statements.clear()
        await asyncio.gather(*(store.upsert_rating(7, 3, m.id, 5, unwatch=True)
                               for m in movies))
    finally:
        await store.connection.set_trace_callback(None)
    reads = [sql for sql in statements if "ratings" in sql and "SELECT" in sql.upper()
             and not sql.lstrip().upper().startswith(("INSERT", "DELETE", "UPDATE"))]
    assert reads
    unwatch = [sql for sql in statements if "DELETE FROM watchlist" in sql]
    assert unwatch
    # One multi-row statement per batch, not one per rating (each is a GIL round trip);
    # the trace repeats a statement's text for its triggers, so distinct texts are counted.
    # Four ratings went in at most two batches (the first alone, the rest together).
    inserts = {sql for sql in statements if sql.startswith("INSERT INTO ratings")}
    assert 1 <= len(inserts) < len(movies)
    assert len(set(unwatch)) == len(inserts)
    assert await store.watchlist(7, 3) == []
    for sql in unwatch:
        plan = [row[3] for row in await store.connection.execute_fetchall(
            f"EXPLAIN QUERY PLAN {sql}")]
        assert not [step for step in plan if step.startswith("SCAN watchlist")], (sql, plan)
    for sql in reads:
        plan = [row[3] for row in await store.connection.execute_fetchall(
            f"EXPLAIN QUERY PLAN {sql}")]
        scans = [step for step in plan if step.startswith("SCAN")
                 and ("ratings" in step or " r " in f" {step} ")]
        assert not scans, (sql, plan)
