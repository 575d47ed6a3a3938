"""SQLite reads and single writes are one round trip to their connection's thread (issue 24):
aiosqlite's `execute`, `fetchall` and the cursor's close are one each, and on a busy process
every round trip is a wait for the GIL on both sides, which members' commands queue behind."""

from __future__ import annotations


def count_trips(store) -> list[int]:
    calls = [0]
    connections = [store._conn, store._bulk, *store._readers._connections]
    for conn in {id(c): c for c in connections}.values():
        execute = conn._execute

        async def counting(fn, *args, _execute=execute, **kwargs):
            calls[0] += 1
            return await _execute(fn, *args, **kwargs)

        conn._execute = counting
    return calls


async def test_a_read_and_a_single_write_are_one_round_trip_each(sqlite_store):
    store = sqlite_store
    movie = await store.add_movie("Alien", 1979, ["Horror"], guild_id=None)
    await store.upsert_rating(1, 10, movie.id, 7)
    calls = count_trips(store)
    assert await store.get_rating(1, 10, movie.id) == 7  # a fetchone
    assert calls[0] == 1
    ids, scores = await store.member_rating_arrays(1, 10)  # a fetchall
    assert list(ids) == [movie.id] and list(scores) == [7]
    assert calls[0] == 2
    settings = await store.get_guild_settings(1)
    assert settings.guild_id == 1
    assert calls[0] == 3
    assert await store.delete_rating(1, 10, movie.id)  # one autocommit write
    assert calls[0] == 4
    assert await store.get_rating(1, 10, movie.id) is None
