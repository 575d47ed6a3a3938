"""End-to-end: `/movienight when:` makes the winner a Discord scheduled event (voice channel or
a place outside Discord) at a time read in the server's timezone; without Manage Events the
bot says what to grant; the event's "Interested" members, and only they, get the winner on
their watchlists at the reminder, which names them without pinging anyone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from emulator import Permissions

if TYPE_CHECKING:
    from conftest import Env

LINE_RE = re.compile(r"^\d+\. \*\*(?P<label>.+?)\*\*")


def _labels(reply) -> list[str]:
    return [m.group("label") for line in reply.embed["description"].splitlines()
            if (m := LINE_RE.match(line))]


async def _seeded(env: Env) -> None:
    await env.seed_taste_clusters(env.guild, train=False)
    await env.seed(env.guild, {env.alice.id: {"Star Wars": 10, "Alien": 9, "Casablanca": 2},
                               env.bob.id: {"Jaws": 9, "Vertigo": 4, "Superman": 8}})


async def _closed(env: Env, listing):
    def closed():
        message = env.emu.message(listing.id)
        return message if message is not None and "Movie night pick" in message.content \
            else None

    return await env.emu.wait_until(closed, 15.0, "the result")


async def test_an_event_needs_manage_events(env: Env) -> None:
    await _seeded(env)
    reply = await env.run(env.alice, "movienight", members=env.bob.mention,
                          when="tomorrow 20:30")
    assert reply.ephemeral and "Manage Events" in reply.content
    assert "Server Settings > Roles" in reply.content
    assert not env.emu.requests_matching("POST /webhooks/*")  # no vote was posted
    env.guild.bot_role.permissions |= Permissions.MANAGE_EVENTS
    bad = await env.run(env.alice, "movienight", members=env.bob.mention, when="soonish")
    assert bad.ephemeral and "tomorrow 20:30" in bad.content


async def test_the_interested_and_only_they_get_the_winner(env: Env) -> None:
    await _seeded(env)
    env.guild.bot_role.permissions |= Permissions.MANAGE_EVENTS
    await env.storage.update_guild_settings(env.guild.id, timezone="Europe/Berlin",
                                            reminder_minutes=45)
    await env.emu.join_voice(env.alice, env.voice)
    inter = await env.slash(env.alice, "movienight",
                            members=f"{env.bob.mention} {env.carol.mention}", candidates=2,
                            when="tomorrow 20:30")
    listing = await env.answer(inter)
    labels = _labels(listing)
    poll = await env.emu.wait_until(lambda: inter.followup_replies and inter.followup_replies[0],
                                    10.0, "the poll")
    await env.emu.poll_vote(env.alice, poll.id, 2)
    await env.emu.poll_vote(env.bob, poll.id, 2)
    await env.emu.poll_vote(env.carol, poll.id, 1)
    end = next(b for b in env.emu.message(listing.id).buttons if b["label"] == "End vote")
    await (await env.emu.click(env.alice, listing, end["custom_id"])).response()
    done = await _closed(env, listing)
    assert f"Movie night pick: **{labels[1]}** with 2 votes." in done.content
    assert "It is a server event now" in done.content and "Interested" in done.content
    [event] = env.guild.scheduled_events.values()
    assert event.name == f"Movie night: {labels[1]}" and event.channel_id == env.voice.id
    berlin = datetime.now(ZoneInfo("Europe/Berlin")) + timedelta(days=1)
    start = datetime(berlin.year, berlin.month, berlin.day, 20, 30,
                     tzinfo=ZoneInfo("Europe/Berlin"))
    assert datetime.fromisoformat(event.start) == start
    [stored] = await env.storage.night_events([env.guild.id])
    assert stored.remind_at == stored.starts_at - 45 * 60 == start.timestamp() - 45 * 60
    # Nobody's watchlist gained it from the vote: the event decides.
    assert await env.storage.watchlist(env.guild.id, env.alice.id) == []
    await env.emu.event_interested(env.bob, event)
    await env.emu.event_interested(env.dave, event)  # did not vote, comes anyway
    await env.emu.event_interested(env.carol, event)
    await env.emu.event_not_interested(env.carol, event)  # changed her mind
    sent = len(env.emu.sent_messages)
    cog = env.bot.get_cog("MovieNight")
    assert await cog.events.remind(stored) == 2
    for member, has in ((env.bob, True), (env.dave, True), (env.alice, False),
                        (env.carol, False)):
        listed = await env.storage.watchlist(env.guild.id, member.id)
        assert [e.movie.label for e in listed] == ([labels[1]] if has else []), member
    reminder = await env.emu.wait_for_message(env.channel, after=sent)
    assert labels[1] in reminder.content and "bob" in reminder.content
    assert "dave" in reminder.content and "carol" not in reminder.content
    assert reminder.mentions == [] and reminder.allowed_mentions["parse"] == []
    assert await env.storage.night_events([env.guild.id]) == []


async def test_an_event_outside_discord_has_a_place_and_an_end(env: Env) -> None:
    await _seeded(env)
    env.guild.bot_role.permissions |= Permissions.MANAGE_EVENTS
    env.guild.everyone.permissions &= ~Permissions.SEND_POLLS  # a button vote this time
    env.guild.bot_role.permissions &= ~Permissions.SEND_POLLS
    listing = await env.run(env.alice, "movienight", members=env.bob.mention, candidates=2,
                            when="tomorrow 21:00",
                            where="Alice's flat")
    vote = next(b for b in listing.buttons if b["label"].startswith("1."))
    await (await env.emu.click(env.bob, listing, vote["custom_id"])).response()
    end = next(b for b in listing.buttons if b["label"] == "End vote")
    await (await env.emu.click(env.alice, listing, end["custom_id"])).response()
    await _closed(env, listing)
    [event] = env.guild.scheduled_events.values()
    assert event.location == "Alice's flat" and event.channel_id is None
    start, finish = datetime.fromisoformat(event.start), datetime.fromisoformat(event.end)
    assert finish - start == timedelta(minutes=180)  # no TMDB runtime: 2.5 h + 30 min
    assert start > datetime.now(UTC)


async def test_with_tmdb_the_event_has_the_poster_as_cover_and_the_runtime(env: Env) -> None:
    """TMDB is a local imitation: every title is movie 900 with a 97-minute runtime and a
    poster."""
    import io

    from aiohttp import web
    from PIL import Image

    from bot.config import TmdbSettings
    from bot.service.details import DetailsService

    buffer = io.BytesIO()
    Image.new("RGB", (34, 51), (20, 90, 160)).save(buffer, "PNG")
    poster = buffer.getvalue()
    base = {}

    async def configuration(request: web.Request) -> web.Response:
        return web.json_response({"images": {"secure_base_url": f"{base['url']}/t/p/"}})

    async def search(request: web.Request) -> web.Response:
        return web.json_response({"page": 1, "results": [{"id": 900, "title": "x"}],
                                  "total_results": 1})

    async def details(request: web.Request) -> web.Response:
        return web.json_response({"id": 900, "title": "x", "runtime": 97,
                                  "poster_path": "/cover.png"})

    async def image(request: web.Request) -> web.Response:
        return web.Response(body=poster, content_type="image/png")

    app = web.Application()
    app.router.add_get("/3/configuration", configuration)
    app.router.add_get("/3/search/movie", search)
    app.router.add_get("/3/movie/{id}", details)
    app.router.add_get("/t/p/{size}/{name}", image)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base["url"] = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    services = env.bot.app
    tmdb = DetailsService.from_settings(env.storage, services.gate, TmdbSettings(
        api_key="k" * 20, base_url=base["url"], test_image_origins=(base["url"],)))
    for holder in (services, services.picks, services.tonight, services.movie_pages):
        holder.details = tmdb
    services.pictures.posters = tmdb
    try:
        await _seeded(env)
        env.guild.bot_role.permissions |= Permissions.MANAGE_EVENTS
        env.guild.everyone.permissions &= ~Permissions.SEND_POLLS
        env.guild.bot_role.permissions &= ~Permissions.SEND_POLLS
        listing = await env.run(env.alice, "movienight", members=env.bob.mention,
                                candidates=2, when="tomorrow 21:00", where="The club")
        vote = next(b for b in listing.buttons if b["label"].startswith("2."))
        await (await env.emu.click(env.bob, listing, vote["custom_id"])).response()
        end = next(b for b in listing.buttons if b["label"] == "End vote")
        await (await env.emu.click(env.alice, listing, end["custom_id"])).response()
        await _closed(env, listing)
    finally:
        await tmdb.close()
        await runner.cleanup()
    [event] = env.guild.scheduled_events.values()
    assert event.image is not None and env.emu.event_images[event.image] == poster
    start, finish = datetime.fromisoformat(event.start), datetime.fromisoformat(event.end)
    assert finish - start == timedelta(minutes=97 + 30)


async def test_a_member_who_ran_forgetme_is_not_added_though_still_interested(env: Env) -> None:
    """Discord keeps listing carol as interested after her /forgetme (the bot cannot take her
    off the list): the reminder neither names her nor puts the winner on her watchlist."""
    await _seeded(env)
    await env.seed(env.guild, {env.carol.id: {"Vertigo": 6}})  # something to forget
    env.guild.bot_role.permissions |= Permissions.MANAGE_EVENTS
    env.guild.everyone.permissions &= ~Permissions.SEND_POLLS
    env.guild.bot_role.permissions &= ~Permissions.SEND_POLLS
    listing = await env.run(env.alice, "movienight", members=env.bob.mention, candidates=2,
                            when="tomorrow 21:00", where="The club")
    labels = _labels(listing)
    vote = next(b for b in listing.buttons if b["label"].startswith("1."))
    await (await env.emu.click(env.bob, listing, vote["custom_id"])).response()
    end = next(b for b in listing.buttons if b["label"] == "End vote")
    await (await env.emu.click(env.alice, listing, end["custom_id"])).response()
    await _closed(env, listing)
    [event] = env.guild.scheduled_events.values()
    for member in (env.bob, env.carol, env.dave):
        await env.emu.event_interested(member, event)
    ask = await env.run(env.carol, "forgetme")
    await (await env.emu.click(env.carol, ask, next(
        b["custom_id"] for b in ask.buttons if b["label"] == "Delete my ratings"))).response()
    [stored] = await env.storage.night_events([env.guild.id])
    sent = len(env.emu.sent_messages)
    assert await env.bot.get_cog("MovieNight").events.remind(stored) == 2
    for member, has in ((env.bob, True), (env.dave, True), (env.carol, False)):
        listed = await env.storage.watchlist(env.guild.id, member.id)
        assert [e.movie.label for e in listed] == ([labels[0]] if has else []), member
    reminder = await env.emu.wait_for_message(env.channel, after=sent)
    assert "bob" in reminder.content and "carol" not in reminder.content
    # Nothing of hers stays once the reminder is done.
    assert await env.storage.night_event_skips(env.guild.id, stored.event_id) == set()
