"""Security round 2, row 11 (storage contract, SQLite and PostgreSQL): every write that adds
to a watchlist honours the cap, inside its own transaction: `watchlist_add`, a movie night's
`watchlist_add_members` and `import_history` (which went past it: 5,500 imported into a
5,000-movie watchlist). The cap defaults to `MAX_WATCHLIST`, so no caller can forget it."""

from __future__ import annotations

import asyncio

import pytest

from bot.domain.watchlist import MAX_WATCHLIST
from bot.storage import MovieRow, WatchlistCapError

G1 = 1001
ALICE, BOB, CAROL = 111_111_111_111_111_111, 222_222_222_222_222_222, 333_333_333_333_333_333
CAP = 3


@pytest.fixture
async def ids(store) -> list[int]:
    await store.add_movies_bulk([MovieRow(f"Capped Film {i}", 2000, ("Drama",))
                                 for i in range(12)])
    found = await store.movies_by_title(G1, {f"capped film {i}" for i in range(12)})
    assert len(found) == 12
    return [found[f"capped film {i}"][0].id for i in range(12)]


async def test_adding_one_movie_stops_at_the_cap(store, ids):
    for movie_id in ids[:CAP]:
        assert await store.watchlist_add(G1, ALICE, movie_id, cap=CAP)
    with pytest.raises(WatchlistCapError):
        await store.watchlist_add(G1, ALICE, ids[CAP], cap=CAP)
    assert not await store.watchlist_add(G1, ALICE, ids[0], cap=CAP)  # already on it: no error
    assert await store.count_watchlist(G1, ALICE) == CAP


async def test_concurrent_adds_cannot_race_past_the_cap(store, ids):
    results = await asyncio.gather(*(store.watchlist_add(G1, ALICE, movie_id, cap=CAP)
                                     for movie_id in ids), return_exceptions=True)
    assert sum(r is True for r in results) == CAP
    assert all(isinstance(r, WatchlistCapError) for r in results if r is not True)
    assert await store.count_watchlist(G1, ALICE) == CAP


async def test_a_movie_night_winner_skips_full_watchlists(store, ids):
    for movie_id in ids[:CAP]:
        await store.watchlist_add(G1, ALICE, movie_id, cap=CAP)
    added = await store.watchlist_add_members(G1, [ALICE, BOB], ids[CAP], cap=CAP)
    assert added == 1  # Bob's; Alice's watchlist is full
    assert await store.count_watchlist(G1, ALICE) == CAP
    assert await store.count_watchlist(G1, BOB) == 1


async def test_an_import_fills_the_watchlist_up_to_the_cap_and_counts_the_rest(store, ids):
    await store.watchlist_add(G1, ALICE, ids[0], cap=CAP)
    counts = await store.import_history(G1, ALICE, [], ids, watchlist_cap=CAP)
    assert (counts.watchlisted, counts.watchlist_full) == (CAP - 1, len(ids) - CAP)
    assert await store.count_watchlist(G1, ALICE) == CAP
    # Rating movies in the same import frees their places first.
    counts = await store.import_history(G1, ALICE, [(ids[0], 7), (ids[1], 8)], ids,
                                        watchlist_cap=CAP)
    assert await store.count_watchlist(G1, ALICE) == CAP
    assert counts.watchlisted == 2 and counts.watchlist_full == len(ids) - 2 - CAP


async def test_the_cap_applies_when_no_caller_names_it(store, ids):
    """The default is the real cap: filled through the import (no cap named), one more add
    through any path is refused."""
    rows = [MovieRow(f"Filler {i}", 2001, ()) for i in range(MAX_WATCHLIST)]
    await store.add_movies_bulk(rows)
    found = await store.movies_by_title(G1, {f"filler {i}" for i in range(MAX_WATCHLIST)})
    filler = sorted(movies[0].id for movies in found.values())
    assert len(filler) == MAX_WATCHLIST
    counts = await store.import_history(G1, CAROL, [], filler + ids)
    assert counts.watchlisted == MAX_WATCHLIST and counts.watchlist_full == len(ids)
    with pytest.raises(WatchlistCapError):
        await store.watchlist_add(G1, CAROL, ids[0])
    assert await store.watchlist_add_members(G1, [CAROL], ids[0]) == 0
    assert await store.count_watchlist(G1, CAROL) == MAX_WATCHLIST
