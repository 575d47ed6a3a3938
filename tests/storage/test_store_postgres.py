"""What only PostgreSQL has: the pg_trgm typo threshold, migrations under the advisory lock,
the binary COPY ratings read, a refit worker reading and saving through PostgreSQL, and the
parity checks that keep the two backends one contract (every method, every migration)."""

from __future__ import annotations

import asyncio
import inspect
import time

import asyncpg
import numpy as np
import pytest

from bot.storage import (
    DuplicateMovieError,
    GuildMovieCapError,
    MigrationError,
    PostgresStorage,
    SchemaTooNewError,
    SqliteStorage,
    Storage,
    StorageError,
    bulk,
    display_url,
)
from bot.storage.postgres.bulk import TRGM_THRESHOLD, parse_binary_ratings
from bot.storage.postgres.migrations import PG_MIGRATIONS, schema_version
from bot.storage.sqlite.migrations import MIGRATIONS, Migration

G1 = 4242


@pytest.fixture
async def pg(postgres_database):
    storage = await PostgresStorage.open(postgres_database)
    try:
        yield storage
    finally:
        await storage.close()


# ------------------------------------------------------------------------- parity
def test_every_storage_method_has_a_postgres_version():
    """Every public method of the contract is abstract there and implemented by both backends
    (an abstract one left over would make the backend impossible to open)."""
    public = {name for part in Storage.__mro__ for name, value in vars(part).items()
              if not name.startswith("_") and inspect.isfunction(value)}
    assert public and public <= Storage.__abstractmethods__
    for backend in (PostgresStorage, SqliteStorage):
        missing = sorted(backend.__abstractmethods__)
        assert missing == [], f"port these Storage methods to {backend.__name__}: {missing}"


def test_every_sqlite_migration_has_a_postgres_migration():
    assert [(m.version, m.description.split(":")[0]) for m in PG_MIGRATIONS] == [
        (m.version, m.description.split(":")[0].replace("FTS5 trigram", "pg_trgm"))
        for m in MIGRATIONS]


# ------------------------------------------------------------------------- search
async def test_one_letter_typos_match_under_the_lowered_trigram_threshold(pg):
    matrix = await pg.add_movie("The Matrix", 1999, ["Action"])
    await pg.add_movie("Heat", 1995, ["Crime"])
    async with pg.pool.acquire() as conn:
        assert await conn.fetchval("SELECT similarity('matirx', 'matrix')") == pytest.approx(
            0.2727, abs=1e-3)  # under pg_trgm's default 0.3
        threshold = await conn.fetchval("SELECT current_setting('pg_trgm.similarity_threshold')")
        assert float(threshold) == TRGM_THRESHOLD
    assert [m.id for m in await pg.search_movies(G1, "matirx")] == [matrix.id]
    assert [m.id for m in await pg.search_movies(G1, "Matrx")] == [matrix.id]
    # The prefix range compares code points (COLLATE "C"), as SQLite does.
    assert [m.id for m in await pg.search_movies(G1, "ma")] == [matrix.id]


async def test_search_candidates_come_from_the_trigram_index(pg):
    await pg.add_movies_bulk([])
    async with pg.pool.acquire() as conn:
        await conn.execute("SET enable_seqscan = off")
        plan = "\n".join(r[0] for r in await conn.fetch(
            "EXPLAIN SELECT id FROM movies m WHERE 'matirx' <% m.search_text"))
        await conn.execute("RESET enable_seqscan")
    assert "movies_search_trgm" in plan


# --------------------------------------------------------------------- migrations
async def test_migrations_are_recorded_once_even_when_processes_start_together(
        postgres_database):
    stores = await asyncio.gather(*(PostgresStorage.open(postgres_database) for _ in range(4)))
    try:
        rows = await stores[0].pool.fetch("SELECT version FROM schema_migrations ORDER BY 1")
        assert [r[0] for r in rows] == [m.version for m in PG_MIGRATIONS]
        assert (await stores[0].summary()).schema_version == PG_MIGRATIONS[-1].version
    finally:
        for storage in stores:
            await storage.close()


async def test_a_newer_schema_is_refused_untouched(postgres_database):
    async with await PostgresStorage.open(postgres_database) as storage:
        await storage.add_movie("Heat", 1995)
        await storage.pool.execute(
            "INSERT INTO schema_migrations (version, description) VALUES (99, 'future')")
    with pytest.raises(SchemaTooNewError, match="version 99 is newer"):
        await PostgresStorage.open(postgres_database)
    conn = await asyncpg.connect(postgres_database)
    try:
        assert await conn.fetchval("SELECT count(*) FROM movies") == 1
    finally:
        await conn.close()


async def test_a_failing_migration_is_rolled_back(postgres_database):
    broken = [*PG_MIGRATIONS, Migration(PG_MIGRATIONS[-1].version + 1, "broken", (
        "CREATE TABLE half_done (x integer)", "SELECT no_such_function()"))]
    with pytest.raises(MigrationError, match="rolled back"):
        await PostgresStorage.open(postgres_database, migrations=broken)
    conn = await asyncpg.connect(postgres_database)
    try:
        assert await schema_version(conn) == PG_MIGRATIONS[-1].version
        assert await conn.fetchval("SELECT to_regclass('half_done')") is None
    finally:
        await conn.close()


async def test_an_unreachable_server_is_one_clear_line_without_the_password():
    with pytest.raises(StorageError) as error:
        await PostgresStorage.open("postgresql://bot:secret@127.0.0.1:1/moviebot")
    assert "secret" not in str(error.value) and "127.0.0.1:1" in str(error.value)
    assert display_url("postgresql://bot:s3@db:5432/x") == "postgresql://bot:***@db:5432/x"


# ----------------------------------------------------------------- concurrent writes
async def test_concurrent_adds_of_one_title_make_one_movie_and_respect_the_cap(pg):
    results = await asyncio.gather(*(pg.add_movie("Arrival", 2016, guild_id=G1)
                                     for _ in range(6)), return_exceptions=True)
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, DuplicateMovieError) for r in results if isinstance(r, Exception))
    results = await asyncio.gather(*(pg.add_movie(f"Film {i}", 2000, guild_id=G1, guild_cap=3)
                                     for i in range(6)), return_exceptions=True)
    assert await pg.count_guild_movies(G1) == 3
    assert sum(isinstance(r, GuildMovieCapError) for r in results) == 4


async def test_constraints_hold_in_sql(pg):
    movie = await pg.add_movie("Heat", 1995)
    with pytest.raises(asyncpg.CheckViolationError):
        await pg.pool.execute("INSERT INTO ratings VALUES ($1, 1, $2, 11, 0)", G1, movie.id)
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await pg.pool.execute("INSERT INTO ratings VALUES ($1, 1, 424242, 5, 0)", G1)


async def test_backup_points_at_pg_dump(pg, tmp_path):
    with pytest.raises(StorageError, match="pg_dump -Fc"):
        await pg.backup(tmp_path / "copy")


# -------------------------------------------------------------- the bulk ratings read
async def test_binary_copy_read_equals_a_plain_fetch(pg):
    await pg.add_movies_bulk([])
    ids = [(await pg.add_movie(f"Movie {i}", 1990 + i % 30)).id for i in range(40)]
    rng = np.random.default_rng(3)
    users = rng.integers(1, 2**62, 500)
    rows = [(int(u), ids[j], int(rng.integers(1, 11)))
            for u in users for j in rng.choice(40, 8, replace=False)]
    await pg.pool.execute(
        "INSERT INTO ratings SELECT $1, u, m, s, 0 FROM unnest($2::bigint[], $3::bigint[], "
        "$4::smallint[]) AS r(u, m, s)", G1, [r[0] for r in rows], [r[1] for r in rows],
        [r[2] for r in rows])
    arrays = await pg.guild_ratings(G1)
    plain = await pg.pool.fetch("SELECT user_id, movie_id, score FROM ratings "
                                "WHERE guild_id = $1 ORDER BY user_id, movie_id", G1)
    assert len(arrays) == len(rows) == len(plain)
    assert arrays.user_ids.tolist() == [r[0] for r in plain]
    assert arrays.movie_ids.tolist() == [r[1] for r in plain]
    assert arrays.scores.tolist() == [float(r[2]) for r in plain]
    assert arrays.scores.dtype == np.float32 and arrays.user_ids.dtype == np.int64
    assert await pg.ratings_version(G1) == (len(rows), len(rows))  # triggers, per row


def test_a_truncated_copy_stream_is_refused():
    header = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
    assert len(parse_binary_ratings(header + b"\xff\xff")) == 0
    with pytest.raises(ValueError):
        parse_binary_ratings(header + b"\x00\x03" + b"\xff\xff")
    with pytest.raises(ValueError):
        parse_binary_ratings(b"not a copy stream")


# ----------------------------------------------------------------- the refit worker
async def test_a_refit_worker_reads_and_saves_through_postgres(pg):
    from bot.service.worker import RefitJob, run_refit
    from recommender import CFModel, ModelConfig

    movies = [await pg.add_movie(f"Film {i}", 2000 + i, ["Drama"]) for i in range(6)]
    for user in range(1, 7):
        for movie in movies:
            await pg.upsert_rating(G1, user, movie.id, (user * movie.id) % 10 + 1)
    version, count = await pg.ratings_version(G1)
    assert pg.database.startswith("postgresql://")
    job = RefitJob(database=pg.database, guild_id=G1,
                   config=ModelConfig(features=2, maxiter=10, seed=1), settings_key="k",
                   tune_reg=False, max_ratings=10**6, max_cells=10**8)
    started = time.perf_counter()
    result = await asyncio.to_thread(run_refit, job)
    assert time.perf_counter() - started < 30
    assert result.saved and result.ratings_version == version and result.n_ratings == count
    state = await pg.load_model_state(G1)
    assert state is not None and state.ratings_version == version and state.settings_key == "k"
    assert CFModel.from_bytes(state.blob).knows_user(1)
    # The generation guard holds for the worker too: an older version is not saved.
    def stale_save() -> tuple[bool, int]:
        with bulk.connect(pg.database) as conn:
            saved = bulk.save_model(conn, G1, b"old", ratings_version=version - 1,
                                    settings_key="k")
            return saved, bulk.load_model_state(conn, G1).ratings_version

    assert await asyncio.to_thread(stale_save) == (False, version)


async def test_a_refit_in_a_worker_process_reads_and_saves_through_postgres(pg):
    from bot.service.training import TrainingPool
    from bot.service.worker import RefitJob
    from recommender import CFModel, ModelConfig

    movies = [await pg.add_movie(f"Film {i}", 2000 + i, ["Comedy"]) for i in range(5)]
    for user in range(1, 6):
        for movie in movies:
            await pg.upsert_rating(G1, user, movie.id, (user + movie.id) % 10 + 1)
    version, count = await pg.ratings_version(G1)
    job = RefitJob(database=pg.database, guild_id=G1,
                   config=ModelConfig(features=2, maxiter=10, seed=1), settings_key="p",
                   tune_reg=False, max_ratings=10**6, max_cells=10**8)
    pool = TrainingPool(mode="process")
    try:
        result = await pool.refit(job, count)
    finally:
        pool.shutdown()
    assert result.blob is not None and result.saved and result.ratings_version == version
    state = await pg.load_model_state(G1)
    assert state is not None and state.blob == result.blob and state.settings_key == "p"
    assert CFModel.from_bytes(state.blob).knows_user(5)


def test_shared_migrations_render_each_backends_types():
    """Migrations written once (`bot/storage/sql/schema.py`) come out in each backend's
    terms: no placeholder left, no PostgreSQL type in SQLite's list."""
    from bot.storage.sql.schema import POSTGRES_TYPES, SQLITE_TYPES, shared_migrations

    for types in (SQLITE_TYPES, POSTGRES_TYPES):
        for migration in shared_migrations(types):
            assert all("{" not in s and "}" not in s for s in migration.statements)
    sqlite = " ".join(s for m in shared_migrations(SQLITE_TYPES) for s in m.statements)
    assert not any(word in sqlite for word in ("bigint", "smallint", "double precision"))
    shared = [m.version for m in shared_migrations(SQLITE_TYPES)]
    assert shared == [m.version for m in MIGRATIONS if 13 <= m.version <= shared[-1]]
