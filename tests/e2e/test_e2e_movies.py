"""End-to-end: /movies search | info | top | add through the Discord emulator."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from bot.config import LimitSettings

if TYPE_CHECKING:
    from conftest import Env

EVIL_TITLE = "@everyone **Bold** <@&123456789012345678> _it_"


def _option(command: dict, *path: str) -> dict:
    for name in path:
        command = next(o for o in command.get("options", []) if o["name"] == name)
    return command


def _button(reply, label: str) -> str:
    return next(b["custom_id"] for b in reply.buttons if b.get("label") == label)


def _no_pings(reply) -> None:
    assert reply.allowed_mentions is not None and reply.allowed_mentions.get("parse") == []
    assert reply.mentions == []


def _sub(name: str, **values) -> list[dict]:
    """Raw options for `/movies <name>` (bypassing the emulator's client-side checks)."""
    types = {str: 3, int: 4, float: 10, bool: 5}
    options = [{"name": k, "type": types[type(v)], "value": v} for k, v in values.items()]
    return [{"name": name, "type": 1, "options": options}]


def _set_cap(env: Env, cap: int) -> None:
    env.bot.settings = replace(env.bot.settings,
        limits=LimitSettings(recommend_cooldown_seconds=0.0, guild_movie_cap=cap))
    env.bot.app.catalog.settings = env.bot.settings  # the cap is the catalog service's rule


# ---------------------------------------------------------------------------- registration
async def test_movies_group_is_registered_guild_only_with_descriptions(env: Env) -> None:
    movies = env.emu.find_command("movies", env.guild)
    assert movies.get("dm_permission") is False or movies.get("contexts") == [0]
    subs = {o["name"]: o for o in movies["options"]}
    assert set(subs) == {"search", "info", "top", "add"}
    for sub in subs.values():
        assert sub["description"]
        for option in sub.get("options", []):
            assert option["description"], (sub["name"], option["name"])
    assert _option(movies, "info", "movie").get("autocomplete") is True
    assert _option(movies, "top", "genre").get("autocomplete") is True
    title = _option(movies, "add", "title")
    assert (title.get("min_length"), title["max_length"]) == (1, 200)
    assert _option(movies, "add", "year")["min_value"] == 1870


async def test_info_autocomplete_shows_title_and_year_with_id_values(env: Env) -> None:
    inter = await env.emu.autocomplete(env.alice, env.channel, "movies info", "movie",
                                       movie="star")
    reply = await inter.response()
    assert 0 < len(reply.choices) <= 25
    star_wars = await env.movie("Star Wars")
    assert {"name": "Star Wars (1977)", "value": f"#{star_wars.id}"} in reply.choices
    empty = await (await env.emu.autocomplete(env.alice, env.channel, "movies info", "movie",
                                              movie="")).response()
    assert empty.choices == []


async def test_autocomplete_never_offers_another_guilds_movie(env: Env) -> None:
    await env.run(env.admin, "movies add", title="Zanzibar Club Night", year=2022)
    here = await (await env.emu.autocomplete(env.alice, env.channel, "movies info", "movie",
                                             movie="zanzibar club")).response()
    assert "Zanzibar Club Night (2022)" in here.choice_names
    there = await (await env.emu.autocomplete(env.alice2, env.channel2, "movies info", "movie",
                                              movie="zanzibar club")).response()
    assert "Zanzibar Club Night (2022)" not in there.choice_names


# ---------------------------------------------------------------------------------- search
async def test_search_pages_and_only_the_asker_can_turn_them(env: Env) -> None:
    reply = await env.run(env.alice, "movies search", query="the")
    assert reply.ephemeral
    _no_pings(reply)
    embed = reply.embed
    assert "Movies matching" in embed["title"]
    first_page = embed["description"].splitlines()
    assert len(first_page) == 10 and first_page[0].startswith("1. ")
    assert embed["footer"]["text"].startswith("Page 1 of ")
    labels = [b["label"] for b in reply.buttons]
    assert labels == ["Previous", "Next"]
    assert reply.buttons[0]["disabled"] is True

    # Someone else cannot turn the pages.
    other = await env.emu.click(env.bob, reply, _button(reply, "Next"))
    refused = await other.response()
    assert refused.ephemeral and "belong to the member who ran the command" in refused.content
    assert env.emu.message(reply.id).embed["footer"]["text"].startswith("Page 1 of ")

    turned = await (await env.emu.click(env.alice, reply, _button(reply, "Next"))).response()
    assert turned.type == 7
    assert turned.embed["footer"]["text"].startswith("Page 2 of ")
    assert turned.embed["description"].splitlines()[0].startswith("11. ")


async def test_search_finds_a_title_despite_a_typo(env: Env) -> None:
    reply = await env.run(env.alice, "movies search", query="casablanka")
    assert "Casablanca (1942)" in reply.embed["description"]
    assert reply.buttons == []  # one page: no buttons


async def test_search_with_no_match_says_so(env: Env) -> None:
    reply = await env.run(env.alice, "movies search", query="qqqzzzxxyy")
    assert reply.ephemeral
    assert "No movies match" in reply.content and "qqqzzzxxyy" in reply.content
    _no_pings(reply)


async def test_search_escapes_the_query(env: Env) -> None:
    reply = await env.run(env.alice, "movies search", query="@everyone **zzqqxx**")
    assert "@everyone" not in reply.content.replace("@\u200beveryone", "")
    assert "\\*\\*zzqqxx\\*\\*" in reply.content
    _no_pings(reply)


async def test_search_does_not_show_another_guilds_movie(env: Env) -> None:
    await env.storage.add_movie("Zanzibar Secret Tapes", 2020, guild_id=env.guild2.id)
    here = await env.run(env.alice, "movies search", query="Zanzibar Secret Tapes")
    assert "No movies match" in here.content
    there = await env.run(env.alice2, "movies search", query="Zanzibar Secret Tapes")
    assert "Zanzibar Secret Tapes (2020)" in there.embed["description"]


# ------------------------------------------------------------------------------------ info
async def test_info_shows_year_genres_server_rating_and_yours(env: Env) -> None:
    movie = await env.movie("Casablanca")
    await env.seed(env.guild, {env.alice.id: {movie: 8}, env.bob.id: {movie: 7}},
                   train=False)
    reply = await env.run(env.alice, "movies info", movie=f"#{movie.id}")
    assert reply.ephemeral  # it shows the member's own rating and prediction (issue 13, row 3)
    _no_pings(reply)
    embed = reply.embed
    assert embed["title"] == "Casablanca (1942)"
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Year"] == "1942"
    assert "Drama" in fields["Genres"] and "Romance" in fields["Genres"]
    assert fields["Server rating"] == "7.5/10 from 2 ratings"
    assert fields["Your rating"] == "8/10"


async def test_info_for_an_unrated_movie(env: Env) -> None:
    reply = await env.run(env.carol, "movies info", movie="Vertigo")
    fields = {f["name"]: f["value"] for f in reply.embed["fields"]}
    assert fields["Server rating"] == "No ratings here yet"
    assert fields["Your rating"].startswith("Not rated yet")
    assert "Predicted for you" not in fields


async def test_info_shows_a_prediction_when_the_model_has_one(env: Env) -> None:
    await env.seed_taste_clusters(env.guild)
    await env.seed(env.guild, {env.alice.id: {"Star Wars": 10, "Alien": 9, "Casablanca": 2}})
    target = await env.movie(env.SCIFI[3])
    reply = await env.run(env.alice, "movies info", movie=f"#{target.id}")
    fields = {f["name"]: f["value"] for f in reply.embed["fields"]}
    assert "Predicted for you" in fields
    predicted = float(fields["Predicted for you"].split("/10")[0])
    assert 1.0 <= predicted <= 10.0


async def test_info_of_an_unknown_title_suggests_and_of_another_guilds_movie_fails(
        env: Env) -> None:
    reply = await env.run(env.alice, "movies info", movie="Casablanka")
    assert reply.ephemeral and "Did you mean" in reply.content
    secret = await env.storage.add_movie("Other Guild Home Movie", 2021, guild_id=env.guild2.id)
    hidden = await env.run(env.alice, "movies info", movie=f"#{secret.id}")
    assert hidden.ephemeral and "I don't know a movie" in hidden.content
    visible = await env.run(env.alice2, "movies info", movie=f"#{secret.id}")
    assert visible.embed["title"] == "Other Guild Home Movie (2021)"
    assert visible.embed["footer"]["text"] == "Added by this server"


# ------------------------------------------------------------------------------------- top
async def test_top_without_ratings_says_not_enough(env: Env) -> None:
    reply = await env.run(env.alice, "movies top")
    assert "Not enough ratings yet" in reply.content
    _no_pings(reply)


async def test_top_lists_the_best_and_filters_by_genre(env: Env) -> None:
    await env.seed_taste_clusters(env.guild)
    reply = await env.run(env.alice, "movies top")
    _no_pings(reply)
    lines = reply.embed["description"].splitlines()
    assert 1 <= len(lines) <= 10
    assert lines[0].startswith("1. ") and "/10" in lines[0] and "ratings)" in lines[0]
    seeded = set(env.SCIFI + env.ROMANCE)
    assert any(title in lines[0] for title in seeded)

    romance = await env.run(env.alice, "movies top", genre="romance")
    assert romance.embed["title"] == "Top Romance movies here"
    romance_ids = await env.storage.movie_ids_with_genre(env.guild.id, "Romance")
    for line in romance.embed["description"].splitlines():
        title = line.split(". ", 1)[1].rsplit(" — ", 1)[0]
        movie = await env.storage.resolve_movie(env.guild.id, title.replace("\\", ""))
        assert movie is not None and movie.id in romance_ids, line


async def test_top_with_an_unknown_genre_is_refused(env: Env) -> None:
    reply = await env.run(env.alice, "movies top", genre="Telenovela-Noir")
    assert reply.ephemeral and "Unknown genre" in reply.content


async def test_genre_autocomplete_offers_known_genres(env: Env) -> None:
    inter = await env.emu.autocomplete(env.alice, env.channel, "movies top", "genre",
                                       genre="sci")
    reply = await inter.response()
    assert "Sci-Fi" in reply.choice_names and len(reply.choices) <= 25


# ------------------------------------------------------------------------------------- add
async def test_moderator_adds_a_guild_movie(env: Env) -> None:
    reply = await env.run(env.admin, "movies add", title="  Our Club Film ", year=2019,
                          genres="comedy | Drama")
    assert not reply.ephemeral
    _no_pings(reply)
    assert "Added **Our Club Film (2019)**" in reply.content
    movie = await env.storage.resolve_movie(env.guild.id, "Our Club Film (2019)")
    assert movie is not None and movie.guild_id == env.guild.id
    assert movie.genres == ("Comedy", "Drama")
    assert await env.storage.resolve_movie(env.guild2.id, "Our Club Film") is None
    # Now it can be rated and looked up here.
    info = await env.run(env.alice, "movies info", movie="Our Club Film")
    assert info.embed["title"] == "Our Club Film (2019)"


async def test_member_without_manage_server_cannot_add_by_default(env: Env) -> None:
    before = await env.storage.count_guild_movies(env.guild.id)
    reply = await env.run(env.alice, "movies add", title="Alice Film", year=2020)
    assert reply.ephemeral and "Manage Server" in reply.content
    assert await env.storage.count_guild_movies(env.guild.id) == before


async def test_everyone_may_add_when_the_guild_allows_it(env: Env) -> None:
    await env.run(env.admin, "settings", add_movies="everyone")
    reply = await env.run(env.alice, "movies add", title="Alice Film", year=2020)
    assert "Added **Alice Film (2020)**" in reply.content
    assert await env.storage.count_guild_movies(env.guild.id) == 1


async def test_duplicate_add_names_the_existing_movie(env: Env) -> None:
    reply = await env.run(env.admin, "movies add", title="casablanca", year=1942)
    assert reply.ephemeral
    assert "already in the catalog as Casablanca (1942)" in reply.content
    assert await env.storage.count_guild_movies(env.guild.id) == 0
    await env.run(env.admin, "movies add", title="Home Video", year=2001)
    again = await env.run(env.admin, "movies add", title="HOME VIDEO", year=2001)
    assert "already in the catalog as Home Video (2001)" in again.content


async def test_same_title_may_exist_in_two_guilds(env: Env) -> None:
    await env.run(env.admin, "movies add", title="Home Video", year=2001)
    reply = await env.run(env.owner2, "movies add", title="Home Video", year=2001)
    assert "Added" in reply.content
    assert await env.storage.count_guild_movies(env.guild2.id) == 1


async def test_markdown_and_mentions_in_a_title_are_escaped_and_never_ping(env: Env) -> None:
    reply = await env.run(env.admin, "movies add", title=EVIL_TITLE, year=2020)
    _no_pings(reply)
    assert "@everyone" not in reply.content.replace("@\u200beveryone", "")
    assert "\\*\\*Bold\\*\\*" in reply.content and "\\_it\\_" in reply.content
    stored = await env.storage.resolve_movie(env.guild.id, f"{EVIL_TITLE} (2020)")
    assert stored is not None and stored.title == EVIL_TITLE  # as typed; escaped on display
    info = await env.run(env.alice, "movies info", movie=f"#{stored.id}")
    assert "\\*\\*Bold\\*\\*" in info.embed["title"]
    _no_pings(info)


async def test_unknown_genre_lists_the_valid_ones(env: Env) -> None:
    reply = await env.run(env.admin, "movies add", title="Genre Test", year=2000,
                          genres="Comedy, Spaghetti")
    assert reply.ephemeral
    assert "Unknown genre: Spaghetti" in reply.content and "Sci-Fi" in reply.content
    assert await env.storage.count_guild_movies(env.guild.id) == 0


async def test_bad_title_and_year_are_refused(env: Env) -> None:
    too_long = await env.answer(await env.raw_slash(
        env.admin, "movies", _sub("add", title="x" * 201, year=2000)))
    assert too_long.ephemeral and "too long" in too_long.content
    old = await env.answer(await env.raw_slash(
        env.admin, "movies", _sub("add", title="Ancient", year=1700)))
    assert old.ephemeral and "between 1870" in old.content
    blank = await env.answer(await env.raw_slash(
        env.admin, "movies", _sub("add", title="\u200b\u202e\n", year=2000)))
    assert blank.ephemeral and "empty" in blank.content
    symbols = await env.run(env.admin, "movies add", title="!!!", year=2000)
    assert symbols.ephemeral and "letters or digits" in symbols.content
    assert await env.storage.count_guild_movies(env.guild.id) == 0


async def test_the_guild_movie_cap_is_enforced_with_a_friendly_message(env: Env) -> None:
    _set_cap(env, 2)
    for title in ("Cap One", "Cap Two"):
        assert "Added" in (await env.run(env.admin, "movies add", title=title,
                                         year=2010)).content
    reply = await env.run(env.admin, "movies add", title="Cap Three", year=2010)
    assert reply.ephemeral and "limit of 2 added movies" in reply.content
    assert await env.storage.count_guild_movies(env.guild.id) == 2
    # The cap is per guild.
    other = await env.run(env.owner2, "movies add", title="Cap Three", year=2010)
    assert "Added" in other.content
