"""End-to-end: paging is bounded work per click. "Show more" and Previous/Next share a
per-member limit (a few turns per couple of seconds, across all the member's lists), a refused
press changes nothing, and the ranking behind "Show more" is computed once, then sliced."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.ui.paginator import PAGING_RATE

if TYPE_CHECKING:
    from conftest import Env


def _component(reply, kind: int) -> dict:
    return next(c for c in reply.walk_components() if c.get("type") == kind)


async def test_show_more_pressed_too_fast_is_refused_politely_and_changes_nothing(
        env: Env) -> None:
    await env.seed_taste_clusters(env.guild)
    await env.seed(env.guild, {env.alice.id: {"Star Wars": 10, "Alien": 9, "Casablanca": 2,
                                              "Roman Holiday": 3}})
    reply = await env.run(env.alice, "recommend", count=1)
    button = _component(reply, 2)
    allowed, _per = PAGING_RATE
    for _ in range(allowed):
        click = await env.emu.click(env.alice, reply.id, button["custom_id"])
        # the list was edited to the next page (at once, or after a deferred update)
        answer = await env.answer(click)
        assert (await click.response()).type in (6, 7) and answer.embed, answer
    shown = env.emu.message(reply.id).embed["description"]
    refused = await (await env.emu.click(env.alice, reply.id, button["custom_id"])).response()
    assert refused.ephemeral and refused.content.startswith("Slow down a little")
    assert refused.allowed_mentions == {"parse": []}
    assert env.emu.message(reply.id).embed["description"] == shown


async def test_later_pages_slice_one_ranking_instead_of_ranking_again(env: Env) -> None:
    await env.seed_taste_clusters(env.guild)
    await env.seed(env.guild, {env.alice.id: {"Star Wars": 10, "Alien": 9, "Casablanca": 2,
                                              "Roman Holiday": 3}})
    service = env.service
    first = await service.recommend(env.guild.id, env.alice.id, n=2)
    state = service.models.cache.get(env.guild.id)
    calls = []
    original = state.model.recommend

    def counting(*args, **kwargs):
        calls.append(kwargs.get("n"))
        return original(*args, **kwargs)

    state.model.recommend = counting
    second = await service.recommend(env.guild.id, env.alice.id, n=2, offset=2)
    third = await service.recommend(env.guild.id, env.alice.id, n=2, offset=4)
    assert calls == []  # both pages came from the ranking made for the first
    ids = [p.movie_id for p in first.items + second.items + third.items]
    assert len(ids) == len(set(ids)) == 6
    # A new rating changes what the member has rated: the ranking is made again.
    await env.run(env.alice, "rate", movie="Jaws", score=8)
    await service.recommend(env.guild.id, env.alice.id, n=2, offset=2)
    assert len(calls) == 1
