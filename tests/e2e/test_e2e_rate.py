"""End-to-end: /rate and /unrate through the Discord emulator (real bot, real database)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import Env

EVIL_TITLE = "@everyone <@&123456789012345678> **bold**"


def _option(command: dict, name: str) -> dict:
    return next(o for o in command.get("options", []) if o["name"] == name)


async def test_rate_and_unrate_are_registered_with_descriptions(env: Env) -> None:
    rate = env.emu.find_command("rate", env.guild)
    assert rate["description"]
    assert rate.get("contexts") == [0] or rate.get("dm_permission") is False  # guild-only
    score = _option(rate, "score")
    assert (score["min_value"], score["max_value"]) == (1, 10)
    movie = _option(rate, "movie")
    assert movie.get("autocomplete") is True
    assert _option(env.emu.find_command("unrate", env.guild), "movie")["autocomplete"] is True
    for command in ("rate", "unrate"):
        for option in env.emu.find_command(command, env.guild).get("options", []):
            assert option["description"], (command, option["name"])
    # Other Guild has them too (global sync).
    assert env.emu.find_command("rate", env.guild2)


async def test_autocomplete_offers_titles_with_id_values(env: Env) -> None:
    inter = await env.emu.autocomplete(env.alice, env.channel, "rate", "movie", movie="casabla")
    reply = await inter.response()
    casablanca = await env.movie("Casablanca")
    assert {"name": "Casablanca (1942)", "value": f"#{casablanca.id}"} in reply.choices
    assert len(reply.choices) <= 25


async def test_rate_saves_and_confirms(env: Env) -> None:
    movie = await env.movie("Casablanca")
    reply = await env.run(env.alice, "rate", movie=f"#{movie.id}", score=8)
    assert reply.ephemeral
    assert "Casablanca (1942)" in reply.content and "8/10" in reply.content
    assert reply.allowed_mentions["parse"] == []
    assert await env.storage.get_rating(env.guild.id, env.alice.id, movie.id) == 8


async def test_rate_accepts_a_typed_exact_title(env: Env) -> None:
    reply = await env.run(env.alice, "rate", movie="casablanca (1942)", score=7)
    assert "7/10" in reply.content
    assert await env.rating(env.alice, "Casablanca") == 7


async def test_rerate_shows_the_previous_score(env: Env) -> None:
    movie = await env.movie("Vertigo")
    await env.run(env.alice, "rate", movie=f"#{movie.id}", score=6)
    reply = await env.run(env.alice, "rate", movie=f"#{movie.id}", score=9)
    assert "9/10" in reply.content and "changed from 6/10" in reply.content
    assert await env.rating(env.alice, "Vertigo") == 9
    same = await env.run(env.alice, "rate", movie=f"#{movie.id}", score=9)
    assert "already" in same.content


async def test_rate_shows_the_prediction_when_the_model_has_one(env: Env) -> None:
    await env.seed_taste_clusters(env.guild, train=False)
    await env.seed(env.guild, {env.alice.id: {"Star Wars": 10, "Alien": 9, "Casablanca": 2}})
    target = await env.movie(env.SCIFI[3])
    reply = await env.run(env.alice, "rate", movie=f"#{target.id}", score=9)
    assert "I predicted" in reply.content
    predicted = float(reply.content.split("I predicted ")[1].split("/10")[0])
    assert 1.0 <= predicted <= 10.0
    assert predicted > 5.5  # a sci-fi fan's predicted score for a sci-fi favourite


async def test_rate_without_a_model_shows_no_prediction(env: Env) -> None:
    reply = await env.run(env.alice, "rate", movie="Casablanca", score=5)
    assert "predicted" not in reply.content


async def test_unrate_removes_the_rating(env: Env) -> None:
    movie = await env.movie("Roman Holiday")
    await env.run(env.bob, "rate", movie=f"#{movie.id}", score=4)
    reply = await env.run(env.bob, "unrate", movie=f"#{movie.id}")
    assert reply.ephemeral
    assert "Removed" in reply.content and "4/10" in reply.content
    assert await env.storage.get_rating(env.guild.id, env.bob.id, movie.id) is None


async def test_unrate_of_an_unrated_movie_changes_nothing(env: Env) -> None:
    rated = await env.movie("Alien")
    await env.run(env.bob, "rate", movie=f"#{rated.id}", score=7)
    movie = await env.movie("Roman Holiday")
    reply = await env.run(env.bob, "unrate", movie=f"#{movie.id}")
    assert reply.ephemeral
    assert "haven't rated" in reply.content
    assert await env.storage.count_member_ratings(env.guild.id, env.bob.id) == 1


async def test_unknown_title_gets_suggestions_and_saves_nothing(env: Env) -> None:
    reply = await env.run(env.alice, "rate", movie="Casablanka", score=8)
    assert reply.ephemeral
    assert "Did you mean" in reply.content and "Casablanca (1942)" in reply.content
    assert await env.storage.count_member_ratings(env.guild.id, env.alice.id) == 0


async def test_unknown_id_is_refused(env: Env) -> None:
    reply = await env.run(env.alice, "rate", movie="#999999", score=8)
    assert "I don't know a movie" in reply.content
    assert await env.storage.count_member_ratings(env.guild.id, env.alice.id) == 0
    reply = await env.run(env.alice, "unrate", movie="#999999")
    assert "I don't know a movie" in reply.content


async def test_a_title_only_in_the_other_guild_is_unknown_here(env: Env) -> None:
    secret = await env.storage.add_movie("Other Guild Home Movie", 2021, ("Drama",),
                                         guild_id=env.guild2.id)
    by_id = await env.run(env.alice, "rate", movie=f"#{secret.id}", score=8)
    assert "I don't know a movie" in by_id.content
    by_title = await env.run(env.alice, "rate", movie="Other Guild Home Movie", score=8)
    assert "I don't know a movie" in by_title.content
    assert "Other Guild Home Movie (2021)" not in by_title.content
    assert await env.storage.count_member_ratings(env.guild.id, env.alice.id) == 0
    # ...while in its own guild it works.
    ok = await env.run(env.alice2, "rate", movie=f"#{secret.id}", score=8)
    assert "8/10" in ok.content


async def test_out_of_range_scores_are_refused_even_from_a_modified_client(env: Env) -> None:
    movie = await env.movie("Casablanca")
    for bad in (11, 0, -3):
        inter = await env.raw_slash(env.alice, "rate", [
            {"name": "movie", "type": 3, "value": f"#{movie.id}"},
            {"name": "score", "type": 4, "value": bad},
        ])
        reply = await env.answer(inter)
        assert reply.ephemeral
        assert "1 to 10" in reply.content, reply.content
    assert await env.storage.count_member_ratings(env.guild.id, env.alice.id) == 0


async def test_empty_title_is_refused(env: Env) -> None:
    inter = await env.raw_slash(env.alice, "rate", [
        {"name": "movie", "type": 3, "value": "   "},
        {"name": "score", "type": 4, "value": 5},
    ])
    reply = await env.answer(inter)
    assert "Type a movie title" in reply.content


async def test_user_text_is_escaped_and_never_pings(env: Env) -> None:
    evil = await env.storage.add_movie(EVIL_TITLE, 2020, ("Drama",), guild_id=env.guild.id)
    reply = await env.run(env.alice, "rate", movie=f"#{evil.id}", score=3)
    assert reply.allowed_mentions["parse"] == []
    assert reply.mentions == []
    assert "@everyone" not in reply.content  # escaped with a zero-width space
    assert "**bold**" not in reply.content and "\\*\\*bold\\*\\*" in reply.content
    # Unknown-title echo is escaped too.
    echo = await env.run(env.alice, "rate", movie="@here **x** <@123456789012345678>", score=3)
    assert "@here" not in echo.content and "**x**" not in echo.content
    assert echo.allowed_mentions["parse"] == []
    unrate = await env.run(env.alice, "unrate", movie=f"#{evil.id}")
    assert "@everyone" not in unrate.content and unrate.allowed_mentions["parse"] == []


async def test_ratings_are_per_guild(env: Env) -> None:
    movie = await env.movie("Casablanca")
    await env.run(env.alice, "rate", movie=f"#{movie.id}", score=9)
    reply = await env.run(env.alice2, "rate", movie=f"#{movie.id}", score=2)
    assert "changed from" not in reply.content
    assert await env.storage.get_rating(env.guild.id, env.alice.id, movie.id) == 9
    assert await env.storage.get_rating(env.guild2.id, env.alice.id, movie.id) == 2
