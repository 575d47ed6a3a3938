"""Linked media accounts and synced history on both backends (issue 25): links, tokens,
history, "seen" ids, the source of a rating (a sync never overwrites the member's own), and
what unlink, /forgetme and purge remove."""

from __future__ import annotations

from bot.domain.media import MediaLink
from bot.storage.postgres.media import PostgresMedia as PgMediaStore
from bot.storage.sqlite.media import SqliteMedia as MediaStore

G, OTHER_G, ALICE, BOB = 1, 2, 11, 12


def _link(service: str = "trakt", user: int = ALICE, guild: int = G,
          account: str = "acc-1") -> MediaLink:
    return MediaLink(guild, user, service, account, f"name {account}", 1000.0,
                     access_token="access-x", refresh_token="refresh-x",
                     token_expires_at=5000.0, next_sync_at=2000.0)


def test_both_backends_have_every_media_method():
    public = {n for n in vars(MediaStore) if not n.startswith("_")}
    assert public == {n for n in vars(PgMediaStore) if not n.startswith("_")}


async def _movies(store, n: int = 4):
    return [await store.add_movie(f"Synced {i}", 2000 + i) for i in range(n)]


async def test_links_and_tokens_round_trip(store):
    await store.save_media_link(_link())
    await store.save_media_link(_link("letterboxd"))
    link = await store.media_link(G, ALICE, "trakt")
    assert link == _link()
    assert "access-x" not in repr(link)  # tokens never in a repr
    assert [lk.service for lk in await store.media_links(G, ALICE)] == ["letterboxd", "trakt"]
    assert await store.media_links(OTHER_G, ALICE) == []
    await store.update_media_tokens(G, ALICE, "trakt", "new-a", "new-r", 9000.0)
    await store.media_synced(G, ALICE, "trakt", synced_at=1500.0, next_sync_at=3000.0,
                             summary="imported 3 watched")
    link = await store.media_link(G, ALICE, "trakt")
    assert (link.access_token, link.refresh_token, link.token_expires_at) == (
        "new-a", "new-r", 9000.0)
    assert (link.synced_at, link.next_sync_at, link.sync_summary) == (
        1500.0, 3000.0, "imported 3 watched")
    assert [lk.service for lk in await store.media_links_due(2500.0)] == ["letterboxd"]


async def test_history_seen_ids_and_movies_by_tmdb(store):
    movies = await _movies(store)
    assert await store.movies_by_tmdb(G, [603]) == {}
    await store.link_movie_ids(movies[0].id, 603, None)
    assert (await store.movies_by_tmdb(G, [603, 999]))[603].id == movies[0].id
    await store.save_media_link(_link("jellyfin"))
    written = await store.save_media_history(
        G, ALICE, "jellyfin", [(movies[0].id, 100.0, None), (movies[1].id, None, None)])
    assert (written.history_new, written.ratings_written) == (2, 0)
    again = await store.save_media_history(G, ALICE, "jellyfin", [(movies[0].id, 200.0, None)])
    assert again.history_new == 0
    assert await store.seen_movie_ids(G, ALICE) == sorted([movies[0].id, movies[1].id])
    assert await store.seen_movie_ids(G, BOB) == []
    history = await store.media_history(G, ALICE)
    assert (history[0].service, history[0].movie.id) == ("jellyfin", movies[0].id)
    assert history[0].watched_at is not None and history[0].watched_at.timestamp() == 200.0
    assert await store.count_member_ratings(G, ALICE) == 0  # seen is not a rating


async def test_a_sync_never_overwrites_the_members_own_rating(store):
    movies = await _movies(store)
    await store.upsert_rating(G, ALICE, movies[0].id, 3)  # /rate
    await store.import_history(G, ALICE, [(movies[1].id, 4)])  # /import
    await store.save_media_link(_link())
    written = await store.save_media_history(G, ALICE, "trakt", [
        (movies[0].id, None, 9), (movies[1].id, None, 9), (movies[2].id, None, 8),
        (movies[3].id, None, None)])
    assert (written.ratings_written, written.ratings_kept) == (1, 2)
    assert [await store.get_rating(G, ALICE, m.id) for m in movies] == [3, 4, 8, None]
    # The service changes its rating: followed. The member rates it: theirs from now on.
    await store.save_media_history(G, ALICE, "trakt", [(movies[2].id, None, 6)])
    assert await store.get_rating(G, ALICE, movies[2].id) == 6
    await store.upsert_rating(G, ALICE, movies[2].id, 6)
    written = await store.save_media_history(G, ALICE, "trakt", [(movies[2].id, None, 10)])
    assert written.ratings_written == 0 and await store.get_rating(G, ALICE, movies[2].id) == 6


async def test_unlink_removes_the_link_its_history_and_its_ratings_only(store):
    movies = await _movies(store)
    await store.upsert_rating(G, ALICE, movies[0].id, 3)
    await store.save_media_link(_link())
    await store.save_media_link(_link("jellyfin"))
    await store.save_media_history(G, ALICE, "trakt", [(movies[1].id, None, 9),
                                                       (movies[0].id, None, 9)])
    await store.save_media_history(G, ALICE, "jellyfin", [(movies[2].id, None, None)])
    link, ratings = await store.delete_media_link(G, ALICE, "trakt")
    assert link is not None and link.access_token == "access-x" and ratings == 1
    assert await store.media_link(G, ALICE, "trakt") is None
    assert await store.get_rating(G, ALICE, movies[0].id) == 3  # the member's own stays
    assert await store.get_rating(G, ALICE, movies[1].id) is None
    assert await store.seen_movie_ids(G, ALICE) == [movies[2].id]
    assert await store.delete_media_link(G, ALICE, "trakt") == (None, 0)


async def test_forget_and_purge_remove_every_link_and_all_history(store):
    movies = await _movies(store)
    for guild in (G, OTHER_G):
        await store.save_media_link(_link(guild=guild))
        await store.save_media_history(guild, ALICE, "trakt", [(movies[0].id, None, None)])
    await store.save_media_link(_link(user=BOB))
    removed = await store.delete_member_media(G, ALICE)
    assert [lk.service for lk in removed] == ["trakt"]
    assert await store.media_links(G, ALICE) == [] and await store.seen_movie_ids(G, ALICE) == []
    assert await store.seen_movie_ids(OTHER_G, ALICE) == [movies[0].id]
    assert len(await store.guild_media_links(OTHER_G)) == 1
    await store.purge_guild(OTHER_G)
    assert await store.media_links(OTHER_G, ALICE) == []
    assert await store.seen_movie_ids(OTHER_G, ALICE) == []
    assert await store.media_link(G, BOB, "trakt") is not None


async def test_a_new_account_on_the_same_service_starts_a_new_history(store):
    movies = await _movies(store)
    await store.save_media_link(_link("plex", account="1"))
    await store.save_media_history(G, ALICE, "plex", [(movies[0].id, None, None)])
    await store.save_media_link(_link("plex", account="1"))  # relinked: kept
    assert await store.seen_movie_ids(G, ALICE) == [movies[0].id]
    await store.save_media_link(_link("plex", account="2"))
    assert await store.seen_movie_ids(G, ALICE) == []


async def test_who_linked_an_account(store):
    await store.save_media_link(_link("jellyfin", account="u-alice"))
    assert await store.media_account_owner(G, "jellyfin", "u-alice") == ALICE
    assert await store.media_account_owner(OTHER_G, "jellyfin", "u-alice") is None
    assert await store.media_account_owner(G, "plex", "u-alice") is None


async def test_a_sync_that_finishes_after_an_unlink_keeps_nothing(store):
    movies = await _movies(store)
    written = await store.save_media_history(G, ALICE, "trakt", [(movies[0].id, None, 9)])
    assert written.history_new == 0 and written.ratings_written == 0
    assert await store.seen_movie_ids(G, ALICE) == []
    assert await store.get_rating(G, ALICE, movies[0].id) is None
