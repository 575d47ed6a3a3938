"""The member-data registry (`bot.service.member_data`): what the services register, and
/forgetme's and /export's paths through it."""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.service.app import Services
from bot.service.gate import Gate
from bot.service.member_data import MemberData, MemberDataRegistry, MemberTable
from bot.storage import Storage

G1 = 1001
ALICE = 111_111_111_111_111_111


@pytest.fixture
async def services(tmp_path):
    storage = await Storage.open(tmp_path / "bot.sqlite3")
    services = Services.build(storage, Settings(database=tmp_path / "bot.sqlite3"))
    try:
        yield services
    finally:
        await services.close(0)


async def _none(guild_id: int, user_id: int) -> int:
    return 0


def test_the_services_register_ratings_media_watchlist_and_hidden_picks(services):
    assert [kind.name for kind in services.member_data.kinds] == [
        "ratings", "movie_nights", "media", "watchlist", "notify", "not_interested"]
    assert services.member_data.table_names() == (
        "ratings", "movie_night_members", "movie_night_skips", "media_links", "media_history",
        "watchlist", "media_notify", "media_notified", "not_interested")


def test_one_owner_per_kind_and_per_table(services):
    registry = MemberDataRegistry(services.storage, Gate())
    table = MemberTable("seen", ("guild_id", "user_id", "movie_id"))
    registry.register(MemberData("seen", (table,), count=_none))
    with pytest.raises(ValueError, match="registered already"):
        registry.register(MemberData("seen", (), count=_none))
    with pytest.raises(ValueError, match="registered already by 'seen'"):
        registry.register(MemberData("other", (table,), count=_none))
    with pytest.raises(ValueError, match="guild_id and user_id"):
        MemberTable("seen", ("user_id", "movie_id"))


async def test_forget_and_export_cover_every_kind(services):
    storage = services.storage
    heat = await storage.add_movie("Heat", 1995, ["Crime"])
    up = await storage.add_movie("Up", 2009, ["Animation"])
    matrix = await storage.add_movie("Matrix, The", 1999, ["Sci-Fi"])
    await storage.upsert_rating(G1, ALICE, heat.id, 8)
    await storage.watchlist_add(G1, ALICE, up.id)
    await storage.not_interested_add(G1, ALICE, matrix.id)
    await storage.set_notify(G1, ALICE, True, 1.0)  # "now available" DMs, and one sent
    await storage.claim_notified(G1, ALICE, up.id, 2.0)
    assert await services.member_data.counts(G1, ALICE) == {
        "ratings": 1, "media": 0, "watchlist": 1, "not_interested": 1}
    files = await services.member_data.export(G1, ALICE)
    assert [(f.name, f.rows) for f in files] == [
        ("ratings", 1), ("watchlist", 1), ("notify", 2), ("not-interested", 1)]
    notify_file = files[2].content.decode().splitlines()
    assert notify_file[0] == "what,movie,at" and notify_file[1].startswith("notify on,,")
    assert notify_file[2].startswith("notified,Up (2009),")
    assert files[0].content.decode().splitlines()[0] == "title,year,genres,score,updated_at"
    told = []
    services.member_data.forget_listeners.append(lambda g, m: told.append((g, m)))
    assert await services.member_data.forget(G1, ALICE) == {
        "ratings": 1, "movie_nights": 0, "media": 0, "notify": 2, "watchlist": 1,
        "not_interested": 1}
    assert not await storage.notify_on(G1, ALICE)
    assert told == [(G1, ALICE)]
    assert await services.member_data.counts(G1, ALICE) == {
        "ratings": 0, "media": 0, "watchlist": 0, "not_interested": 0}
    assert await services.member_data.export(G1, ALICE) == []


async def test_a_departed_guilds_purge_runs_the_purging_hooks_first(services):
    seen = []

    async def purging(guild_id: int) -> None:
        seen.append(("purging", guild_id, await services.storage.get_rating(G1, ALICE, heat.id)))

    heat = await services.storage.add_movie("Heat", 1995, ["Crime"])
    await services.storage.upsert_rating(G1, ALICE, heat.id, 8)
    services.member_data.register(MemberData("probe", (), count=None, purging=purging))
    await services.storage.mark_guild_left(G1, 0.0)
    assert await services.guilds.purge_departed(keep=()) == [G1]
    assert seen == [("purging", G1, 8)]  # before the rows went
    assert await services.storage.get_rating(G1, ALICE, heat.id) is None


async def test_forgetting_skips_the_member_in_the_guilds_pending_events(services):
    """/forgetme deletes the member's movie-night rows, then records that the guild's pending
    events (made before) must not add the winner for them at the reminder."""
    from bot.domain.movie_nights import NightEvent

    storage = services.storage
    await storage.save_night_event(NightEvent(G1, 555, 1, 5, 2e9, 2e9 - 60))
    await storage.save_night_event(NightEvent(G1 + 1, 556, 1, 5, 2e9, 2e9 - 60))
    await services.member_data.forget(G1, ALICE)
    assert await storage.night_event_skips(G1, 555) == {ALICE}
    assert await storage.night_event_skips(G1 + 1, 556) == set()
    await services.member_data.forget(G1, ALICE)  # again: still skipped, once
    assert await storage.night_event_skips(G1, 555) == {ALICE}
    await services.movienight.event_done(G1, 555)
    assert await storage.night_event_skips(G1, 555) == set()
