"""Security round 2, row 11, through the bot: `/import` ignored the 5,000-movie watchlist cap
(5,500 went in). Now the preview says how many fit, the import adds up to the cap and says
how many it left off, and `/watchlist add` and a movie night's winner respect it as well."""

from __future__ import annotations

from bot.domain.watchlist import MAX_WATCHLIST
from bot.service.movienight import Tally
from bot.storage import MovieRow

EXTRA = 500


def _button(reply, label: str) -> str:
    return next(b["custom_id"] for b in reply.buttons if b.get("label") == label)


async def test_a_5500_movie_watchlist_import_stops_at_the_cap(env) -> None:
    total = MAX_WATCHLIST + EXTRA
    await env.storage.add_movies_bulk([MovieRow(f"Listed Film {i}", 1990 + i % 30, ("Drama",))
                                       for i in range(total)])
    lines = ["Date,Name,Year,Letterboxd URI"]
    lines += [f"2024-01-01,Listed Film {i},{1990 + i % 30},u" for i in range(total)]
    reply = await env.answer(await env.slash(env.alice, "import", file=(
        "watchlist.csv", "\n".join(lines).encode())), wait=60)
    assert f"{total:,} rows read, {total:,} matched" in reply.content, reply.content
    assert f"Only {MAX_WATCHLIST:,} of them fit: a watchlist holds 5,000 movies." in reply.content
    done = await (await env.emu.click(env.alice, reply, _button(reply, "Import"))).response(60)
    assert f"{MAX_WATCHLIST:,} movies added to your watchlist" in done.content, done.content
    assert f"{EXTRA} movies left off your watchlist" in done.content
    assert await env.storage.count_watchlist(env.guild.id, env.alice.id) == MAX_WATCHLIST

    # The other paths agree: /watchlist add is refused, a movie night's winner is skipped.
    movie = await env.movie("Vertigo")
    refused = await env.run(env.alice, "watchlist add", movie=f"#{movie.id}")
    assert "Your watchlist holds its limit of 5,000 movies" in refused.rendered_text()
    members = {env.alice.id, env.bob.id}
    tally = Tally(2, voters=members, takers=members)  # both voted
    added = await env.bot.app.movienight.finish(env.guild.id, tally, movie)
    assert added == 1  # Bob only
    assert await env.storage.count_watchlist(env.guild.id, env.alice.id) == MAX_WATCHLIST
