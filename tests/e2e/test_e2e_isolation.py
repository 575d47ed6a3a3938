"""End-to-end guild isolation: two guilds share members but never ratings, models, guild-added
movies or anything derived from them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import Env

LABEL = re.compile(r"^\d+\. \*\*(.+?)\*\*", re.MULTILINE)
HOME_MOVIE = "Film Club Home Movie"


def labels(reply) -> list[str]:
    assert reply.embed is not None, reply.rendered_text()
    return [re.sub(r"\\(.)", r"\1", m) for m in LABEL.findall(reply.embed["description"])]


async def seed_two_guilds(env: Env):
    """Film Club: alice loves sci-fi and its fans rate a home movie highly.
    Other Guild: different fans, and alice loves romance there."""
    home = await env.storage.add_movie(HOME_MOVIE, 2024, ("Sci-Fi",), guild_id=env.guild.id)
    await env.seed_taste_clusters(env.guild, train=False)
    await env.seed(env.guild, {env.FAN_BASE + i: {home: 10} for i in range(4)}, train=False)
    await env.seed(env.guild, {env.alice.id: {"Star Wars": 10, "Alien": 9, "Casablanca": 2,
                                              "Roman Holiday": 3}})
    await env.seed_taste_clusters(env.guild2, base=env.FAN_BASE + 1000, train=False)
    await env.seed(env.guild2, {env.alice.id: {"Casablanca": 10, "Roman Holiday": 9,
                                               "Star Wars": 2, "Jaws": 3},
                                env.bob.id: {"Vertigo": 8}})
    return home


async def test_same_member_gets_different_picks_per_guild(env: Env) -> None:
    await seed_two_guilds(env)
    here = await env.run(env.alice, "recommend", count=5)
    there = await env.run(env.alice2, "recommend", count=5)
    assert here.embed["title"] == there.embed["title"] == "Your picks"
    here_top, there_top = labels(here)[:2], labels(there)[:2]
    assert all(any(t in x for t in (*env.SCIFI, HOME_MOVIE)) for x in here_top), here_top
    assert all(any(t in x for t in env.ROMANCE) for x in there_top), there_top
    assert labels(here) != labels(there)
    # Each "because" names a movie rated in that guild, with that guild's score.
    assert "because you rated *Star Wars (1977)* 10/10" in here.embed["description"]
    assert "Star Wars (1977)* 10/10" not in there.embed["description"]
    assert "because you rated *Casablanca (1942)* 10/10" in there.embed["description"]


async def test_guild_movies_and_ratings_never_leak(env: Env) -> None:
    home = await seed_two_guilds(env)
    here = await env.run(env.alice, "recommend", count=25)
    assert f"{HOME_MOVIE} (2024)" in labels(here)
    there = await env.run(env.alice2, "recommend", count=25)
    assert HOME_MOVIE not in there.embed["description"]
    # Movies alice rated only in Film Club may be recommended to her in Other Guild.
    assert "Alien (1979)" in labels(there)
    # Autocomplete, /rate, /similar in Other Guild never see the home movie.
    choices = await (await env.emu.autocomplete(env.alice2, env.channel2, "rate", "movie",
                                                movie="Film Club Home")).response()
    assert not [c for c in choices.choice_names if HOME_MOVIE in c]
    for command, options in (("rate", {"score": 9}), ("similar", {}), ("unrate", {})):
        for value in (f"#{home.id}", HOME_MOVIE):
            reply = await env.run(env.alice2, command, movie=value, **options)
            assert "I don't know a movie" in reply.content, (command, reply.content)
            assert f"{HOME_MOVIE} (2024)" not in reply.content
    assert await env.storage.get_rating(env.guild2.id, env.alice.id, home.id) is None
    # Group picks in Other Guild come from Other Guild's data only.
    group = await env.run(env.alice2, "recommend", group=f"<@{env.bob.id}>", count=25)
    assert HOME_MOVIE not in group.embed["description"]
    assert "Vertigo (1958)" not in labels(group)  # bob rated it in Other Guild
    assert "Casablanca (1942)" not in labels(group)  # alice rated it in Other Guild


async def test_rating_counts_and_unrate_are_per_guild(env: Env) -> None:
    star_wars = await env.movie("Star Wars")
    for title, score in (("Star Wars", 10), ("Alien", 9), ("Jaws", 8)):
        await env.run(env.alice, "rate", movie=title, score=score)
    # Other Guild has ratings, alice has none there: cold start with the full count.
    await env.seed_taste_clusters(env.guild2, base=env.FAN_BASE + 1000)
    there = await env.run(env.alice2, "recommend")
    assert there.embed["title"] == "Popular in this server"
    assert "Rate 1 more movie with" in there.embed["description"]
    unrate = await env.run(env.alice2, "unrate", movie=f"#{star_wars.id}")
    assert "haven't rated" in unrate.content
    assert await env.storage.get_rating(env.guild.id, env.alice.id, star_wars.id) == 10


async def test_group_members_must_belong_to_the_invoking_guild(env: Env) -> None:
    await env.seed_taste_clusters(env.guild2, base=env.FAN_BASE + 1000)
    reply = await env.run(env.alice2, "recommend", group=f"<@{env.carol.id}>")
    assert "not a member of this server" in reply.content
    ok = await env.run(env.alice2, "recommend", group=f"<@{env.bob.id}>")
    assert ok.embed["title"] == "Movie night for 2"
