"""End-to-end: /link, /unlink, /link status and /forgetme through the emulator, with the bot
configured against local imitations of Jellyfin 12, Trakt and Letterboxd (tests/media/
imitations.py); Plex is left unconfigured, as an admin may (issue 25)."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

import pytest

from bot.config import JellyfinSettings, MediaSettings, TraktSettings

if TYPE_CHECKING:
    from conftest import Env


def _imitations():
    if "media_imitations" not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "media" / "imitations.py"
        spec = importlib.util.spec_from_file_location("media_imitations", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return sys.modules["media_imitations"]


im = _imitations()
NAMES = ("jellyfin", "trakt", "letterboxd")


@pytest.fixture
def fakes():
    return SimpleNamespace(jellyfin=im.FakeJellyfin(version="12"),
                           trakt=im.FakeTrakt(now=time.time()),
                           letterboxd=im.FakeLetterboxd(),
                           ports={name: im.free_port() for name in NAMES})


@pytest.fixture
def e2e_settings(fakes):
    """What the admin configured: the env fixture builds the bot with these."""
    url = {name: f"http://127.0.0.1:{port}" for name, port in fakes.ports.items()}
    return {"jellyfin": JellyfinSettings(url["jellyfin"], fakes.jellyfin.api_key),
            "trakt": TraktSettings(fakes.trakt.client_id, fakes.trakt.client_secret,
                                   base_url=url["trakt"]),
            "media": MediaSettings(letterboxd_url=url["letterboxd"])}


@pytest.fixture
async def served(fakes):
    async with contextlib.AsyncExitStack() as stack:
        for name in NAMES:
            await stack.enter_async_context(im.serve(getattr(fakes, name).app(),
                                                     fakes.ports[name]))
        yield fakes


def _button(reply, label: str) -> str:
    return next(b["custom_id"] for b in reply.buttons if b.get("label") == label)


async def _seed(env: Env, movies: int = 80) -> list:
    """Members who rated the first `movies` catalog movies; alice rated five of them."""
    catalog = [await env.storage.get_movie(env.guild.id, i) for i in range(1, movies + 1)]
    ratings = {env.FAN_BASE + u: {m: 1 + (u * 7 + i * 3) % 10 for i, m in enumerate(catalog)}
               for u in range(10)}
    ratings[env.alice.id] = {m: 9 - i for i, m in enumerate(catalog[:5])}
    await env.seed(env.guild, ratings)
    return catalog


async def _link_trakt(env: Env, fakes) -> None:
    inter = await env.slash(env.alice, "link trakt")
    shown = await env.answer(inter)
    assert shown.ephemeral and "https://trakt.tv/activate" in shown.content
    [code] = fakes.trakt.pending_user_codes()
    assert code in shown.content
    fakes.trakt.approve(code)
    done = (await inter.followups(1, timeout=20))[0]
    assert done.ephemeral and "Linked Trakt account **alice\\_t**" in done.content


async def test_a_linked_jellyfin_users_40_watched_movies_never_come_back(served, env: Env):
    catalog = await _seed(env)
    before = await env.service.recommend(env.guild.id, env.alice.id, n=100)
    ranked = [p.movie_id for p in before.items]
    assert len(ranked) >= 40
    watched = [await env.storage.get_movie(env.guild.id, m) for m in ranked[:40]]
    for movie in watched[:20]:  # half known to the catalog by TMDB id, half by title + year
        await env.storage.link_movie_ids(movie.id, 5000 + movie.id, None)
    served.jellyfin.played["u-alice"] = [
        im.movie_item(i, tmdb=5000 + m.id) for i, m in enumerate(watched[:20])] + [
        im.movie_item(100 + i, title=m.title, year=m.year) for i, m in enumerate(watched[20:])]

    choices = await (await env.emu.autocomplete(env.alice, env.channel, "link jellyfin",
                                                "user", user="al")).response()
    assert choices.choices == [{"name": "Alice", "value": "u-alice"}]
    reply = await env.run(env.alice, "link jellyfin", user="u-alice")
    assert reply.ephemeral and "Linked Jellyfin account **Alice**" in reply.content
    assert "imported 40 watched, 0 ratings, 0 unmatched" in reply.content
    # Jellyfin 12: the key went only in the Authorization header (legacy forms get 401).
    assert served.jellyfin.auth_forms["legacy"] == 0 and served.jellyfin.auth_forms["header"]

    labels = {f"{m.title} ({m.year})" for m in watched}
    shown = await env.run(env.alice, "recommend")
    assert shown.embeds and not [t for t in labels if t in shown.rendered_text()]
    after = await env.service.recommend(env.guild.id, env.alice.id, n=100)
    assert after.items and not {m.id for m in watched} & {p.movie_id for p in after.items}
    assert len(catalog) == 80


async def test_a_big_historys_sync_shows_progress_then_the_summary(served, env: Env):
    """1,250 watched movies: the ephemeral reply shows "Syncing Jellyfin: 500/1,250 movies
    read…" while the server is slow, progress edits stay at most one per few seconds, and the
    summary replaces them."""
    from cogs.ui.progress import EVERY

    catalog = [await env.storage.get_movie(env.guild.id, i) for i in range(1, 31)]
    for movie in catalog:
        await env.storage.link_movie_ids(movie.id, 5000 + movie.id, None)
    served.jellyfin.played["u-alice"] = [
        im.movie_item(i, tmdb=5000 + m.id) for i, m in enumerate(catalog)] + [
        im.movie_item(100 + i, title=f"Unknown Film {i}", year=1990) for i in range(1220)]
    served.jellyfin.hold_pages = asyncio.Event()  # the pages after the first wait
    inter = await env.slash(env.alice, "link jellyfin", user="u-alice")
    [first] = await inter.wait_edits(1, timeout=20)
    assert first.ephemeral and first.content == "Syncing Jellyfin: 500/1,250 movies read…"
    started = time.monotonic()
    served.jellyfin.hold_pages.set()

    def finished():
        final = inter.final()
        return final if final is not None and "Linked Jellyfin" in final.content else None

    final = await env.emu.wait_until(finished, 60, "the sync's summary")
    elapsed = time.monotonic() - started
    assert final.ephemeral
    assert "imported 30 watched, 0 ratings, 1,220 unmatched" in final.content
    assert "With a TMDB key" in final.content  # none set: they stay unmatched
    lines = [e.content for e in inter.edits[:-1]]
    assert inter.edits[-1].content == final.content
    assert lines and all(t.startswith("Syncing Jellyfin: ") for t in lines)
    # throttled: the first at once, then at most one per EVERY seconds
    assert len(lines) <= 2 + elapsed / EVERY
    assert len(await env.storage.seen_movie_ids(env.guild.id, env.alice.id)) == 30


async def test_link_status_and_unlink(served, env: Env):
    served.letterboxd.feeds["alice_lb"] = [{"title": "Casablanca", "year": 1942, "rating": 4.5},
                                           {"title": "Unknown Film", "year": 2040}]
    empty = await env.run(env.alice, "link status")
    assert empty.ephemeral and "**Letterboxd**: not linked" in empty.content
    assert "**Plex**: not set up on this bot" in empty.content
    reply = await env.run(env.alice, "link letterboxd", username="alice_lb")
    assert "imported 1 watched, 1 rating, 1 unmatched" in reply.content
    assert "Unknown Film (2040)" in reply.content
    assert await env.rating(env.alice, "Casablanca") == 9  # 4.5 stars
    status = await env.run(env.alice, "link status")
    assert "**Letterboxd**: linked as **alice\\_lb**" in status.content
    assert "Unknown Film (2040)" in status.content

    gone = await env.run(env.alice, "unlink", service="letterboxd")
    assert gone.ephemeral and "Unlinked Letterboxd account" in gone.content
    assert "1 rating it brought" in gone.content
    assert await env.rating(env.alice, "Casablanca") is None
    assert await env.storage.media_links(env.guild.id, env.alice.id) == []
    again = await env.run(env.alice, "unlink", service="letterboxd")
    assert "no Letterboxd account linked" in again.content
    bad = await env.run(env.alice, "link letterboxd", username="not a name!")
    assert bad.ephemeral and "not a Letterboxd username" in bad.content


async def test_a_service_the_admin_did_not_set_up_says_what_to_set(served, env: Env):
    reply = await env.run(env.alice, "link plex", user="alice")
    assert reply.ephemeral and "Plex is not set up on this bot" in reply.content
    assert "MOVIEBOT\\_PLEX\\_URL" in reply.content or "MOVIEBOT_PLEX_URL" in reply.content
    assert await env.storage.media_links(env.guild.id, env.alice.id) == []


async def test_trakt_refreshes_its_token_before_expiry_and_backs_off_on_429(served, env: Env):
    served.trakt.device_token_age = 20 * 3600  # approved long ago: 4 h of 24 left
    served.trakt.history = [{"title": "Casablanca", "year": 1942},
                            {"title": "Vertigo", "year": 1958}]
    served.trakt.ratings = [{"title": "Vertigo", "year": 1958, "rating": 8}]
    await _link_trakt(env, served)
    assert served.trakt.seen["refresh"] == 1  # before the first read, not after a 401
    assert served.trakt.seen["expired_token"] == 0
    link = await env.storage.media_link(env.guild.id, env.alice.id, "trakt")
    assert link.token_expires_at > time.time() + 23 * 3600
    assert await env.rating(env.alice, "Vertigo") == 8

    served.trakt.rate_limit(1, retry_after="1")
    synced = await env.bot.app.media.sync_due(now=time.time() + 30 * 3600)
    assert synced == 1 and served.trakt.seen["429"] == 1
    assert env.bot.app.media.clients.trakt().backoffs == [1.0]
    link = await env.storage.media_link(env.guild.id, env.alice.id, "trakt")
    assert link.sync_summary.startswith("imported 2 watched")


async def test_forgetme_removes_links_history_and_tokens(served, env: Env):
    served.trakt.history = [{"title": "Casablanca", "year": 1942}]
    served.letterboxd.feeds["alice_lb"] = [{"title": "Vertigo", "year": 1958}]
    served.letterboxd.feeds["bob_lb"] = [{"title": "Vertigo", "year": 1958}]
    await _link_trakt(env, served)
    await env.run(env.alice, "link letterboxd", username="alice_lb")
    taken = await env.run(env.bob, "link letterboxd", username="alice_lb")
    assert "already linked by another member" in taken.content
    await env.run(env.bob, "link letterboxd", username="bob_lb")  # bob's own link stays
    assert len(await env.storage.seen_movie_ids(env.guild.id, env.alice.id)) == 2
    token = env.bot.app.media.box.open(
        (await env.storage.media_link(env.guild.id, env.alice.id, "trakt")).access_token)

    exported = await env.run(env.alice, "export")
    [media_file] = [a for a in exported.attachments if "linked-accounts" in a.filename]
    text = media_file.text
    assert "Casablanca" in text and "alice_lb" in text and token not in text

    prompt = await env.run(env.alice, "forgetme")
    assert "2 linked accounts" in prompt.content
    done = await (await env.emu.click(env.alice, prompt, _button(prompt, "Delete my ratings"))
                  ).response()
    assert "unlinked 2 linked accounts" in done.content
    assert await env.storage.media_links(env.guild.id, env.alice.id) == []
    assert await env.storage.seen_movie_ids(env.guild.id, env.alice.id) == []
    await env.emu.wait_until(lambda: served.trakt.revoked or None, 10, "the Trakt revoke")
    assert served.trakt.revoked == [token]
    assert await env.storage.media_link(env.guild.id, env.bob.id, "letterboxd") is not None


async def test_media_messages_speak_the_members_and_the_servers_language(served, env: Env):
    """The media clients' own refusals and the sync summaries are worded in the member's
    language; a periodic sync (no member asked) words its summary in the server's."""
    env.alice.user.locale = "de"
    missing = await env.run(env.alice, "link letterboxd", username="nobody")
    assert missing.ephemeral and missing.content.startswith(
        "Letterboxd hat kein Mitglied namens nobody: prüfe die Schreibweise"), missing.content
    plex = await env.run(env.alice, "link plex", user="alice")
    assert plex.content.startswith("Plex ist für diesen Bot nicht eingerichtet"), plex.content
    served.letterboxd.feeds["alice_lb"] = [{"title": "Casablanca", "year": 1942, "rating": 4.5},
                                           {"title": "Unknown Film", "year": 2040}]
    linked = await env.run(env.alice, "link letterboxd", username="alice_lb")
    assert "1 gesehene importiert, 1 Bewertung, 1 nicht zugeordnet" in linked.content, \
        linked.content
    await env.storage.update_guild_settings(env.guild.id, language="fr")
    del served.letterboxd.feeds["alice_lb"]  # the account is gone: the next sync fails
    assert await env.bot.app.media.sync_due(now=time.time() + 30 * 3600) == 1
    link = await env.storage.media_link(env.guild.id, env.alice.id, "letterboxd")
    assert link.sync_summary == ("la dernière synchronisation a échoué : Letterboxd n'a aucun "
                                 "membre nommé alice_lb"), link.sync_summary
