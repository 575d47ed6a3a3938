"""Titles in every script through the emulator (issue 13, rows 4-5): added with /movies add,
found by /movies search (with a typo where the script has letters to mistype), offered by
autocomplete, rated with /rate; and a look-alike of an existing title ("Аlien" with a Cyrillic
А) is refused as a duplicate."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Env

# (title, year, what a member types with a typo or a part of it, what they type to rate it)
SCRIPTS = [
    ("Война и мир", 1966, "войан и мир", "война и мир"),  # Cyrillic, letters swapped
    ("千と千尋の神隠し", 2001, "千尋", "千と千尋の神隠し"),  # Japanese: a word inside, no spaces
    ("기생충", 2019, "기생", "기생충"),  # Korean (Hangul), a prefix
    ("Ο Θίασος", 1975, "θιασοσ", "Ο Θιάσος"),  # Greek: accents and final sigma folded
    ("الرسالة", 1976, "الرساله", "الرسالة"),  # Arabic, last letter mistyped
    ("दिलवाले दुल्हनिया ले जाएंगे", 1995, "दिलवाले", "दिलवाले दुल्हनिया ले जाएंगे"),  # Devanagari
]


@pytest.mark.parametrize(("title", "year", "typed", "rate_as"), SCRIPTS,
                         ids=["cyrillic", "japanese", "korean", "greek", "arabic", "hindi"])
async def test_a_title_in_any_script_is_added_found_offered_and_rated(
        env: Env, title: str, year: int, typed: str, rate_as: str) -> None:
    added = await env.run(env.admin, "movies add", title=title, year=year)
    assert added.content.startswith(f"Added **{title} ({year})**"), added.content

    found = await env.run(env.alice, "movies search", query=typed)
    assert found.embeds, found.content
    assert f"1. {title} ({year})" in found.embed["description"]

    offered = await (await env.emu.autocomplete(env.alice, env.channel, "rate", "movie",
                                                movie=typed)).response()
    assert f"{title} ({year})" in offered.choice_names

    rated = await env.run(env.alice, "rate", movie=rate_as, score=9)
    assert rated.content.startswith(f"Rated **{title} ({year})** 9/10"), rated.content
    assert await env.rating(env.alice, title) == 9


async def test_look_alike_titles_of_existing_ones_are_refused_as_duplicates(env: Env) -> None:
    alien = await env.movie("Alien")
    assert alien.year == 1979
    for spoof in ("Аlien", "АLIЕN", "Αlien", "Аliеn"):  # Cyrillic А/Е, Greek Α
        reply = await env.run(env.admin, "movies add", title=spoof, year=1979)
        assert reply.ephemeral
        assert reply.content == "That movie is already in the catalog as Alien (1979).", spoof
    matrix = await env.run(env.admin, "movies add", title="Тhe Маtrix", year=1999)
    assert "already in the catalog as The Matrix (1999)" in matrix.content

    # A look-alike of a title the guild added itself, in another script too.
    await env.run(env.admin, "movies add", title="Сталкер", year=1979)
    spoof = await env.run(env.admin, "movies add", title="Cтaлкep", year=1979)  # Latin C, a, p
    assert "already in the catalog as Сталкер (1979)" in spoof.content
    assert await env.storage.count_guild_movies(env.guild.id) == 1

    # Genuinely different titles that share letters stay addable; so does a remake's year.
    other = await env.run(env.admin, "movies add", title="Сталкер", year=2024)
    assert other.content.startswith("Added **Сталкер (2024)**")
