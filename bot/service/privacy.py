"""What hidden ratings (`ratings_visible = false`) mean beyond `/ratings`: no command may reveal
another member's ratings, directly or by comparing answers.

* **Aggregates** (a movie's server average and count in `/movies info`, the scores and counts of
  `/movies top`, the "server score" of cold-start and group picks) are shown only when at
  least `MIN_RATERS` members *other than the one asking* rated the movie: with fewer, the
  average of "everyone but me" is one member's score (`shareable_movies`).
* **No side channel**: below that threshold the answer about a movie is the same whether 0, 1
  or 2 others rated it (`movie_ratings`): the same "hidden" text (never "no ratings yet"), no
  prediction (the model knows a movie only once someone rated it, so "Predicted for you"
  appearing would tell), no chart. A score chart decides on the very counts it draws, read
  when it is drawn (never from a cache that could disagree with the text).
* **Group picks** exclude every movie anyone in the group rated, so comparing `group:@alice`
  with `group:@carol` would list what Alice rated. A group pick therefore needs each named
  member's consent (they press a button), except members sitting in the requester's own voice
  channel, who are watching together anyway. Only the requester sees the picks.

With `ratings_visible = true` members have agreed to show their ratings, so none of this
applies. `GroupPicks.recommend` refuses with `ConsentRequired` until the rule holds, so a
cog cannot skip it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.domain.plural import plural
from bot.service.errors import ServiceError
from bot.service.gate import Gate
from bot.storage import Storage

if TYPE_CHECKING:  # service.py uses `shareable_movies`: no import cycle at run time
    from bot.service.service import Picks, RecommendationService

MIN_RATERS = 3
"""Members other than the asker who must have rated a movie before its average or count is
shown while ratings are hidden."""


class ConsentRequired(ServiceError):
    """Ratings are hidden here: these members must agree before a group pick uses them."""

    def __init__(self, members: frozenset[int]) -> None:
        super().__init__(f"{plural(len(members), 'member')} must consent")
        self.members = members


def aggregate_visible(ratings_visible: bool, count: int, asker_rated: bool) -> bool:
    """Whether a movie's average and count may be shown to the asker."""
    return ratings_visible or count - int(asker_rated) >= MIN_RATERS


@dataclass(frozen=True, slots=True)
class MovieRatings:
    """A movie's ratings in a guild as one member may learn them: `visible` False withholds
    the mean and count and anything that would tell whether anyone rated it."""

    mean: float | None
    count: int
    mine: int | None  # the asker's own score
    visible: bool


async def movie_ratings(storage: Storage, guild_id: int, asker_id: int,
                        movie_id: int) -> MovieRatings:
    """The movie's mean and count, the asker's own score, and whether the rule lets the asker
    see the aggregate: one decision for every answer about one movie (text, prediction,
    chart)."""
    settings = await storage.get_guild_settings(guild_id)
    mean, count = await storage.movie_stats(guild_id, movie_id)
    mine = await storage.get_rating(guild_id, asker_id, movie_id)
    return MovieRatings(mean, count, mine,
                        aggregate_visible(settings.ratings_visible, count, mine is not None))


async def prediction_allowed(storage: Storage, guild_id: int, asker_id: int,
                             movie_id: int) -> bool:
    """Whether a prediction for the movie may be shown to the asker: always with visible
    ratings (one read), else as `movie_ratings(...).visible`."""
    if (await storage.get_guild_settings(guild_id)).ratings_visible:
        return True
    return (await movie_ratings(storage, guild_id, asker_id, movie_id)).visible


async def shareable_movies(storage: Storage, guild_id: int, asker_id: int,
                           candidates: set[int] | None) -> set[int] | None:
    """`candidates` (None = all) narrowed, while ratings are hidden, to the movies at least
    MIN_RATERS members besides the asker rated: what a list showing server scores may hold.
    Unchanged when ratings are visible."""
    if (await storage.get_guild_settings(guild_id)).ratings_visible:
        return candidates
    totals = await storage.score_totals(guild_id)
    ids, _scores = await storage.member_rating_arrays(guild_id, asker_id)
    mine = {int(i) for i in ids}
    allowed = {m for m, (_total, count) in totals.items() if count - (m in mine) >= MIN_RATERS}
    return allowed if candidates is None else allowed & set(candidates)


class GroupPicks:
    """Movie-night picks under the consent rule (see the module docstring)."""

    def __init__(self, storage: Storage, recommendations: RecommendationService,
                 gate: Gate) -> None:
        self.storage = storage
        self.recommendations = recommendations
        self.gate = gate

    async def consent_needed(self, guild_id: int, requester_id: int, member_ids: Iterable[int],
                             *, together: Iterable[int] = (),
                             consented: Iterable[int] = ()) -> frozenset[int]:
        """The members who still have to agree: none when ratings are visible; else everyone
        in the group but the requester, the members in the requester's voice channel
        (`together`) and those who already agreed."""
        async with self.gate.enter():
            settings = await self.storage.get_guild_settings(guild_id)
        if settings.ratings_visible:
            return frozenset()
        exempt = {requester_id, *together, *consented}
        return frozenset(m for m in member_ids if m not in exempt)

    async def recommend(self, guild_id: int, requester_id: int, member_ids: list[int], *,
                        together: Iterable[int] = (), consented: Iterable[int] = (),
                        n: int = 5, strategy: str = "average",
                        candidates: set[int] | None = None) -> Picks:
        """Group picks for the requester and `member_ids`; `ConsentRequired(missing)` while
        the rule is not met."""
        missing = await self.consent_needed(guild_id, requester_id, member_ids,
                                            together=together, consented=consented)
        if missing:
            raise ConsentRequired(missing)
        group = list(dict.fromkeys([requester_id, *member_ids]))
        async with self.gate.enter():
            candidates = await shareable_movies(self.storage, guild_id, requester_id,
                                                candidates)
        return await self.recommendations.recommend_group(
            guild_id, group, n=n, strategy=strategy, candidates=candidates)
