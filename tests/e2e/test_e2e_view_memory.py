"""/recommend views stay small and go away when they time out (issue 24 item 3).

Long-lived views and their select options were the largest population the garbage collector
walked (benchmarks/many_guilds.py: ~13,000 `discord.SelectOption`s). Through the emulator, with
a short view timeout: while N lists are live their selects hold no `SelectOption` objects (they
are built only when a message is rendered), the messages still carry every option; once the
lists time out, discord.py's view store holds none of them and no `RecommendationView` or
`SelectOption` is left, the views freed by reference counting (no collection needed).
"""

from __future__ import annotations

import gc
import sys
import weakref
from typing import TYPE_CHECKING

import discord
import timeouts

from cogs.ui.views import RecommendationView

if TYPE_CHECKING:
    from conftest import Env

LISTS = 6


def count(kind: type) -> int:
    return sum(1 for o in gc.get_objects() if isinstance(o, kind))


def store_views(env: Env) -> list:
    store = env.bot._connection._view_store
    views = list(store._synced_message_views.values())
    views += [item.view for items in store._views.values() for item in items.values()]
    return [v for v in views if isinstance(v, RecommendationView)]


async def test_timed_out_lists_leave_nothing_behind(env: Env, monkeypatch) -> None:
    monkeypatch.setattr(sys.modules["cogs.ui.views"], "VIEW_TIMEOUT", 3.0)
    await env.seed_taste_clusters(env.guild, train=False)
    members = (env.alice, env.bob, env.carol)
    await env.seed(env.guild, {m.id: {"Star Wars": 10, "Alien": 9, "Casablanca": 2}
                               for m in members})
    gc.collect()
    options_before = count(discord.SelectOption)
    replies, watched = [], []
    for i in range(LISTS):
        reply = await env.run(members[i % len(members)], "recommend", count=5)
        replies.append(reply)
        # one view per message, in discord.py's view store while the list is live...
        # (discord.py stores the view once the edit's HTTP response is back: wait for it)
        mine = await env.emu.wait_until(
            lambda reply=reply: [v for v in store_views(env) if v._cache_key == reply.id],
            timeouts.scaled(5), what="the list's view in the store")
        assert len({id(v) for v in mine}) == 1
        watched.append(weakref.ref(mine[0]))
        del mine
        # ...the message carries every option, the live view holds no SelectOption object
        selects = [c for c in reply.walk_components() if c.get("type") == 3]
        assert len(selects) == 3 and all(len(s["options"]) == 5 for s in selects)
        assert count(discord.SelectOption) == options_before

    def all_disabled() -> bool:
        return all(c.get("disabled")
                   for reply in replies
                   for c in env.emu.message(reply.id).walk_components()
                   if c.get("type") in (2, 3))

    await env.emu.wait_until(all_disabled, timeouts.scaled(20), what="every list to time out")
    await env.emu.wait_until(lambda: not store_views(env)
                             and all(ref() is None for ref in watched),
                             timeouts.scaled(5), what="the timed-out views to be freed")
    gc.collect()
    assert count(RecommendationView) == 0
    assert count(discord.SelectOption) == options_before
