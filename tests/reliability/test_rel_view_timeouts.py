"""Issue 20, "also": a view's timeout that fires after the bot closed raised "Session is
closed" (aiohttp), and a timeout edit that fails for another ordinary reason (the 15-minute
token expired, the message was deleted) must end quietly too (`cogs.ui.timeouts`).

Real views from real commands, then their `on_timeout` run against the emulator's errors and a
closed bot: none may raise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import aiohttp
import pytest

from cogs.ui import consent, paginator
from emulator import fast_retries

if TYPE_CHECKING:
    from conftest import Env

EDIT_ORIGINAL = "PATCH /webhooks/*/messages/@original"
EXPIRED_TOKEN = {"code": 50027, "message": "Invalid Webhook Token"}
UNKNOWN_MESSAGE = {"code": 10008, "message": "Unknown Message"}


@pytest.fixture
def made(monkeypatch):
    """The paginators and consent prompts the commands create, in order."""
    views: list = []
    for cls in (paginator.Paginator, consent.ConsentView):
        init = cls.__init__

        def record(self, *args, _init=init, **kwargs):
            _init(self, *args, **kwargs)
            views.append(self)

        monkeypatch.setattr(cls, "__init__", record)
    return views


async def _paginator(env: Env, made: list) -> paginator.Paginator:
    reply = await env.run(env.alice, "movies search", query="the")
    assert any(b.get("label") == "Next" for b in reply.buttons)
    view = made[-1]
    assert isinstance(view, paginator.Paginator)
    return view


@pytest.mark.parametrize("status, body", [(401, EXPIRED_TOKEN), (404, UNKNOWN_MESSAGE),
                                          (500, None)],
                         ids=["expired-token", "deleted-message", "server-error"])
async def test_a_paginator_timeout_edit_that_fails_ends_quietly(env: Env, made, status,
                                                                 body) -> None:
    view = await _paginator(env, made)
    refused = env.emu.faults.error(EDIT_ORIGINAL, status, body=body, count=None)
    with fast_retries():  # discord.py still retries a 500 five times, without 25 s of sleeps
        await view.on_timeout()  # must not raise
    assert refused.hits >= 1
    assert all(item.disabled for item in view.children)


async def test_timeouts_after_the_bot_closed_end_quietly(env: Env, made) -> None:
    pages = await _paginator(env, made)
    # A consent prompt (hidden ratings, a group pick) and a movie night's Join message.
    await env.storage.update_guild_settings(env.guild.id, ratings_visible=False)
    await env.seed_taste_clusters(env.guild)
    await env.answer(await env.slash(env.alice, "recommend", group=env.bob.mention))
    prompt = made[-1]
    assert isinstance(prompt, consent.ConsentView)
    await env.run(env.alice, "movienight", members=env.bob.mention)
    [join] = env.bot.app.movienight._open[env.guild.id]
    await env.bot.close()
    for view in (pages, prompt, join):
        await view.on_timeout()  # "Session is closed" before: must not raise


async def test_a_closed_session_is_quiet_even_unnoticed(env: Env, made) -> None:
    """The edit reaches aiohttp's closed session (the client not yet marked closed)."""
    from cogs.ui.timeouts import end_quietly

    view = await _paginator(env, made)
    interaction = view.interaction
    assert interaction is not None
    closed = aiohttp.ClientSession()
    await closed.close()
    interaction._session = closed  # the session the interaction's webhook calls use
    assert not await end_quietly(None, lambda: interaction.edit_original_response(view=view))
