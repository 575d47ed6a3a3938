"""One movie per franchise per /recommend page (issue 23 item 5): TMDB's collection, where its
details are cached (a TMDB key is set), joins films whose titles share no stem; without it the
title-stem rules do."""

from __future__ import annotations

import time

from bot.config import Settings
from bot.domain.models import MovieDetails
from bot.service.ranked import RankedList
from bot.service.service import RecommendationService
from recommender import Recommendation


async def test_cached_tmdb_collections_make_one_franchise(storage) -> None:
    service = RecommendationService(storage, Settings(token="x"), mode="thread")
    a = await storage.add_movie("Spy Film One", 2031, ["Action"], guild_id=1)
    b = await storage.add_movie("Golden Spy Returns", 2033, ["Action"], guild_id=1)
    c = await storage.add_movie("Toy Story Tribute", 2031, ["Animation"], guild_id=1)
    d = await storage.add_movie("Toy Story Tribute 2", 2033, ["Animation"], guild_id=1)
    e = await storage.add_movie("Heat Tribute", 2031, ["Crime"], guild_id=1)
    for movie in (a, b):
        await storage.save_movie_details(MovieDetails(movie.id, 1000 + movie.id, time.time(),
                                                      collection_id=645))
    ranked = RankedList([Recommendation(m.id, 8.0) for m in (a, b, c, d, e)])
    await service._franchises(1, ranked)
    service.pool.shutdown()
    keys = dict(zip([a.id, b.id, c.id, d.id, e.id], ranked.franchises, strict=True))
    assert keys[a.id] == keys[b.id] == "tmdb-collection:645"  # one franchise by TMDB
    assert keys[c.id] == keys[d.id] == "toy story tribute"  # title stems without TMDB
    assert len(set(keys.values())) == 3
