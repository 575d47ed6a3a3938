"""Storage API: movies, guild visibility, ratings (upsert), arrays, settings, lifecycle, backup.

The contract tests take `store` (tests/storage/conftest.py): they run on SQLite and on
PostgreSQL. Tests of SQLite's own SQL and backup take `sqlite_store`.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from bot.storage import (
    DuplicateMovieError,
    GuildSettings,
    MovieRow,
    RatingArrays,
    Storage,
    StorageError,
    UnknownMovieError,
)

G1, G2 = 1001, 2002
ALICE, BOB = 111_111_111_111_111_111, 222_222_222_222_222_222  # snowflake-sized ids


@pytest.fixture
async def movies(store):
    matrix = await store.add_movie("Matrix, The", 1999, ["Action", "Sci-Fi"], movielens_id=2571)
    heat = await store.add_movie("Heat", 1995, ["Crime", "Thriller"], imdb_id="tt0113277")
    local = await store.add_movie("Our Club Film", 2021, ["Drama"], guild_id=G1)
    return matrix, heat, local


# ------------------------------------------------------------------------------ movies
async def test_add_and_get_movie(store, movies):
    matrix, heat, _ = movies
    assert matrix.title == "The Matrix"  # natural order for display
    assert matrix.label == "The Matrix (1999)"
    assert matrix.genres == ("Action", "Sci-Fi")
    assert await store.get_movie(G1, matrix.id) == matrix
    assert await store.get_movie(None, heat.id) == heat
    assert (await store.get_movie(G2, heat.id)).imdb_id == "tt0113277"
    assert await store.get_movie(G1, 999_999) is None
    nameless = await store.add_movie("Untitled Project", None, [])
    assert nameless.label == "Untitled Project"


async def test_guild_movies_are_invisible_to_other_guilds(store, movies):
    matrix, _, local = movies
    assert await store.get_movie(G1, local.id) == local
    assert await store.get_movie(G2, local.id) is None
    assert await store.get_movie(None, local.id) is None
    assert set(await store.get_movies(G1, [matrix.id, local.id, 424242])) == {matrix.id, local.id}
    assert set(await store.get_movies(G2, [matrix.id, local.id])) == {matrix.id}
    assert await store.get_movies(G1, []) == {}
    assert await store.resolve_movie(G2, f"#{local.id}") is None
    assert await store.resolve_movie(G2, "Our Club Film") is None
    assert await store.search_movies(G2, "our club film") == []
    assert local.id in await store.movie_ids_with_genre(G1, "drama")
    assert local.id not in await store.movie_ids_with_genre(G2, "Drama")
    assert "Drama" in await store.genres(G1)
    assert "Drama" not in await store.genres(G2)
    with pytest.raises(UnknownMovieError):
        await store.upsert_rating(G2, ALICE, local.id, 5)


async def test_duplicates_are_detected_per_visibility(store, movies):
    matrix, _, local = movies
    with pytest.raises(DuplicateMovieError) as caught:
        await store.add_movie("The Matrix", 1999, [], guild_id=G1)  # catalog already has it
    assert caught.value.existing == matrix
    with pytest.raises(DuplicateMovieError):
        await store.add_movie("  matrix,   THE ", 1999, [])  # same normalised title
    with pytest.raises(DuplicateMovieError):
        await store.add_movie("OUR CLUB FILM!", 2021, [], guild_id=G1)
    with pytest.raises(DuplicateMovieError):
        await store.add_movie("Something Else", 1999, [], movielens_id=2571)
    # Another guild may add its own copy of G1's title; another year is another movie.
    other = await store.add_movie("Our Club Film", 2021, [], guild_id=G2)
    assert other.id != local.id
    assert (await store.add_movie("The Matrix", 2030, [])).year == 2030
    with pytest.raises(ValueError):
        await store.add_movie("   ", 2000, [])
    with pytest.raises(ValueError):
        await store.add_movie("x" * 301, 2000, [])


async def test_counts_and_genres(store, movies):
    assert await store.movie_count() == 3
    assert await store.catalog_count() == 2
    assert await store.count_guild_movies(G1) == 1
    assert await store.count_guild_movies(G2) == 0
    assert await store.genres(G2) == ["Action", "Crime", "Sci-Fi", "Thriller"]
    matrix, _heat, _ = movies
    assert await store.movie_ids_with_genre(G2, "sci-fi") == {matrix.id}
    assert await store.movie_ids_with_genre(G2, "Sci") == set()  # whole genre only
    assert await store.movie_ids_with_genre(G2, "%") == set()


async def test_resolve_movie(store, movies):
    matrix, heat, local = movies
    assert await store.resolve_movie(G1, f"#{matrix.id}") == matrix
    assert await store.resolve_movie(G1, f"  #{local.id} ") == local
    assert await store.resolve_movie(G1, "#999999") is None
    assert await store.resolve_movie(G1, "The Matrix (1999)") == matrix
    assert await store.resolve_movie(G1, "matrix") == matrix
    assert await store.resolve_movie(G1, "Matrix, The (1999)") == matrix
    assert await store.resolve_movie(G1, "The Matrix (2005)") is None
    assert await store.resolve_movie(G1, "Matrx") is None  # exact only; search is fuzzy
    assert await store.resolve_movie(G1, "") is None
    assert await store.resolve_movie(G1, "   ") is None
    assert await store.resolve_movie(G1, "#") is None
    assert await store.resolve_movie(G1, "a" * 301) is None
    # Two visible movies with the same title: ambiguous without the year.
    remake = await store.add_movie("Heat", 2013, [])
    assert await store.resolve_movie(G1, "Heat") is None
    assert await store.resolve_movie(G1, "Heat (2013)") == remake
    assert await store.resolve_movie(G1, "Heat (1995)") == heat


# ----------------------------------------------------------------------------- ratings
async def test_upsert_returns_previous_score_and_keeps_one_row(store, movies, sql_value):
    matrix, _heat, _ = movies
    assert await store.upsert_rating(G1, ALICE, matrix.id, 8) is None
    assert await store.upsert_rating(G1, ALICE, matrix.id, 3) == 8
    assert await store.upsert_rating(G1, ALICE, matrix.id, 3) == 3
    assert await store.get_rating(G1, ALICE, matrix.id) == 3
    assert await store.count_member_ratings(G1, ALICE) == 1
    # Same member and movie in another guild is a separate rating.
    assert await store.upsert_rating(G2, ALICE, matrix.id, 10) is None
    assert await store.get_rating(G1, ALICE, matrix.id) == 3
    assert await sql_value("SELECT count(*) FROM ratings WHERE user_id = ? AND movie_id = ?",
                           ALICE, matrix.id) == 2


@pytest.mark.parametrize("score", [0, 11, -1, True, 5.5, "7"])
async def test_scores_outside_1_to_10_are_rejected(store, movies, score):
    with pytest.raises(ValueError):
        await store.upsert_rating(G1, ALICE, movies[0].id, score)
    assert await store.get_rating(G1, ALICE, movies[0].id) is None


async def test_check_constraint_rejects_score_11_in_sql(sqlite_store):
    movie = await sqlite_store.add_movie("Heat", 1995)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        await sqlite_store.connection.execute(
            "INSERT INTO ratings (guild_id, user_id, movie_id, score, updated_at) "
            "VALUES (?, ?, ?, 11, 0)", (G1, ALICE, movie.id))


async def test_foreign_key_rejects_unknown_movie_in_sql(sqlite_store):
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        await sqlite_store.connection.execute(
            "INSERT INTO ratings (guild_id, user_id, movie_id, score, updated_at) "
            "VALUES (1, 1, 424242, 5, 0)")


async def test_unknown_movie_cannot_be_rated(store):
    with pytest.raises(UnknownMovieError):
        await store.upsert_rating(G1, ALICE, 424242, 5)


async def test_member_ratings_newest_first_with_paging(store, movies):
    matrix, heat, local = movies
    await store.upsert_rating(G1, ALICE, matrix.id, 9)
    await store.upsert_rating(G1, ALICE, heat.id, 6)
    await store.upsert_rating(G1, ALICE, local.id, 4)
    await store.upsert_rating(G1, ALICE, matrix.id, 10)  # re-rating makes it the newest
    rated = await store.member_ratings(G1, ALICE)
    assert [(r.movie.id, r.score) for r in rated] == [
        (matrix.id, 10), (local.id, 4), (heat.id, 6)]
    assert rated[0].updated_at.tzinfo is not None
    assert abs(rated[0].updated_at - datetime.now(UTC)) < timedelta(minutes=1)
    page = await store.member_ratings(G1, ALICE, limit=1, offset=1)
    assert [r.movie.id for r in page] == [local.id]
    assert await store.member_ratings(G2, ALICE) == []


async def test_delete_rating_and_member_ratings(store, movies):
    matrix, heat, _ = movies
    await store.upsert_rating(G1, ALICE, matrix.id, 9)
    await store.upsert_rating(G1, ALICE, heat.id, 6)
    await store.upsert_rating(G1, BOB, heat.id, 2)
    await store.upsert_rating(G2, ALICE, heat.id, 2)
    assert await store.delete_rating(G1, ALICE, matrix.id)
    assert not await store.delete_rating(G1, ALICE, matrix.id)
    assert await store.delete_member_ratings(G1, ALICE) == 1
    assert await store.count_member_ratings(G1, ALICE) == 0
    assert await store.get_rating(G1, BOB, heat.id) == 2
    assert await store.get_rating(G2, ALICE, heat.id) == 2


async def test_movie_stats(store, movies):
    matrix, _heat, _ = movies
    assert await store.movie_stats(G1, matrix.id) == (None, 0)
    await store.upsert_rating(G1, ALICE, matrix.id, 9)
    await store.upsert_rating(G1, BOB, matrix.id, 6)
    await store.upsert_rating(G2, BOB, matrix.id, 1)
    assert await store.movie_stats(G1, matrix.id) == (7.5, 2)


async def test_score_counts_of_some_movies_in_one_guild(store, movies):
    matrix, heat, local = movies
    assert await store.score_counts(G1, []) == {}
    await store.upsert_rating(G1, ALICE, matrix.id, 9)
    await store.upsert_rating(G1, BOB, matrix.id, 9)
    await store.upsert_rating(G1, BOB, heat.id, 2)
    await store.upsert_rating(G1, ALICE, local.id, 5)
    await store.upsert_rating(G2, BOB, matrix.id, 1)  # another guild: not counted
    assert await store.score_counts(G1, [matrix.id]) == {9: 2}
    assert await store.score_counts(G1, [matrix.id, heat.id]) == {9: 2, 2: 1}


async def test_guild_ratings_as_numpy_columns(store, movies):
    matrix, heat, local = movies
    await store.upsert_rating(G1, BOB, heat.id, 2)
    await store.upsert_rating(G1, ALICE, matrix.id, 9)
    await store.upsert_rating(G1, ALICE, local.id, 4)
    await store.upsert_rating(G2, ALICE, heat.id, 7)
    arrays = await store.guild_ratings(G1)
    assert isinstance(arrays, RatingArrays)
    assert arrays.user_ids.dtype == np.int64
    assert arrays.movie_ids.dtype == np.int64
    assert arrays.scores.dtype == np.float32
    assert len(arrays) == 3
    got = sorted(zip(arrays.user_ids.tolist(), arrays.movie_ids.tolist(),
                     arrays.scores.tolist(), strict=True))
    assert got == sorted([(BOB, heat.id, 2.0), (ALICE, matrix.id, 9.0), (ALICE, local.id, 4.0)])
    empty = await store.guild_ratings(424242)
    assert len(empty) == 0 and empty.user_ids.dtype == np.int64
    assert empty.scores.dtype == np.float32


async def test_guild_ratings_over_several_chunks(store, monkeypatch):
    from bot.storage.sqlite import ratings as sqlite_ratings

    monkeypatch.setattr(sqlite_ratings, "RATINGS_CHUNK", 3)  # members: 4 members -> 2 chunks
    await store.add_movies_bulk([MovieRow(f"Film {i}", 2000, ()) for i in range(5)])
    ids = sorted((await store.get_movies(G1, range(1, 6))).keys())
    expected = []
    for user in range(1, 5):
        for movie_id in ids:
            score = (user + movie_id) % 10 + 1
            await store.upsert_rating(G1, user, movie_id, score)
            expected.append((user, movie_id, float(score)))
    arrays = await store.guild_ratings(G1)
    assert list(zip(arrays.user_ids.tolist(), arrays.movie_ids.tolist(),
                    arrays.scores.tolist(), strict=True)) == expected


# ---------------------------------------------------------------------- guild settings
async def test_guild_settings_defaults_and_updates(store):
    assert await store.get_guild_settings(G1) == GuildSettings(G1)
    updated = await store.update_guild_settings(
        G1, add_movie_permission="everyone", ratings_visible=False, features=12,
        regularization=2, min_ratings_for_personal=5)
    assert updated == GuildSettings(G1, "everyone", False, 5, 12, 2.0)
    assert await store.get_guild_settings(G1) == updated
    assert await store.get_guild_settings(G2) == GuildSettings(G2)
    reset = await store.update_guild_settings(G1, features=None)
    assert reset.features is None and reset.add_movie_permission == "everyone"
    for bad in ({"add_movie_permission": "admins"}, {"ratings_visible": 1},
                {"features": 0}, {"regularization": -1.0}, {"colour": "red"}):
        with pytest.raises(ValueError):
            await store.update_guild_settings(G1, **bad)
    assert (await store.get_guild_settings(G1)).ratings_visible is False


async def test_model_blob_roundtrip(store):
    assert await store.load_model(G1) is None
    await store.save_model(G1, b"\x00first")
    await store.save_model(G1, b"\x00second")
    assert await store.load_model(G1) == b"\x00second"
    assert await store.load_model(G2) is None


# ---------------------------------------------------------------- lifecycle and privacy
async def test_guild_lifecycle_and_purge(store, movies):
    matrix, heat, local = movies
    await store.upsert_rating(G1, ALICE, matrix.id, 9)
    await store.upsert_rating(G1, BOB, local.id, 3)
    await store.upsert_rating(G2, ALICE, heat.id, 5)
    await store.update_guild_settings(G1, features=4)
    await store.save_model(G1, b"model")
    now = datetime.now(UTC)
    await store.mark_guild_left(G1, now - timedelta(days=40))
    await store.mark_guild_left(G2, now - timedelta(days=1))
    assert await store.guilds_left_before(now - timedelta(days=30)) == [G1]
    await store.mark_guild_joined(G1)
    assert await store.guilds_left_before(now) == [G2]
    assert (await store.get_guild_settings(G1)).features == 4  # rejoining keeps settings

    removed = await store.purge_guild(G1)
    assert removed == 2 + 1 + 1 + 1 + 1  # ratings, guild movie, settings, model, version
    assert await store.count_member_ratings(G1, ALICE) == 0
    assert await store.get_movie(G1, local.id) is None
    assert await store.get_guild_settings(G1) == GuildSettings(G1)
    assert await store.load_model(G1) is None
    assert await store.get_movie(G1, matrix.id) == matrix  # catalog untouched
    assert await store.get_rating(G2, ALICE, heat.id) == 5  # other guilds untouched
    assert await store.purge_guild(G1) == 0


async def test_backup_is_a_complete_database(sqlite_store, tmp_path):
    store = sqlite_store
    movies = [await store.add_movie("Matrix, The", 1999, ["Action", "Sci-Fi"]),
              await store.add_movie("Heat", 1995, []),
              await store.add_movie("Our Club Film", 2021, ["Drama"], guild_id=G1)]
    await store.upsert_rating(G1, ALICE, movies[0].id, 8)
    dest = await store.backup(tmp_path / "backups" / "copy.sqlite3")
    assert not (tmp_path / "backups" / "copy.sqlite3.partial").exists()
    async with await Storage.open(dest) as copy:
        assert await copy.get_rating(G1, ALICE, movies[0].id) == 8
        assert await copy.movie_count() == 3
        assert [m.title for m in await copy.search_movies(G1, "matrix")] == ["The Matrix"]


async def test_bulk_import_is_idempotent_and_fills_missing_ids(store):
    rows = [MovieRow("Toy Story", 1995, ("Animation",), 1),
            MovieRow("Jumanji", 1995, ("Adventure",), 2),
            MovieRow("Jumanji", 1995, ("Adventure",), 2)]  # duplicate inside the batch
    first = await store.add_movies_bulk(rows)
    assert (first.added, first.existing) == (2, 1)
    again = await store.add_movies_bulk(rows)
    assert (again.added, again.existing) == (0, 3)
    plain = await store.add_movie("Heat", 1995, [])
    result = await store.add_movies_bulk([MovieRow("Heat", 1995, ("Crime",), 6, "tt0113277", 949)])
    assert (result.added, result.updated_ids) == (0, 1)
    heat = await store.get_movie(None, plain.id)
    assert (heat.movielens_id, heat.imdb_id, heat.tmdb_id, heat.genres) == (
        6, "tt0113277", 949, ("Crime",))
    assert await store.movie_count() == 3


async def test_member_rating_arrays_are_one_members_ratings_in_one_guild(store, movies):
    matrix, heat, _local = movies
    await store.upsert_rating(G1, ALICE, heat.id, 7)
    await store.upsert_rating(G1, ALICE, matrix.id, 9)
    await store.upsert_rating(G1, BOB, matrix.id, 2)
    await store.upsert_rating(G2, ALICE, heat.id, 1)
    ids, scores = await store.member_rating_arrays(G1, ALICE)
    assert ids.dtype == np.int64 and scores.dtype == np.float32
    assert dict(zip(ids.tolist(), scores.tolist(), strict=True)) == {heat.id: 7.0,
                                                                     matrix.id: 9.0}
    empty_ids, empty_scores = await store.member_rating_arrays(G2, BOB)
    assert empty_ids.size == 0 and empty_scores.size == 0


async def test_ratings_version_moves_with_every_change_and_guards_model_saves(store, movies):
    matrix, heat, _ = movies
    assert await store.ratings_version(G1) == (0, 0)
    await store.upsert_rating(G1, ALICE, matrix.id, 8)
    v1, count = await store.ratings_version(G1)
    assert count == 1 and v1 > 0
    await store.upsert_rating(G1, ALICE, matrix.id, 8)  # same score: no change
    assert await store.ratings_version(G1) == (v1, 1)
    await store.upsert_rating(G1, ALICE, matrix.id, 9)
    await store.upsert_rating(G1, BOB, heat.id, 3)
    v2, count = await store.ratings_version(G1)
    assert v2 > v1 and count == 2
    await store.delete_rating(G1, BOB, heat.id)
    v3, count = await store.ratings_version(G1)
    assert v3 > v2 and count == 1
    assert await store.ratings_version(G2) == (0, 0)  # per guild

    # The generation guard: a fit of older ratings never replaces a newer model.
    assert await store.save_model(G1, b"new", ratings_version=v3, settings_key="k")
    assert not await store.save_model(G1, b"old", ratings_version=v1, settings_key="k")
    state = await store.load_model_state(G1)
    assert state is not None and (state.blob, state.ratings_version) == (b"new", v3)
    # Forgetting leaves a tombstone at the current version: an older fit cannot write back.
    await store.delete_model(G1)
    assert await store.load_model(G1) is None
    assert not await store.save_model(G1, b"stale", ratings_version=v2, settings_key="k")
    assert await store.load_model(G1) is None
    assert await store.save_model(G1, b"fresh", ratings_version=v3, settings_key="k")
    assert await store.load_model(G1) == b"fresh"


async def test_server_names_show_in_the_summary_and_go_with_the_purge(store, movies):
    # Issue 21, item 10: `stats` names the busiest servers; the names are purged with them.
    from bot.storage.models import GuildName

    matrix, heat, _local = movies
    await store.upsert_rating(G1, ALICE, matrix.id, 9)
    await store.upsert_rating(G1, BOB, heat.id, 7)
    await store.upsert_rating(G2, ALICE, heat.id, 5)
    await store.save_guild_names([GuildName(G1, "Film Club", 12)])
    await store.save_guild_names([GuildName(G1, "Film Club Renamed", 13),
                                  GuildName(G2, "Other", None)])
    busiest = (await store.summary()).busiest
    assert [(g.guild_id, g.name, g.ratings) for g in busiest] == [
        (G1, "Film Club Renamed", 2), (G2, "Other", 1)]
    assert await store.purge_guild(G2) == 1 + 1 + 1  # the rating, its version, the name
    await store.upsert_rating(G2, ALICE, heat.id, 5)
    assert [g.name for g in (await store.summary()).busiest] == ["Film Club Renamed", None]
    await store.save_guild_names([])  # nothing to write: no error


async def test_the_sqlite_storage_refuses_a_postgresql_url(tmp_path, monkeypatch):
    """Never an SQLite file named like a URL: `open_storage` picks the backend (the SQLite
    module does not import the PostgreSQL one, which builds on it: no import circle)."""
    monkeypatch.chdir(tmp_path)
    for url in ("postgresql://bot@db/moviebot", "postgres://bot@db/moviebot"):
        with pytest.raises(StorageError, match="open_storage"):
            await Storage.open(url)
    assert list(tmp_path.iterdir()) == []
