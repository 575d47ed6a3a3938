"""End-to-end: /watchlist add|remove|show through the emulator, the watchlist in /forgetme
and /export (read back by /import in another server), and rating taking a movie off it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import Env


def _button(reply, label: str) -> str:
    return next(b["custom_id"] for b in reply.buttons if b.get("label") == label)


async def _add(env: Env, member, title: str):
    movie = await env.movie(title, member.guild)
    return await env.run(member, "watchlist add", movie=f"#{movie.id}")


async def test_add_show_remove(env: Env) -> None:
    reply = await _add(env, env.alice, "Vertigo")
    assert reply.ephemeral and "Added **Vertigo (1958)** to your watchlist" in reply.content
    again = await _add(env, env.alice, "Vertigo")
    assert "already on your watchlist" in again.content
    await _add(env, env.alice, "Jaws")
    shown = await env.run(env.alice, "watchlist show")
    assert shown.ephemeral and shown.embed["title"] == "Your watchlist (2)"
    assert shown.embed["description"].splitlines() == ["1. Jaws (1975)", "2. Vertigo (1958)"]
    vertigo = await env.movie("Vertigo")
    removed = await env.run(env.alice, "watchlist remove", movie=f"#{vertigo.id}")
    assert "Took **Vertigo (1958)** off your watchlist" in removed.content
    gone = await env.run(env.alice, "watchlist remove", movie=f"#{vertigo.id}")
    assert "is not on your watchlist" in gone.content
    # Bob's watchlist is his own.
    empty = await env.run(env.bob, "watchlist show")
    assert "Your watchlist is empty" in empty.content


async def test_show_pages_through_a_long_watchlist(env: Env) -> None:
    for title in (*env.SCIFI, *env.ROMANCE[:4]):
        await _add(env, env.carol, title)
    shown = await env.run(env.carol, "watchlist show")
    assert shown.embed["title"] == "Your watchlist (12)"
    assert len(shown.embed["description"].splitlines()) == 10
    page2 = await (await env.emu.click(env.carol, shown, _button(shown, "Next"))).response()
    assert page2.embed["description"].splitlines()[0].startswith("11. ")
    assert "Page 2 of 2" in page2.embed["footer"]["text"]


async def test_a_rated_movie_is_not_added_and_rating_removes_it(env: Env) -> None:
    await _add(env, env.bob, "Alien")
    await env.run(env.bob, "rate", movie="Alien (1979)", score=9)
    assert await env.storage.count_watchlist(env.guild.id, env.bob.id) == 0
    refused = await _add(env, env.bob, "Alien")
    assert "You rated **Alien (1979)** 9/10 already" in refused.content


async def test_forgetme_and_export_include_the_watchlist(env: Env) -> None:
    await env.seed(env.guild, {env.alice.id: {"Casablanca": 8}}, train=False)
    await _add(env, env.alice, "Vertigo")
    exported = await env.run(env.alice, "export")
    assert "Your watchlist: 1 movie" in exported.content
    data = exported.attachment(f"watchlist-{env.guild.id}.csv").text
    assert data.splitlines()[0] == "title,year,genres,added_at"
    assert data.splitlines()[1].startswith("Vertigo,1958,")
    # The exported watchlist imports into another server.
    preview = await env.run(env.alice2, "import", file=("watchlist.csv", data.encode()))
    assert "**bot watchlist export**: 1 row read, 1 matched" in preview.content
    await (await env.emu.click(env.alice2, preview, _button(preview, "Import"))).response()
    assert await env.storage.count_watchlist(env.guild2.id, env.alice.id) == 1
    # /forgetme names and deletes it (only in this server).
    ask = await env.run(env.alice, "forgetme")
    assert "all 1 rating of yours and your watchlist (1 movie)" in ask.content
    done = await (await env.emu.click(env.alice, ask, _button(ask, "Delete my ratings"))
                  ).response()
    assert "and your watchlist (1 movie)" in done.content
    assert await env.storage.count_watchlist(env.guild.id, env.alice.id) == 0
    assert await env.storage.count_watchlist(env.guild2.id, env.alice.id) == 1


def _watch_select(reply) -> dict:
    return next(c for c in reply.walk_components()
                if c.get("placeholder") == "Add to watchlist…")


async def _fan_of_scifi(env: Env) -> None:
    await env.seed_taste_clusters(env.guild, train=False)
    await env.seed(env.guild, {env.alice.id: {"Star Wars": 10, "Alien": 9, "Casablanca": 2,
                                              "Roman Holiday": 3}})


async def test_recommend_offers_add_to_watchlist_and_marks_it(env: Env) -> None:
    await _fan_of_scifi(env)
    reply = await env.run(env.alice, "recommend", count=5)
    select = _watch_select(reply)
    first = select["options"][0]
    chosen = await (await env.emu.select(env.alice, reply, select["custom_id"],
                                         [first["value"]])).response()
    assert chosen.ephemeral and "to your watchlist" in chosen.content
    assert await env.storage.count_watchlist(env.guild.id, env.alice.id) == 1
    # Someone else cannot use Alice's menu.
    refused = await (await env.emu.select(env.bob, reply, select["custom_id"],
                                          [first["value"]])).response()
    assert "belong to the member" in refused.content
    again = await env.run(env.alice, "recommend", count=5)
    marked = [line for line in again.embed["description"].splitlines()
              if line.endswith("· on your watchlist")]
    assert len(marked) == 1 and first["label"] in marked[0]


async def test_similar_offers_add_to_watchlist(env: Env) -> None:
    await _fan_of_scifi(env)
    star_wars = await env.movie("Star Wars")
    reply = await env.run(env.bob, "similar", movie=f"#{star_wars.id}")
    select = _watch_select(reply)
    value = select["options"][0]["value"]
    chosen = await (await env.emu.select(env.bob, reply, select["custom_id"], [value])
                    ).response()
    assert "to your watchlist" in chosen.content
    listed = await env.storage.watchlist(env.guild.id, env.bob.id)
    assert [str(e.movie.id) for e in listed] == [value]
