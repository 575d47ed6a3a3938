"""A flood from one member slows only that member (issue 20 row 5, issue 24 item 2).

The attack: 100 autocompletes from one member, each a database read, queued everyone's
commands behind them (~27 s at scale). The promise: per-member token buckets
(`bot.service.buckets`, sized by `[limits]`) for autocomplete and for every command that reads a
lot; over budget an autocomplete gets an empty list with no database read, and a command a
clear ephemeral "slow down, try again in N s" with nothing read. The buckets here run on a
clock the test holds still, so what is refused does not depend on the machine's speed.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace

import pytest

from bot.config import ConfigError, LimitSettings, load_settings
from bot.service.buckets import MAX_MEMBERS, MemberBudgets, TokenBuckets


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _budgets(env, clock: Clock, *, autocomplete: int = 15, commands: int = 10) -> MemberBudgets:
    limits = LimitSettings()
    budgets = MemberBudgets(
        TokenBuckets(autocomplete, limits.autocomplete_per_second, clock=clock),
        TokenBuckets(commands, limits.command_per_second, clock=clock))
    env.bot.app.budgets = budgets
    return budgets


def _count_calls(obj, name: str) -> list[int]:
    """Count calls of `obj.name` (a storage method) by guild, leaving its behaviour intact."""
    calls: list[int] = []
    original = getattr(obj, name)

    async def counting(guild_id, *args, **kwargs):
        calls.append(guild_id)
        return await original(guild_id, *args, **kwargs)

    setattr(obj, name, counting)
    return calls


async def test_an_autocomplete_flood_reads_within_the_budget_and_others_are_served(env):
    clock = Clock()
    budgets = _budgets(env, clock)
    searches = _count_calls(env.storage, "search_movies")
    casablanca = await env.movie("Casablanca")

    async def autocomplete(member, typed: str):
        inter = await env.emu.autocomplete(member, env.channel, "rate", "movie", movie=typed)
        return await inter.response(30)

    flood = [autocomplete(env.alice, "casablanca"[: 1 + i % 10]) for i in range(100)]
    rate = env.run(env.bob, "rate", movie=f"#{casablanca.id}", score=8)
    *answers, rated = await asyncio.gather(*flood, rate)
    # The other member's command went through, answered and saved.
    assert rated.content.startswith("Rated **Casablanca (1942)** 8/10"), rated.content
    assert await env.rating(env.bob, "Casablanca") == 8
    # Every autocomplete was answered (Discord shows nothing rather than an error)...
    assert all(a.type == 8 for a in answers)
    served = [a for a in answers if a.choices]
    assert len(served) == 15
    # ...and only the budget's worth reached the database.
    assert len(searches) == 15 and budgets.autocomplete.refused == 85
    # Another member's suggestions are not touched by the flood.
    mine = await autocomplete(env.bob, "casabla")
    assert {"name": "Casablanca (1942)", "value": f"#{casablanca.id}"} in mine.choices
    assert len(searches) == 16
    # The flooder's bucket refills with time: a little later they get suggestions again.
    clock.now += 1.0 / LimitSettings().autocomplete_per_second
    again = await autocomplete(env.alice, "casabla")
    assert again.choices and len(searches) == 17


async def test_genre_autocomplete_is_within_the_same_budget(env):
    clock = Clock()
    _budgets(env, clock, autocomplete=2)
    reads = _count_calls(env.storage, "genres")
    answers = []
    for _ in range(4):
        inter = await env.emu.autocomplete(env.alice, env.channel, "movies top", "genre",
                                           genre="dra")
        answers.append((await inter.response()).choices)
    assert [bool(a) for a in answers] == [True, True, False, False]
    assert len(reads) == 2


async def test_commands_that_read_a_lot_say_slow_down_and_read_nothing(env):
    clock = Clock()
    budgets = _budgets(env, clock, commands=3)
    searches = _count_calls(env.storage, "search_movies")
    for _ in range(3):
        reply = await env.run(env.alice, "movies search", query="the")
        assert "Slow down" not in reply.rendered_text()
    assert len(searches) == 3
    for command, options in (("movies search", {"query": "the"}),
                             ("movies info", {"movie": "Casablanca"}),
                             ("ratings", {}), ("recommend", {}), ("movies top", {})):
        refused = await env.run(env.alice, command, **options)
        assert refused.ephemeral, command
        match = re.fullmatch(r"Slow down a little: try again in (\d+) s\.", refused.content)
        assert match and int(match.group(1)) == 2, (command, refused.content)  # 1 token / 0.5 s
    assert len(searches) == 3  # nothing was read for the refused ones
    assert budgets.reads.refused == 5
    # Another member is not held up, and the flooder may go on once the bucket refilled.
    assert "Slow down" not in (await env.run(env.bob, "movies search", query="the")
                               ).rendered_text()
    clock.now += 2.0
    assert "Slow down" not in (await env.run(env.alice, "movies search", query="the")
                               ).rendered_text()


async def test_page_turns_count_against_the_command_budget(env):
    clock = Clock()
    _budgets(env, clock, commands=1)
    reply = await env.run(env.alice, "movies search", query="a")  # the one token
    button = next(c for c in reply.walk_components() if c.get("type") == 2
                  and not c.get("disabled"))
    shown = env.emu.message(reply.id).embed["description"]
    refused = await (await env.emu.click(env.alice, reply.id, button["custom_id"])).response()
    assert refused.ephemeral and refused.content.startswith("Slow down a little")
    assert env.emu.message(reply.id).embed["description"] == shown


def test_token_buckets() -> None:
    clock = Clock()
    buckets = TokenBuckets(3, 2.0, clock=clock)
    assert [buckets.take(1) for _ in range(3)] == [None, None, None]
    assert buckets.take(1) == pytest.approx(0.5)  # one token every 0.5 s
    assert buckets.take(2) is None  # per key
    clock.now += 0.25
    assert buckets.take(1) == pytest.approx(0.25)
    clock.now += 0.25
    assert buckets.take(1) is None
    clock.now += 60
    assert [buckets.take(1) for _ in range(4)][-1] is not None  # refills to the burst, no more
    assert buckets.refused == 3
    off = TokenBuckets(0, 1.0, clock=clock)
    assert not off.enabled and all(off.take(1) is None for _ in range(1000))
    # Idle members are forgotten once there are many; busy ones are kept.
    many = TokenBuckets(2, 1.0, clock=clock)
    for key in range(MAX_MEMBERS):
        many.take(key)
    clock.now += 10
    many.take(-1)
    many.take(-1)
    assert many.take(-1) is not None
    many.take(MAX_MEMBERS + 1)
    assert len(many._buckets) <= 3


def test_budgets_are_settings_with_bounds(tmp_path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[limits]\nautocomplete_burst = 30\ncommand_per_second = 2\n")
    limits = load_settings(config).limits
    assert limits == replace(LimitSettings(), autocomplete_burst=30, command_per_second=2.0)
    budgets = MemberBudgets.from_settings(limits)
    assert (budgets.autocomplete.burst, budgets.reads.per_second) == (30, 2.0)
    config.write_text("[limits]\ncommand_per_second = 0\n")
    with pytest.raises(ConfigError, match=r"limits\.command_per_second"):
        load_settings(config)
    config.write_text("[limits]\nautocomplete_burst = 1.5\n")
    with pytest.raises(ConfigError, match=r"limits\.autocomplete_burst"):
        load_settings(config)
