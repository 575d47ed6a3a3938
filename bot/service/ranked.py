"""A member's cached ranking as one numpy record array, not a list of objects.

`RecommendationService` keeps each member's ranking (up to `MAX_PICKS` deep) so that "Show
more" only slices it. As a list of `Recommendation` objects, 1,024 cached rankings were
~100,000 objects the garbage collector walks in every full collection
(`benchmarks/many_guilds.py`: the most numerous tracked type, 56,000 of 203,000); a record
array is one untracked object. Each row also carries the pick's reason
(`recommender.reasons`: the rated movie named, the member's score for it, or the blend part
that carried it, and that part even when a rating is named) and whether it is a stretch;
`rows_at(indexes)` makes `Recommendation`s and reasons for one page only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from recommender import Recommendation
from recommender.reasons import Reasons

DTYPE = np.dtype([("movie_id", np.int64), ("score", np.float64), ("predicted", np.float64),
                  ("support", np.int64), ("rank", np.float64), ("stretch", np.bool_),
                  ("reason", np.int64), ("reason_score", np.float64), ("reason_kind", np.int8),
                  ("carrier_kind", np.int8)])


class RankedList:
    """An ordered ranking (best first), stored compactly, with each pick's reason."""

    __slots__ = ("franchises", "rows")

    def __init__(self, recs: Sequence[Recommendation], reasons: Reasons | None = None) -> None:
        """`reasons`: a `recommender.reasons.Reasons` aligned to `recs` (None: no reasons)."""
        n = len(recs)
        self.rows = np.zeros(n, dtype=DTYPE)
        self.rows["reason"] = -1
        self.rows["reason_kind"] = -1
        self.rows["carrier_kind"] = -1
        for name in ("movie_id", "score", "predicted", "support", "rank", "stretch"):
            self.rows[name] = [getattr(r, name) for r in recs]
        if reasons is not None and n:
            self.rows["reason"] = reasons.movie_id
            self.rows["reason_score"] = np.nan_to_num(reasons.rating)
            self.rows["reason_kind"] = reasons.kind
            self.rows["carrier_kind"] = reasons.carrier
        self.franchises: tuple[str, ...] = ()  # one key per row, once titles are known

    def __len__(self) -> int:
        return int(self.rows.size)

    def page(self, start: int, end: int) -> list[Recommendation]:
        return self.rows_at(range(start, min(end, len(self))))

    def rows_at(self, indexes: Iterable[int]) -> list[Recommendation]:
        rows = self.rows[np.asarray(list(indexes), dtype=np.int64)]
        return [Recommendation(int(r["movie_id"]), float(r["score"]), float(r["predicted"]),
                               int(r["support"]), float(r["rank"]), bool(r["stretch"]))
                for r in rows]

    def reason_at(self, index: int) -> tuple[int, int, int]:
        """(rated movie id or -1, the member's score for it, reason kind index or -1)."""
        r = self.rows[int(index)]
        return int(r["reason"]), round(float(r["reason_score"])), int(r["reason_kind"])

    def carrier_at(self, index: int) -> int:
        """The blend part that carried the pick as a whole (reason kind index, -1: none)."""
        return int(self.rows[int(index)]["carrier_kind"])
