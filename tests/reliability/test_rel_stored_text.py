"""Security round 2, row 18: one NUL character in cached TMDB text made the whole `db copy`
fail (SQLite keeps a NUL, PostgreSQL refuses it). The promises: text is cleaned at the door
(TMDB's answers, and storage's own writes of outside text: titles, cached details, the
prior's titles, on both backends), and `db copy` never fails on content the source accepted
(an old cache row with a NUL, bytes that are not UTF-8)."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from aiohttp import web

from bot.__main__ import main
from bot.domain.models import Movie, MovieDetails
from bot.domain.stored_text import clean_text
from bot.storage import MovieRow, PostgresStorage, Storage
from bot.storage.models import PriorMovie
from bot.tmdb import TmdbClient

HOSTILE = "A spy\x00 story\x07 with\ud800 controls.\nSecond line\tends."
CLEAN = "A spy story with controls.\nSecond line ends."


def test_clean_text_keeps_printable_text_and_drops_what_databases_refuse() -> None:
    assert clean_text(HOSTILE, newlines=True) == CLEAN
    assert clean_text(HOSTILE) == CLEAN.replace("\n", " ")
    kept = "Amélie — 千と千尋 \u200d👩‍👩‍👧"
    assert clean_text(kept) == kept


async def test_tmdb_text_is_cleaned_when_it_comes_in() -> None:
    async def details(request: web.Request) -> web.Response:
        return web.json_response({"id": 7, "title": "Spy", "original_title": "Sp\x00y\x1b[31m",
                                  "overview": HOSTILE, "runtime": 90})

    app = web.Application()
    app.router.add_get("/3/movie/{id}", details)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    client = TmdbClient("key", base_url=f"http://127.0.0.1:{port}")
    try:
        found = await client.lookup(Movie(1, "Spy", 2001, tmdb_id=7))
    finally:
        await client.close()
        await runner.cleanup()
    assert found.overview == CLEAN
    assert found.original_title == "Spy[31m"  # the escape character is gone


@pytest.fixture
async def any_store(backend, tmp_path, request):
    if backend == "sqlite":
        store = await Storage.open(tmp_path / "bot.sqlite3")
    else:
        store = await PostgresStorage.open(request.getfixturevalue("postgres_database"))
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture(params=("sqlite", "postgres"))
def backend(request) -> str:
    return str(request.param)


async def test_storage_cleans_outside_text_on_both_backends(any_store) -> None:
    """What a source other than TMDB's client could hand storage (a catalog or dataset file,
    a future caller): stored cleaned, never refused by one backend and kept by the other."""
    store = any_store
    added = await store.add_movie("Night\x00 Train", 1999)
    await store.add_movies_bulk([MovieRow("Bulk\x00 Film\x07", 2001, ("Drama",))])
    await store.save_movie_details(MovieDetails(added.id, 7, 1.0, None, HOSTILE, 90,
                                                "Orig\x00inal"))
    cached = (await store.movie_details([added.id]))[added.id]
    assert (cached.overview, cached.original_title) == (CLEAN, "Original")
    assert (await store.get_movie(1, added.id)).title == "Night Train"
    assert [m.title for m in await store.search_movies(1, "bulk film")] == ["Bulk Film"]
    await store.save_prior(b"blob", source="test", id_kind="movielens",
                           movies=[PriorMovie(5, "Prior\x00 Title", 1990, n_ratings=3)],
                           stored_keys=[5], links=[], dataset_users=1, dataset_ratings=3)
    assert [m.title for m in await store.prior_movies()] == ["Prior Title"]


def _old_cache_with_a_nul(path) -> int:
    """A database written before the door was closed: a cached overview with a NUL, a title
    holding bytes that are not UTF-8 (SQLite keeps any bytes in TEXT)."""
    async def create() -> int:
        async with await Storage.open(path) as store:
            movie = await store.add_movie("Old Film", 1980)
            await store.add_movie("Other Film", 1981)
            return movie.id

    movie_id = asyncio.run(create())
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.execute("INSERT INTO movie_details (movie_id, tmdb_id, fetched_at, poster_url, "
                         "overview, runtime, original_title) VALUES (?, 7, 1.0, NULL, ?, 90, ?)",
                         (movie_id, "Cached\x00 overview.\nMore.", "Ori\x00g"))
            conn.execute("UPDATE movies SET genres = CAST(? AS TEXT) WHERE title = 'Other Film'",
                         (b"Dr\xffama",))
    finally:
        conn.close()
    return movie_id


def test_db_copy_succeeds_on_text_the_source_accepted(tmp_path, postgres_database, capsys):
    source = tmp_path / "bot.sqlite3"
    movie_id = _old_cache_with_a_nul(source)
    assert main(["db", "copy", "--to", postgres_database, "--from", str(source)]) == 0, \
        capsys.readouterr().err

    async def check() -> None:
        async with await PostgresStorage.open(postgres_database) as pg:
            cached = (await pg.movie_details([movie_id]))[movie_id]
            assert cached.overview == "Cached overview.\nMore."
            assert cached.original_title == "Orig"
            other = await pg.search_movies(1, "Other Film")
            assert other and other[0].genres == ("Dr\ufffdama",)

    asyncio.run(check())
