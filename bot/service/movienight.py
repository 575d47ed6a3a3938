"""MovieNightService: the candidates of a movie night and what its result does.

* `candidates` asks the group picks (`bot.service.privacy.GroupPicks`: every movie an
  attendee rated is left out; while ratings are hidden, the consent rule holds, so the cog
  passes only the attendees who joined) for a few times more movies than the vote shows, then
  ranks up the ones on attendees' watchlists (more attendees watchlisting it first, the
  group's order otherwise) and keeps `n`.
* `Tally` is the vote: one vote per attendee, changeable; the winner is the most-voted
  candidate, a tie going to the better-ranked one.
* `finish` puts the winner on the attendees' watchlists (those who have not rated it).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from bot.domain.models import Movie
from bot.domain.watchlist import MAX_WATCHLIST
from bot.service.gate import Gate
from bot.service.privacy import GroupPicks
from bot.storage import Storage

POOL_FACTOR = 4
"""Group picks considered per shown candidate, so watchlisted movies can rank up."""
MIN_CANDIDATES, MAX_CANDIDATES = 2, 5


@dataclass(frozen=True, slots=True)
class Candidate:
    movie: Movie
    score: float  # the group score the picks ranked by
    watchlisted: int  # attendees who have it on their watchlist


@dataclass(frozen=True, slots=True)
class NightPicks:
    candidates: tuple[Candidate, ...]
    personal: bool  # False: the server's favourites (the group is too new to the model)
    guild_has_ratings: bool


@dataclass
class Tally:
    """Votes of one movie night: {member id: candidate index}."""

    candidates: int
    voters: frozenset[int]
    votes: dict[int, int] = field(default_factory=dict)

    def vote(self, member_id: int, index: int) -> int | None:
        """Record (or change) a member's vote; returns their previous choice."""
        if member_id not in self.voters:
            raise PermissionError("not an attendee")
        if not 0 <= index < self.candidates:
            raise ValueError("no such candidate")
        previous = self.votes.get(member_id)
        self.votes[member_id] = index
        return previous

    def counts(self) -> list[int]:
        counted = Counter(self.votes.values())
        return [counted.get(i, 0) for i in range(self.candidates)]

    def winner(self) -> int | None:
        """The most-voted candidate (ties: the better-ranked one); None without votes."""
        counts = self.counts()
        if not any(counts):
            return None
        return max(range(self.candidates), key=lambda i: (counts[i], -i))


class MovieNightService:
    def __init__(self, storage: Storage, groups: GroupPicks, gate: Gate) -> None:
        self.storage = storage
        self.groups = groups
        self.gate = gate

    async def ratings_hidden(self, guild_id: int) -> bool:
        async with self.gate.enter():
            return not (await self.storage.get_guild_settings(guild_id)).ratings_visible

    async def candidates(self, guild_id: int, starter_id: int, attendee_ids: list[int], *,
                         n: int, joined: frozenset[int] = frozenset()) -> NightPicks:
        """Up to `n` movies none of the attendees rated, watchlisted ones ranked up.
        `joined`: attendees who agreed to count (ConsentRequired for anyone else while
        ratings are hidden)."""
        others = [m for m in attendee_ids if m != starter_id]
        picks = await self.groups.recommend(guild_id, starter_id, others, consented=joined,
                                            n=n * POOL_FACTOR)
        async with self.gate.enter():
            watch = await self.storage.watchlist_counts(guild_id, attendee_ids)
        order = {pick.movie_id: i for i, pick in enumerate(picks.items)}
        ranked = sorted((p for p in picks.items if p.movie_id in picks.movies),
                        key=lambda p: (-watch.get(p.movie_id, 0), order[p.movie_id]))
        chosen = tuple(Candidate(picks.movies[p.movie_id], p.score, watch.get(p.movie_id, 0))
                       for p in ranked[:n])
        return NightPicks(chosen, picks.personal, picks.guild_has_ratings)

    async def finish(self, guild_id: int, attendee_ids: frozenset[int], winner: Movie) -> int:
        """Put the winner on the attendees' watchlists (those with room on it); returns how
        many gained it."""
        async with self.gate.enter():
            return await self.storage.watchlist_add_members(guild_id, attendee_ids, winner.id,
                                                            cap=MAX_WATCHLIST)
