"""Abuse limits: per-member cooldown, per-guild cap on added movies, permissions checked in the
bot, and size limits on a guild's model (with a log line when trimmed or refused)."""

from __future__ import annotations

import logging
import re
from dataclasses import replace

import numpy as np

from bot.config import LimitSettings, RecommenderSettings
from bot.service.limits import apply_size_limits


async def test_recommend_cooldown_is_per_member_with_retry_time(env):
    env.set_cooldown(60)
    first = await env.run(env.alice, "recommend")
    assert "Slow down" not in first.rendered_text()
    again = await env.run(env.alice, "recommend")
    match = re.search(r"try again in (\d+) s", again.content)
    assert again.ephemeral and match and 55 <= int(match.group(1)) <= 60, again.content
    other = await env.run(env.bob, "recommend")  # another member is not held up
    assert "Slow down" not in other.rendered_text()
    elsewhere = await env.run(env.alice2, "recommend")  # nor the same member elsewhere
    assert "Slow down" not in elsewhere.rendered_text()


async def test_guild_movie_cap(env):
    env.bot.settings = replace(env.bot.settings,
        limits=LimitSettings(recommend_cooldown_seconds=0, guild_movie_cap=2))
    env.bot.app.catalog.settings = env.bot.settings  # the cap is the catalog service's rule
    for title in ("Cap One", "Cap Two"):
        assert (await env.run(env.admin, "movies add", title=title, year=2020)
                ).content.startswith("Added")
    refused = await env.run(env.admin, "movies add", title="Cap Three", year=2020)
    assert refused.ephemeral and "limit of 2 added movies" in refused.content
    assert await env.storage.count_guild_movies(env.guild.id) == 2
    # The cap is per guild: the other guild can still add.
    other = await env.run(env.owner2, "movies add", title="Cap Three", year=2020)
    assert other.content.startswith("Added")


async def test_permissions_are_checked_by_the_bot(env):
    """The emulator, like a server that overrode the default command permissions, lets anyone
    invoke these; the bot itself refuses."""
    before = await env.storage.get_guild_settings(env.guild.id)
    cases = [
        (env.alice, "settings", {"ratings_visible": False}, "Manage Server"),
        (env.alice, "settings", {"features": 5}, "Manage Server"),
        (env.bob, "movies add", {"title": "Sneaky Film", "year": 2020}, "Manage Server"),
        (env.admin, "sync", {}, "Only the bot owner"),  # Manage Server is not enough
        (env.alice, "sync", {"scope": "global"}, "Only the bot owner"),
        (env.owner2, "sync", {}, "Only the bot owner"),  # a guild owner is not the bot owner
    ]
    for member, command, options, expected in cases:
        reply = await env.run(member, command, **options)
        assert reply.ephemeral and expected in reply.content, (command, reply.content)
    assert await env.storage.get_guild_settings(env.guild.id) == before
    assert await env.storage.count_guild_movies(env.guild.id) == 0
    # ... and those who have it may.
    ok = await env.run(env.admin, "settings", ratings_visible=False)
    assert ok.embeds and "Settings updated" in ok.embeds[0]["title"]
    synced = await env.run(env.owner, "sync")
    assert "Synced" in synced.rendered_text()


def _ratings(members: int, movies: int, per_member: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    users, items = [], []
    for u in range(members):
        chosen = rng.choice(movies, size=per_member, replace=False)
        users += [u] * per_member
        items += list(chosen)
    scores = rng.integers(1, 11, size=len(users)).astype(np.float32)
    return np.array(users, dtype=np.int64), np.array(items, dtype=np.int64), scores


def test_apply_size_limits_unit(caplog):
    users, movies, scores = _ratings(50, 40, 10)
    caplog.set_level(logging.INFO, logger="bot.service.limits")
    same = apply_size_limits(1, users, movies, scores, features=10, max_ratings=10_000,
                             max_cells=10_000)
    assert same is not None and len(same.scores) == 500 and same.features == 10
    assert not caplog.records

    trimmed = apply_size_limits(2, users, movies, scores, features=10, max_ratings=300,
                                max_cells=10_000)
    assert trimmed is not None and 0 < len(trimmed.scores) <= 300
    counts = {m: int((movies == m).sum()) for m in np.unique(movies)}
    kept = set(np.unique(trimmed.movie_ids).tolist())
    dropped = set(counts) - kept
    assert dropped and min(counts[m] for m in kept) >= max(counts[m] for m in dropped)
    assert "guild=2 trimmed: 500 ratings over the limit of 300" in caplog.text

    one_big_movie = apply_size_limits(5, np.arange(500), np.full(500, 7), np.ones(500),
                                      features=10, max_ratings=300, max_cells=10_000)
    assert one_big_movie is not None and len(one_big_movie.scores) == 300

    caplog.clear()
    reduced = apply_size_limits(3, users, movies, scores, features=10, max_ratings=10_000,
                                max_cells=450)  # 90 rows x 10 features = 900 cells
    assert reduced is not None and reduced.features == 5
    assert "guild=3 features reduced from 10 to 5 to stay under 450 model cells" in caplog.text

    caplog.clear()
    refused = apply_size_limits(4, users, movies, scores, features=10, max_ratings=10_000,
                                max_cells=100)
    assert refused is None
    assert any(r.levelno == logging.ERROR and "guild=4 refused" in r.getMessage()
               for r in caplog.records)


async def test_size_limits_through_the_service(env, caplog):
    caplog.set_level(logging.INFO, logger="bot.service")
    service = env.service
    base = service.settings
    small = RecommenderSettings(max_guild_ratings=100, max_model_cells=1000)
    service.settings = replace(base, recommender=small)
    try:
        titles = (*env.SCIFI, *env.ROMANCE)
        await env.seed(env.guild, {env.FAN_BASE + u: {t: 1 + (u + i) % 10
                                                      for i, t in enumerate(titles)}
                                   for u in range(12)})  # 12 x 16 = 192 ratings
        assert f"guild={env.guild.id} trimmed: 192 ratings over the limit of 100" in caplog.text
        assert service.fits_completed >= 1
        assert await service.top(env.guild.id, 3)  # still serving, from fewer ratings

        # A guild too large for even two features is refused, with one clear line, and the
        # bot answers instead of failing.
        service.settings = replace(base,
            recommender=RecommenderSettings(max_guild_ratings=1000, max_model_cells=1000))
        await env.seed(env.guild2, {env.FAN_BASE + u: {"Alien": 5} for u in range(600)})
        assert f"guild={env.guild2.id} refused: 601 members+movies" in caplog.text
        reply = await env.run(env.alice2, "recommend")
        assert "went wrong" not in reply.rendered_text()
    finally:
        service.settings = base
