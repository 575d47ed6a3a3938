"""The library, Seerr request and "now available" tables on both backends (issue 25 items
3-5): matching a guild's movies to the library, one request claim per movie, one notice per
member and movie."""

from __future__ import annotations

import asyncio

from bot.domain.library import LibraryItem

G, OTHER_G, ALICE, BOB, CAROL = 10, 20, 1, 2, 3


def item(n: int, title: str, year: int | None, tmdb: int | None = None,
         imdb: str | None = None, server: str = "jellyfin") -> LibraryItem:
    return LibraryItem(server, f"i{n}", title, year, tmdb, imdb, f"http://jf/web/#/details?id=i{n}")


async def test_library_matches_by_tmdb_imdb_then_title_and_year(store):
    heat = await store.add_movie("Heat", 1995, ["Crime"], tmdb_id=949)
    up = await store.add_movie("Up", 2009, ["Animation"], imdb_id="tt1049413")
    alien = await store.add_movie("Alien", 1979, ["Horror"])
    clash = await store.add_movie("Solaris", 1972, ["Sci-Fi"], tmdb_id=593)
    mine = await store.add_movie("Home Movie", 2020, guild_id=G, tmdb_id=777)
    await store.add_movie("Brazil", 1985)  # not in the library
    new, had = await store.replace_library("jellyfin", [
        item(1, "Heat (renamed)", 1995, tmdb=949),
        item(2, "Up", 2008, imdb="tt1049413"),
        item(3, "Alien", 1979),
        item(4, "Solaris", 1972, tmdb=8690),  # the 2002 remake's id: not this movie
        item(5, "Home Movie", 2020, tmdb=777),
    ], 1000.0)
    assert len(new) == 5 and had is False
    found = await store.library_movies(G)
    assert set(found) == {heat.id, up.id, alien.id, mine.id}
    assert clash.id not in found
    assert found[heat.id].url.endswith("id=i1")
    assert set(await store.library_movies(OTHER_G)) == {heat.id, up.id, alien.id}


async def test_replacing_the_library_reports_new_items_and_drops_gone_ones(store):
    await store.replace_library("plex", [item(1, "A", 2000, server="plex")], 1.0)
    new, had = await store.replace_library(
        "plex", [item(1, "A", 2000, server="plex"), item(2, "B", 2001, server="plex")], 2.0)
    assert had is True and [i.item_id for i in new] == ["i2"]
    new, had = await store.replace_library("plex", [item(2, "B", 2001, server="plex")], 3.0)
    assert new == [] and [i.item_id for i in await store.library_items("plex")] == ["i2"]
    await store.replace_library("jellyfin", [item(9, "C", 2002)], 3.0)
    assert len(await store.library_items()) == 2


async def test_one_request_claim_per_movie_even_at_once(store):
    claims = await asyncio.gather(*(store.claim_seerr_request(603, 7, 1.0) for _ in range(5)))
    assert sum(1 for c in claims if c is None) == 1
    assert all(c.status == "requesting" for c in claims if c is not None)
    await store.update_seerr_request(603, 42, "pending")
    again = await store.claim_seerr_request(603, 8, 2.0)
    assert again is not None and (again.request_id, again.status, again.seerr_user_id) == (
        42, "pending", 7)
    await store.release_seerr_request(603)
    assert await store.seerr_request(603) is None
    assert await store.claim_seerr_request(603, 8, 3.0) is None


async def test_notify_targets_are_opted_in_watchlisters_and_notices_are_once(store):
    heat = await store.add_movie("Heat", 1995, tmdb_id=949)
    up = await store.add_movie("Up", 2009, imdb_id="tt1049413")
    for user in (ALICE, BOB, CAROL):
        await store.watchlist_add(G, user, heat.id)
    await store.watchlist_add(G, ALICE, up.id)
    await store.set_notify(G, ALICE, True, 1.0)
    await store.set_notify(G, BOB, True, 1.0)
    await store.set_notify(G, BOB, True, 2.0)  # twice: still on, once
    assert await store.notify_on(G, ALICE) and not await store.notify_on(G, CAROL)
    targets = await store.notify_targets([949], ["tt1049413"])
    assert sorted((t.user_id, t.movie_id) for t in targets) == [
        (ALICE, heat.id), (ALICE, up.id), (BOB, heat.id)]
    assert {t.label for t in targets} == {"Heat (1995)", "Up (2009)"}
    assert await store.claim_notified(G, ALICE, heat.id, 5.0) is True
    assert await store.claim_notified(G, ALICE, heat.id, 6.0) is False
    await store.set_notify(G, BOB, False, 7.0)
    assert not await store.notify_on(G, BOB)
    assert [t.user_id for t in await store.notify_targets([949])] == [ALICE]


async def test_notify_record_for_export(store):
    matrix = await store.add_movie("Matrix, The", 1999)
    assert await store.notify_record(G, ALICE) == (None, [])
    await store.set_notify(G, ALICE, True, 100.0)
    await store.claim_notified(G, ALICE, matrix.id, 200.0)
    await store.claim_notified(OTHER_G, ALICE, matrix.id, 300.0)
    assert await store.notify_record(G, ALICE) == (100.0, [("The Matrix (1999)", 200.0)])


async def test_item_notify_targets_match_items_as_the_library_does(store):
    alien = await store.add_movie("Alien", 1979)  # no ids: matched by title and year
    heat = await store.add_movie("Heat", 1995, tmdb_id=949)
    mine = await store.add_movie("Home Movie", 2020, guild_id=OTHER_G)
    for guild, user, movie in ((G, ALICE, alien), (G, BOB, heat), (G, CAROL, alien),
                               (OTHER_G, ALICE, mine), (G, ALICE, heat)):
        await store.watchlist_add(guild, user, movie.id)
        await store.set_notify(guild, user, user != CAROL, 1.0)
    await store.replace_library("jellyfin", [
        item(1, "Alien", 1979), item(2, "Heat", 1995, tmdb=949), item(3, "Home Movie", 2020),
        item(4, "Brazil", 1985)], 1.0)
    found = await store.item_notify_targets("jellyfin", ["i1", "i3", "i4"])
    assert [(t.guild_id, t.user_id, t.movie_id) for t in found] == [
        (G, ALICE, alien.id), (OTHER_G, ALICE, mine.id)]
    assert [t.user_id for t in await store.item_notify_targets("jellyfin", ["i2"])] == [
        ALICE, BOB]
    assert await store.item_notify_targets("plex", ["i1"]) == []
