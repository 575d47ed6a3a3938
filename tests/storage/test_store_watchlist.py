"""Storage contract for issue 15, on SQLite and PostgreSQL: matching by IMDb id and
normalised title (guild visibility kept), the one-transaction history import (counts, rated
movies leave the watchlist, all or nothing), watchlist add/remove/list/counts, the purge of a
departed guild, the TMDB details cache and linking a movie's ids."""

from __future__ import annotations

import pytest

from bot.domain.title_forms import normalize
from bot.storage import UnknownMovieError

G1, G2 = 1001, 2002
ALICE, BOB = 111_111_111_111_111_111, 222_222_222_222_222_222


@pytest.fixture
async def movies(store):
    heat = await store.add_movie("Heat", 1995, ["Crime"], imdb_id="tt0113277")
    matrix = await store.add_movie("Matrix, The", 1999, ["Sci-Fi"], imdb_id="tt0133093")
    local = await store.add_movie("Our Club Film", 2021, ["Drama"], guild_id=G1,
                                  imdb_id="tt9999999")
    return heat, matrix, local


async def test_matching_by_imdb_id_and_title_respects_visibility(store, movies):
    heat, matrix, local = movies
    found = await store.movies_by_imdb(G1, ["tt0113277", "tt9999999", "tt0000001"])
    assert {k: m.id for k, m in found.items()} == {"tt0113277": heat.id, "tt9999999": local.id}
    assert set(await store.movies_by_imdb(G2, ["tt9999999"])) == set()
    titles = await store.movies_by_title(G1, [normalize("The Matrix"), normalize("our club film")])
    assert [m.id for m in titles[normalize("Matrix")]] == [matrix.id]
    assert [m.id for m in titles["our club film"]] == [local.id]
    assert await store.movies_by_title(G2, ["our club film"]) == {}


async def test_import_history_counts_and_moves_rated_movies_off_the_watchlist(store, movies):
    heat, matrix, local = movies
    await store.upsert_rating(G1, ALICE, heat.id, 6)
    assert await store.watchlist_add(G1, ALICE, matrix.id)
    counts = await store.import_history(G1, ALICE, [(heat.id, 9), (matrix.id, 7)],
                                        [local.id, heat.id])
    assert (counts.added, counts.changed, counts.unchanged, counts.watchlisted) == (1, 1, 0, 1)
    assert await store.get_rating(G1, ALICE, heat.id) == 9
    assert [e.movie.id for e in await store.watchlist(G1, ALICE)] == [local.id]
    again = await store.import_history(G1, ALICE, [(heat.id, 9)])
    assert (again.added, again.changed, again.unchanged) == (0, 0, 1)


async def test_a_failing_import_writes_nothing(store, movies):
    heat, matrix, _ = movies
    with pytest.raises(Exception):  # noqa: B017 - a foreign-key error of either backend
        await store.import_history(G1, ALICE, [(heat.id, 8), (10**12, 7)], [matrix.id])
    assert await store.count_member_ratings(G1, ALICE) == 0
    assert await store.count_watchlist(G1, ALICE) == 0


async def test_watchlist_add_remove_counts_and_purge(store, movies):
    heat, matrix, local = movies
    assert await store.watchlist_add(G1, ALICE, heat.id)
    assert not await store.watchlist_add(G1, ALICE, heat.id)
    with pytest.raises(UnknownMovieError):
        await store.watchlist_add(G2, ALICE, local.id)
    await store.upsert_rating(G1, BOB, matrix.id, 8)
    assert await store.watchlist_add_members(G1, [ALICE, BOB], matrix.id) == 1  # Bob rated it
    assert await store.watchlist_counts(G1, [ALICE, BOB]) == {heat.id: 1, matrix.id: 1}
    assert await store.count_watchlist(G1, ALICE) == 2
    assert await store.watchlist_remove(G1, ALICE, [heat.id, local.id]) == 1
    assert await store.delete_member_watchlist(G1, ALICE) == 1
    await store.watchlist_add(G1, BOB, heat.id)
    await store.purge_guild(G1)
    assert await store.count_watchlist(G1, BOB) == 0


async def test_movie_details_cache(store, movies):
    from bot.domain.models import MovieDetails

    heat, matrix, _ = movies
    assert await store.movie_details([heat.id]) == {}
    await store.save_movie_details(MovieDetails(heat.id, 949, 100.0, "https://x/p.jpg",
                                                "Cops and robbers.", 170, "Heat"))
    await store.save_movie_details(MovieDetails(matrix.id, None, 50.0))  # TMDB has none
    await store.save_movie_details(MovieDetails(10**12, 1, 1.0))  # no such movie: skipped
    found = await store.movie_details([heat.id, matrix.id, 10**12])
    assert found[heat.id].runtime == 170 and found[heat.id].poster_url == "https://x/p.jpg"
    assert found[matrix.id].tmdb_id is None and set(found) == {heat.id, matrix.id}
    await store.save_movie_details(MovieDetails(heat.id, 949, 200.0, None, None, 171, None))
    assert (await store.movie_details([heat.id]))[heat.id].fetched_at == 200.0


async def test_link_movie_ids_fills_only_missing_ids(store, movies):
    heat, _, local = movies
    await store.link_movie_ids(local.id, 42, "tt0000042")  # has an IMDb id already
    linked = await store.get_movie(G1, local.id)
    assert (linked.tmdb_id, linked.imdb_id) == (42, "tt9999999")
    await store.link_movie_ids(heat.id, 949, None)
    assert (await store.get_movie(G1, heat.id)).tmdb_id == 949
