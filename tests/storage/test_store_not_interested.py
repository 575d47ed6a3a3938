"""Storage contract for "Not interested" (issue 23 item 5), on SQLite and PostgreSQL: hide a
visible movie, list newest first, undo, the cap forgets the oldest, /forgetme's delete and the
purge of a departed guild."""

from __future__ import annotations

import pytest

from bot.storage import UnknownMovieError

G1, G2 = 1001, 2002
ALICE, BOB = 111_111_111_111_111_111, 222_222_222_222_222_222


@pytest.fixture
async def movies(store):
    heat = await store.add_movie("Heat", 1995, ["Crime"])
    matrix = await store.add_movie("Matrix, The", 1999, ["Sci-Fi"])
    up = await store.add_movie("Up", 2009, ["Animation"])
    local = await store.add_movie("Our Club Film", 2021, ["Drama"], guild_id=G1)
    return heat, matrix, up, local


async def test_hide_list_undo_and_forget(store, movies):
    heat, matrix, up, local = movies
    assert await store.not_interested_add(G1, ALICE, heat.id)
    assert not await store.not_interested_add(G1, ALICE, heat.id)  # already hidden
    assert await store.not_interested_add(G1, ALICE, local.id)
    with pytest.raises(UnknownMovieError):
        await store.not_interested_add(G2, ALICE, local.id)  # not visible in that guild
    assert await store.not_interested_add(G1, BOB, matrix.id)
    assert await store.not_interested_ids(G1, ALICE) == sorted([heat.id, local.id])
    assert next(e.movie.id for e in await store.not_interested(G1, ALICE)) == local.id
    assert await store.count_not_interested(G1, ALICE) == 2
    assert await store.not_interested_ids(G2, ALICE) == []
    assert await store.not_interested_remove(G1, ALICE, [heat.id, up.id]) == 1
    assert await store.not_interested_ids(G1, ALICE) == [local.id]
    assert await store.delete_member_not_interested(G1, ALICE) == 1
    assert await store.count_not_interested(G1, ALICE) == 0
    assert await store.not_interested_ids(G1, BOB) == [matrix.id]  # others untouched


async def test_the_cap_forgets_the_oldest(store, movies):
    heat, matrix, up, _ = movies
    for movie in (heat, matrix, up):
        await store.not_interested_add(G1, ALICE, movie.id, cap=2)
    assert set(await store.not_interested_ids(G1, ALICE)) == {matrix.id, up.id}


async def test_purge_deletes_the_guilds_hidden_movies(store, movies):
    heat, _, _, local = movies
    await store.not_interested_add(G1, ALICE, heat.id)
    await store.not_interested_add(G1, ALICE, local.id)
    await store.not_interested_add(G2, ALICE, heat.id)
    await store.purge_guild(G1)
    assert await store.not_interested_ids(G1, ALICE) == []
    assert await store.not_interested_ids(G2, ALICE) == [heat.id]
