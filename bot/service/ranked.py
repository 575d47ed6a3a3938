"""A member's cached ranking as one numpy record array, not a list of objects.

`RecommendationService` keeps each member's ranking (up to `MAX_PICKS` deep) so that "Show
more" only slices it. As a list of `Recommendation` objects, 1,024 cached rankings were
~100,000 objects the garbage collector walks in every full collection
(`benchmarks/many_guilds.py`: the most numerous tracked type, 56,000 of 203,000); a record
array is one untracked object. `page(start, end)` makes `Recommendation`s for one page only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recommender import Recommendation

DTYPE = np.dtype([("movie_id", np.int64), ("score", np.float64), ("predicted", np.float64),
                  ("support", np.int64), ("rank", np.float64)])


class RankedList:
    """An ordered ranking (best first), stored compactly."""

    __slots__ = ("rows",)

    def __init__(self, recs: Sequence[Recommendation]) -> None:
        self.rows = np.array([(r.movie_id, r.score, r.predicted, r.support, r.rank)
                              for r in recs], dtype=DTYPE)

    def __len__(self) -> int:
        return int(self.rows.size)

    def page(self, start: int, end: int) -> list[Recommendation]:
        return [Recommendation(int(m), float(s), float(p), int(c), float(r))
                for m, s, p, c, r in self.rows[start:end].tolist()]
