"""The cached ranking (bot.service.ranked): compact, untracked by the collector, and paged
back into the same Recommendations."""

from __future__ import annotations

import gc
import math

from bot.service.ranked import RankedList
from recommender import Recommendation


def test_pages_give_back_the_same_recommendations_in_order() -> None:
    recs = [Recommendation(10 + i, 9.0 - i / 7, 8.5 - i / 9, 30 - i, 2.0 - i / 3)
            for i in range(25)]
    recs.append(Recommendation(99, 5.0))  # defaults: predicted and rank are NaN
    ranked = RankedList(recs)
    assert len(ranked) == 26
    assert ranked.page(0, 10) == recs[:10]
    assert ranked.page(20, 30)[:5] == recs[20:25]
    last = ranked.page(25, 26)[0]
    assert (last.movie_id, last.score, last.support) == (99, 5.0, 0)
    assert math.isnan(last.predicted) and math.isnan(last.rank)
    assert ranked.page(40, 50) == []
    assert len(RankedList([])) == 0


def test_a_cached_ranking_is_not_walked_by_the_collector() -> None:
    ranked = RankedList([Recommendation(i, 7.0) for i in range(100)])
    assert not gc.is_tracked(ranked.rows)


def test_each_row_keeps_its_reason_and_the_part_that_carried_it() -> None:
    import numpy as np

    from recommender.reasons import KINDS, Reasons

    recs = [Recommendation(1, 8.0), Recommendation(2, 7.5)]
    reasons = Reasons(np.array([593, -1]), np.array([9.0, np.nan]), np.array([0.4, 1.2]),
                      np.array([0, KINDS.index("popularity")], np.int8),
                      np.array([KINDS.index("pick"), KINDS.index("popularity")], np.int8))
    ranked = RankedList(recs, reasons)
    assert ranked.reason_at(0) == (593, 9, 0)
    assert KINDS[ranked.carrier_at(0)] == "pick"  # a named rating still has its carrier
    assert ranked.reason_at(1) == (-1, 0, KINDS.index("popularity"))
    assert KINDS[ranked.carrier_at(1)] == "popularity"
    assert RankedList(recs).carrier_at(0) == -1
