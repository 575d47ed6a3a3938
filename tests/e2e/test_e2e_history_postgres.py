"""End-to-end on PostgreSQL: issue 15's flows through the emulator with `[storage] url` set
(skipped without `MOVIEBOT_TEST_POSTGRES_URL`): a Letterboxd zip import with its watchlist, a
refused file writing nothing, a 10,000-row import in one transaction, /watchlist, a movie
night from picks to a winner on the attendees' watchlists, and /forgetme emptying both."""

from __future__ import annotations

import io
import time
import zipfile
from typing import TYPE_CHECKING

import pytest

from bot.storage import MovieRow, PostgresStorage
from emulator import Permissions

if TYPE_CHECKING:
    from conftest import Env


@pytest.fixture
def e2e_database_url(postgres_database: str) -> str:
    return postgres_database


def _button(reply, label: str) -> str:
    return next(b["custom_id"] for b in reply.buttons
                if b.get("label", "").startswith(label))


async def _press(env: Env, member, reply, label: str):
    return await (await env.emu.click(member, reply, _button(reply, label))).response(60)


async def test_import_watchlist_and_movie_night_on_postgres(env: Env) -> None:
    assert isinstance(env.storage, PostgresStorage)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("ratings.csv", "Date,Name,Year,Letterboxd URI,Rating\n"
                                        "2024-01-01,Casablanca,1942,u,4.5\n"
                                        "2024-01-01,Alien,1979,u,2\n"
                                        "2024-01-01,Nowhere At All,1999,u,3\n")
        archive.writestr("watchlist.csv", "Date,Name,Year,Letterboxd URI\n"
                                          "2024-01-01,Vertigo,1958,u\n")
    preview = await env.run(env.alice, "import", file=("export.zip", buffer.getvalue()))
    assert "**Letterboxd export**: 4 rows read, 3 matched" in preview.content
    done = await _press(env, env.alice, preview, "Import")
    assert "Imported: 2 new ratings" in done.content and "1 movie added" in done.content
    assert await env.rating(env.alice, "Casablanca") == 9
    refused = await env.run(env.bob, "import", file=("ratings.csv", b"Const,Title\nx,y\n"))
    assert "is not an IMDb id" in refused.content
    assert await env.storage.count_member_ratings(env.guild.id, env.bob.id) == 0

    # 10,000 rows in one transaction.
    await env.storage.add_movies_bulk([MovieRow(f"Bulk Film {i}", 1960 + i % 50, ("Drama",))
                                       for i in range(10_000)])
    lines = ["Const,Your Rating,Date Rated,Title,Year"] + [
        f"tt9{i:07d},{i % 10 + 1},2024-01-01,Bulk Film {i},{1960 + i % 50}"
        for i in range(10_000)]
    started = time.perf_counter()
    big = await env.answer(await env.slash(env.carol, "import", file=(
        "imdb.csv", "\n".join(lines).encode())), wait=60)
    assert "**IMDb ratings**: 10,000 rows read, 10,000 matched" in big.content
    done = await _press(env, env.carol, big, "Import")
    assert "Imported: 10,000 new ratings" in done.content
    print(f"PostgreSQL 10,000-row import: {time.perf_counter() - started:.2f} s")
    assert await env.storage.count_member_ratings(env.guild.id, env.carol.id) == 10_000

    # Watchlist and a movie night.
    jaws = await env.movie("Jaws")
    await env.run(env.bob, "watchlist add", movie=f"#{jaws.id}")
    shown = await env.run(env.bob, "watchlist show")
    assert shown.embed["description"] == "1. Jaws (1975)"
    await env.seed_taste_clusters(env.guild)
    env.guild.everyone.permissions &= ~Permissions.SEND_POLLS  # a button vote
    env.guild.bot_role.permissions &= ~Permissions.SEND_POLLS
    night = await env.run(env.alice, "movienight", members=env.bob.mention, candidates=2)
    assert not night.ephemeral
    await _press(env, env.alice, night, "2.")
    await _press(env, env.bob, night, "2.")
    closed = await _press(env, env.alice, night, "End vote")
    assert "Movie night pick" in closed.content and "with 2 votes" in closed.content
    # The winner goes on both attendees' watchlists (it may be Vertigo, already on Alice's).
    winner = closed.content.split("**")[1]
    for member in (env.alice, env.bob):
        listed = await env.storage.watchlist(env.guild.id, member.id)
        assert winner in {f"{e.movie.title} ({e.movie.year})" for e in listed}
    expected = 1 if winner == "Vertigo (1958)" else 2
    assert await env.storage.count_watchlist(env.guild.id, env.alice.id) == expected

    ask = await env.run(env.alice, "forgetme")
    await _press(env, env.alice, ask, "Delete my ratings")
    assert await env.storage.count_member_ratings(env.guild.id, env.alice.id) == 0
    assert await env.storage.count_watchlist(env.guild.id, env.alice.id) == 0
