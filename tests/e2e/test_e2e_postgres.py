"""End-to-end on PostgreSQL: the real bot, through the emulator, with `[storage] url` set.

The same world as every e2e test (tests/e2e/conftest.py), but the bot opens a fresh
PostgreSQL database (starter catalog, migrations, refits in the worker reading and saving
through PostgreSQL) and members run /rate, /recommend, /movies search|info|add and /forgetme.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from bot.storage import PostgresStorage

if TYPE_CHECKING:
    from conftest import Env


@pytest.fixture
def e2e_database_url(postgres_database: str) -> str:
    return postgres_database


def _button(reply, label: str) -> str:
    return next(b["custom_id"] for b in reply.buttons if b.get("label") == label)


async def test_every_member_command_runs_on_postgres(env: Env) -> None:
    assert isinstance(env.storage, PostgresStorage)
    assert await env.storage.catalog_count() > 400  # the starter catalog, loaded on start

    # /movies search with a one-letter typo (pg_trgm), /movies info.
    search = await env.run(env.alice, "movies search", query="casablanka")
    assert "Casablanca (1942)" in search.rendered_text()
    casablanca = await env.movie("Casablanca")
    info = await env.run(env.alice, "movies info", movie=f"#{casablanca.id}")
    assert "Casablanca" in info.rendered_text() and "1942" in info.rendered_text()

    # /rate (and a re-rate), stored in PostgreSQL.
    reply = await env.run(env.alice, "rate", movie=f"#{casablanca.id}", score=8)
    assert "Casablanca (1942)" in reply.content and "8/10" in reply.content
    again = await env.run(env.alice, "rate", movie="casablanca (1942)", score=9)
    assert "changed from 8/10" in again.content
    assert await env.storage.get_rating(env.guild.id, env.alice.id, casablanca.id) == 9

    # /recommend after a refit that read the ratings and saved the model through PostgreSQL.
    fans = await env.seed_taste_clusters(env.guild)
    await env.seed(env.guild, {env.alice.id: {"Star Wars": 10, "Alien": 9, "Jaws": 9}})
    picks = await env.run(env.alice, "recommend")
    assert "Your picks" in picks.rendered_text()
    state = await env.storage.load_model_state(env.guild.id)
    assert state is not None and state.blob
    assert state.ratings_version == (await env.storage.ratings_version(env.guild.id))[0]
    assert len(fans) == 8

    # /movies add: a guild's own title, then its duplicate refused.
    added = await env.run(env.admin, "movies add", title="Zanzibar Club Night", year=2022)
    assert "Zanzibar Club Night (2022)" in added.rendered_text()
    assert await env.storage.count_guild_movies(env.guild.id) == 1
    duplicate = await env.run(env.admin, "movies add", title="zanzibar club night", year=2022)
    assert "already" in duplicate.rendered_text()
    assert await env.storage.search_movies(env.guild2.id, "Zanzibar") == []

    # /forgetme: confirmation, then every rating of the member in this guild is gone.
    reply = await env.run(env.alice, "forgetme")
    done = await (await env.emu.click(env.alice, reply, _button(reply, "Delete my ratings"))
                  ).response()
    assert "deleted 4 ratings" in done.content
    assert await env.storage.count_member_ratings(env.guild.id, env.alice.id) == 0


async def test_the_other_commands_run_on_postgres(env: Env) -> None:
    await env.seed_taste_clusters(env.guild)
    await env.seed(env.guild, {env.alice.id: {"Star Wars": 10, "Alien": 9, "Casablanca": 3}})
    replies = {
        "ratings": await env.run(env.alice, "ratings"),
        "movies top": await env.run(env.alice, "movies top"),
        "similar": await env.run(env.alice, "similar", movie="Star Wars"),
        "settings": await env.run(env.admin, "settings", add_movies="everyone"),
        "export": await env.run(env.alice, "export"),
        "recommend group": await env.run(env.alice, "recommend",
                                         group=f"<@{env.bob.id}> <@{env.carol.id}>"),
    }
    for command, reply in replies.items():
        assert "Something went wrong" not in reply.rendered_text(), command
    assert "Alien" in replies["ratings"].rendered_text()
    assert replies["export"].attachment(f"ratings-{env.guild.id}.csv").text.count("\n") == 4
    assert (await env.storage.get_guild_settings(env.guild.id)).add_movie_permission \
        == "everyone"
    alien = await env.movie("Alien")
    unrate = await env.run(env.alice, "unrate", movie=f"#{alien.id}")
    assert "Something went wrong" not in unrate.rendered_text()
    assert await env.storage.get_rating(env.guild.id, env.alice.id, alien.id) is None
