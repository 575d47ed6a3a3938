"""The member-data registry covers every table holding a member id, on both backends.

A table with a `user_id` column (created by `bot/storage/sqlite/migrations.py` or
`bot/storage/postgres/migrations.py`) holds members' rows: `/forgetme`, `/export`, the purge of a
departed server and `db copy` reach it only through the registry (`bot.service.member_data`),
so a table no service registers would be silently left behind. The failure names the call to
add. Also here: the registry's delete of a member's rows is one transaction.
"""

from __future__ import annotations

import pytest

from bot.service.app import member_tables
from bot.service.member_data import MemberTable

G1, G2 = 1001, 2002
ALICE, BOB = 111_111_111_111_111_111, 222_222_222_222_222_222


def coverage_problems(schema: dict[str, tuple[str, ...]],
                      registered: tuple[MemberTable, ...]) -> list[str]:
    """What is wrong between the schema's member tables and the registered ones, each as the
    fix to make (empty: all covered)."""
    problems = []
    listed = {table.name: table.columns for table in registered}
    for name, columns in sorted(schema.items()):
        if name not in listed:
            problems.append(
                f"table {name!r} holds member ids (a user_id column) but no service registers "
                "it, so /forgetme, /export, the purge of a departed server and `db copy` "
                "would all miss it. In the constructor of the service that owns it (taking "
                "`member_data: MemberDataRegistry`, passed in by Services.build) add:\n"
                f"    member_data.register(MemberData(\n"
                f"        {name!r}, (MemberTable({name!r}, {columns!r}),),\n"
                f"        count=self.count, export=self.export_file))\n"
                "(see bot/service/member_data.py; export=None if /export should not include "
                "it)")
        elif tuple(listed[name]) != columns:
            problems.append(f"MemberTable({name!r}) lists the columns {listed[name]!r} but the "
                            f"schema has {columns!r}: `db copy` copies the listed ones")
    problems.extend(f"MemberTable({name!r}) is registered but the schema has no such table "
                    "with a user_id column" for name in sorted(set(listed) - set(schema)))
    return problems


async def test_every_table_with_a_member_id_is_registered(store):
    schema = await store.member_tables()
    assert {"ratings", "watchlist"} <= set(schema)  # the scan finds them
    problems = coverage_problems(schema, member_tables(store))
    assert not problems, "\n\n".join(problems)


def test_a_table_nobody_registers_is_named_with_the_call_to_add():
    schema = {"ratings": ("guild_id", "user_id", "movie_id", "score", "updated_at"),
              "seen": ("guild_id", "user_id", "movie_id", "seen_at")}
    registered = (MemberTable("ratings", schema["ratings"]),)
    (problem,) = coverage_problems(schema, registered)
    assert "table 'seen' holds member ids" in problem
    assert ("MemberTable('seen', ('guild_id', 'user_id', 'movie_id', 'seen_at'))"
            in problem)
    wrong = (MemberTable("ratings", ("guild_id", "user_id", "movie_id", "score")),
             MemberTable("seen", schema["seen"]))
    (problem,) = coverage_problems(schema, wrong)
    assert "db copy" in problem


async def test_forgetting_a_member_deletes_every_table_in_one_transaction(store):
    heat = await store.add_movie("Heat", 1995, ["Crime"])
    up = await store.add_movie("Up", 2009, ["Animation"])
    await store.upsert_rating(G1, ALICE, heat.id, 8)
    await store.upsert_rating(G1, BOB, heat.id, 6)
    await store.upsert_rating(G2, ALICE, heat.id, 7)
    await store.watchlist_add(G1, ALICE, up.id)
    with pytest.raises(Exception):  # noqa: B017 (either backend's own error)
        await store.forget_member_rows(G1, ALICE, ("ratings", "watchlist", "no_such_table"))
    assert await store.get_rating(G1, ALICE, heat.id) == 8  # rolled back: all or nothing
    assert await store.count_watchlist(G1, ALICE) == 1
    deleted = await store.forget_member_rows(G1, ALICE, ("ratings", "watchlist"))
    assert deleted == {"ratings": 1, "watchlist": 1}
    assert await store.get_rating(G1, ALICE, heat.id) is None
    assert await store.get_rating(G1, BOB, heat.id) == 6  # others and other servers stay
    assert await store.get_rating(G2, ALICE, heat.id) == 7
    with pytest.raises(ValueError):
        await store.forget_member_rows(G1, ALICE, ("ratings; DROP TABLE movies",))
