"""Security round 2, row 17: `db copy` exited 1 on a row-count mismatch but left the
destination filled and inconsistent (the counts were compared after the commit). The promise:
all or nothing. The counts are compared inside the one PostgreSQL transaction, so a mismatch
rolls the whole copy back; and the source is read in one snapshot, so a bot writing to it
during the copy cannot make the counts (or the rows) disagree."""

from __future__ import annotations

import asyncio
import io
import sqlite3

from bot.__main__ import main
from bot.db_copy import copy_database, copy_tables
from bot.service.app import member_tables
from bot.storage import MovieRow, PostgresStorage, Storage

G1 = 1001
ALICE, BOB, CAROL = 111_111_111_111_111_111, 222_222_222_222_222_222, 333_333_333_333_333_333


async def _fill(path) -> list[int]:
    async with await Storage.open(path) as store:
        await store.add_movies_bulk([MovieRow(f"Film {i}", 1950 + i, ("Drama",), 100 + i)
                                     for i in range(20)])
        found = await store.movies_by_title(G1, {f"film {i}" for i in range(20)})
        ids = sorted(movies[0].id for movies in found.values())
        for i, movie_id in enumerate(ids[:10]):
            await store.upsert_rating(G1, ALICE, movie_id, 1 + i % 10)
        for movie_id in ids[10:15]:
            await store.watchlist_add(G1, BOB, movie_id)
        return ids


async def _row_counts(url: str) -> dict[str, int]:
    async with await PostgresStorage.open(url) as pg, pg.pool.acquire() as conn:
        return {t.name: int(await conn.fetchval(f"SELECT count(*) FROM {t.name}"))
                for t in copy_tables(member_tables(pg))}


async def _drop_some_watchlist_rows(url: str, movie_id: int) -> None:
    """A destination that loses rows on the way in (what a count mismatch looks like): a
    trigger that silently skips one watchlist row."""
    async with await PostgresStorage.open(url) as pg, pg.pool.acquire() as conn:
        await conn.execute(f"""
            CREATE FUNCTION lose_a_row() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.movie_id = {movie_id} THEN RETURN NULL; END IF;
                RETURN NEW;
            END $$""")
        await conn.execute("CREATE TRIGGER lose_a_row BEFORE INSERT ON watchlist "
                           "FOR EACH ROW EXECUTE FUNCTION lose_a_row()")


async def _stop_dropping(url: str) -> None:
    async with await PostgresStorage.open(url) as pg, pg.pool.acquire() as conn:
        await conn.execute("DROP TRIGGER lose_a_row ON watchlist")


def test_a_count_mismatch_leaves_the_destination_empty(tmp_path, postgres_database, capsys):
    source = tmp_path / "bot.sqlite3"
    ids = asyncio.run(_fill(source))
    asyncio.run(_drop_some_watchlist_rows(postgres_database, ids[12]))

    assert main(["db", "copy", "--to", postgres_database, "--from", str(source)]) == 1
    # Nothing of the copy stayed: every table is as empty as before.
    assert set(asyncio.run(_row_counts(postgres_database)).values()) == {0}
    out, err = capsys.readouterr()
    assert "MISMATCH" in out
    last = err.strip().splitlines()[-1]
    assert last.startswith("db copy failed: row counts differ in watchlist (5 in the source, "
                           "4 copied); nothing was copied"), last

    # So the copy can simply be run again once the cause is fixed.
    asyncio.run(_stop_dropping(postgres_database))
    assert main(["db", "copy", "--to", postgres_database, "--from", str(source)]) == 0
    counts = asyncio.run(_row_counts(postgres_database))
    assert (counts["ratings"], counts["watchlist"]) == (10, 5)


class _BotWritesDuringTheCopy(io.StringIO):
    """The copy's progress stream: when the movies table is done, the (still running) bot
    rates a movie in the source database."""

    def __init__(self, source, movie_id: int) -> None:
        super().__init__()
        self.source = source
        self.movie_id = movie_id
        self.wrote = False

    def write(self, text: str) -> int:
        if "copying movies" in text and not self.wrote:
            bot = sqlite3.connect(self.source, timeout=5)
            with bot:
                bot.execute("INSERT INTO ratings (guild_id, user_id, movie_id, score, "
                            "updated_at) VALUES (?, ?, ?, 7, 0)", (G1, CAROL, self.movie_id))
            bot.close()
            self.wrote = True
        return super().write(text)


def test_writes_to_the_source_during_the_copy_do_not_break_it(tmp_path, postgres_database):
    source = tmp_path / "bot.sqlite3"
    ids = asyncio.run(_fill(source))
    stream = _BotWritesDuringTheCopy(source, ids[0])
    counts = asyncio.run(copy_database(source, postgres_database, stream=stream))
    assert stream.wrote
    assert all(c.ok for c in counts), counts
    copied = asyncio.run(_row_counts(postgres_database))
    assert copied["ratings"] == 10  # the snapshot the copy started from, consistently


def test_the_source_keeps_the_write(tmp_path, postgres_database):
    """The snapshot is the copy's only: the bot's write during it is in the source."""
    source = tmp_path / "bot.sqlite3"
    ids = asyncio.run(_fill(source))
    asyncio.run(copy_database(source, postgres_database,
                              stream=_BotWritesDuringTheCopy(source, ids[0])))
    conn = sqlite3.connect(source)
    try:
        assert conn.execute("SELECT count(*) FROM ratings").fetchone()[0] == 11
    finally:
        conn.close()
