"""MovieNightService: the candidates of a movie night and what its result does.

* `candidates` asks the group picks (`bot.service.privacy.GroupPicks`: every movie an
  attendee rated is left out; while ratings are hidden, the consent rule holds, so the cog
  passes only the attendees who joined) for a few times more movies than the vote shows, then
  keeps the `n` most watchlisted by the attendees (the group's order breaking ties), listed in
  the group's order: the order of a public list says nothing about anyone's watchlist, and no
  count of watchlists is returned for display (a watchlist is private).
* `Tally` is the vote: one vote per attendee, changeable; the winner is the most-voted
  candidate, a tie going to the better group score (`scores`; then the better-ranked one),
  and `tied` names the candidates that tied, so the result can say why the winner won. A
  vote held as a native Discord poll fills the same tally from the poll's voters (only
  attendees count). It also records who *takes part* by their
  own action: the starter, members who joined (hidden ratings) and everyone who voted.
* `finish` puts the winner on the watchlists of those who took part (and have not rated it):
  naming someone in a movie night never changes their watchlist.
* Forgetting a member (`/forgetme`, `member_forgotten`) cancels their part in every open
  movie night of the guild: their vote, their place as an attendee, and the winner going on
  their watchlist. The cog registers its open nights with `watch`.
* Events (`/movienight when:`): the winner's scheduled event is stored until its reminder
  (`save_event`, `events`, `event_done`); at the reminder the members marked "Interested"
  get the movie on their watchlists (`attend`) instead of those who voted. A member who ran
  `/forgetme` after the event was made is skipped, though Discord may still list them as
  interested: the forget records them in each of the guild's stored events
  (`movie_night_skips`, member data written back by the registry's `forgotten` hook, after the
  delete, and dropped with the event) and `attend` leaves them out.
* Restart-safe: an open vote is stored (`save`: its messages, candidates and closing time;
  each member's part and button vote in `movie_night_members`, member data the registry
  deletes on `/forgetme`), kept current (`record_vote`), dropped when it closes (`closed`) and
  read back at start-up (`resume`: the votes of the guilds this process serves, with their
  movies) so the cog re-attaches its views and re-arms its timers. The Join message that comes
  first while ratings are hidden is stored the same way (`save_join`, on every Join; dropped
  by `join_done` when its vote starts or it expires; read back by `joins`), its members in
  `movie_night_members` too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Protocol

from bot.domain.models import GuildSettings, Movie
from bot.domain.movie_nights import NightEvent, StoredJoin, StoredNight
from bot.domain.watchlist import MAX_WATCHLIST
from bot.service.gate import Gate
from bot.service.member_data import MemberData, MemberDataRegistry, MemberTable
from bot.service.privacy import GroupPicks
from bot.service.tonight import TonightService
from bot.storage import Storage

POOL_FACTOR = 4
"""Group picks considered per shown candidate, so watchlisted movies can rank up."""
MIN_CANDIDATES, MAX_CANDIDATES = 2, 5


@dataclass(frozen=True, slots=True)
class Candidate:
    movie: Movie
    score: float  # the group score the picks ranked by
    new_here: bool = False  # nobody in the server rated it (a candidate from the taste prior)


@dataclass(frozen=True, slots=True)
class NightPicks:
    candidates: tuple[Candidate, ...]
    personal: bool  # False: the server's favourites (the group is too new to the model)
    guild_has_ratings: bool
    prior_installed: bool = True  # False: no taste prior (looked up when too few candidates)
    where: dict[int, str] = field(default_factory=dict)  # movie id -> where to watch


@dataclass(eq=False)
class Tally:
    """Votes of one movie night: {member id: candidate index}, the attendees who may vote
    (`voters`) and those who take part by their own action (`takers`: the starter, members
    who joined, and every voter), whose watchlists the winner goes on."""

    candidates: int
    voters: set[int] = field(default_factory=set)
    votes: dict[int, int] = field(default_factory=dict)
    takers: set[int] = field(default_factory=set)
    scores: list[float] = field(default_factory=list)  # group score per candidate (ties)

    def __post_init__(self) -> None:
        self.voters = set(self.voters)
        self.takers = set(self.takers) & self.voters

    def vote(self, member_id: int, index: int) -> int | None:
        """Record (or change) a member's vote; returns their previous choice."""
        if member_id not in self.voters:
            raise PermissionError("not an attendee")
        if not 0 <= index < self.candidates:
            raise ValueError("no such candidate")
        previous = self.votes.get(member_id)
        self.votes[member_id] = index
        self.takers.add(member_id)
        return previous

    def forget(self, member_id: int) -> bool:
        """Cancel the member's part: their vote, their place as an attendee and as a taker.
        True if they had one."""
        had = member_id in self.voters or member_id in self.takers
        self.voters.discard(member_id)
        self.takers.discard(member_id)
        self.votes.pop(member_id, None)
        return had

    def counts(self) -> list[int]:
        counted = Counter(self.votes.values())
        return [counted.get(i, 0) for i in range(self.candidates)]

    def _score(self, index: int) -> float:
        return self.scores[index] if index < len(self.scores) else 0.0

    def tied(self) -> list[int]:
        """The candidates sharing the most votes (more than one: a tie); [] without votes."""
        counts = self.counts()
        top = max(counts, default=0)
        return [i for i in range(self.candidates) if top and counts[i] == top]

    def winner(self) -> int | None:
        """The most-voted candidate (ties: the better group score, then the better-ranked
        one); None without votes."""
        leaders = self.tied()
        if not leaders:
            return None
        return max(leaders, key=lambda i: (self._score(i), -i))


class OpenNight(Protocol):
    """An open movie night (the cog's Join or vote message) that can drop a member."""

    def forget(self, member_id: int) -> object: ...


MEMBER_TABLE = MemberTable("movie_night_members", ("guild_id", "night_id", "user_id", "name",
                                                  "starter", "took_part", "vote"))
SKIP_TABLE = MemberTable("movie_night_skips", ("guild_id", "event_id", "user_id"))


class MovieNightService:
    def __init__(self, storage: Storage, groups: GroupPicks, gate: Gate,
                 member_data: MemberDataRegistry | None = None) -> None:
        self.storage = storage
        self.groups = groups
        self.gate = gate
        self._open: dict[int, list[OpenNight]] = {}  # guild -> its open movie nights
        self.tonight: TonightService | None = None  # where to watch (set by the services)
        if member_data is not None:
            member_data.register(MemberData("movie_nights", (MEMBER_TABLE, SKIP_TABLE),
                                            count=None, forgotten=self._skip_events))
            member_data.on_forget(self.member_forgotten)  # open votes let go of the member

    # ------------------------------------------------------------------ stored votes
    async def save(self, night: StoredNight) -> None:
        """Store an open vote (again, replacing what was stored for it)."""
        async with self.gate.enter():
            await self.storage.save_movie_night(night)

    async def record_vote(self, guild_id: int, night_id: int, member_id: int,
                          vote: int | None) -> None:
        """A member's button vote (they now take part)."""
        async with self.gate.enter():
            await self.storage.movie_night_vote(guild_id, night_id, member_id, vote)

    async def closed(self, guild_id: int, night_id: int) -> None:
        """The vote is over: nothing of it stays stored."""
        async with self.gate.enter():
            await self.storage.delete_movie_night(guild_id, night_id)

    # ------------------------------------------------------------------ Join messages
    async def save_join(self, join: StoredJoin) -> None:
        """Store a Join message (again, replacing what was stored for it)."""
        async with self.gate.enter():
            await self.storage.save_movie_night_join(join)

    async def join_done(self, guild_id: int, join_id: int) -> None:
        """The Join message's vote started, or it expired: nothing of it stays stored."""
        async with self.gate.enter():
            await self.storage.delete_movie_night_join(guild_id, join_id)

    async def joins(self, guild_ids: Collection[int]) -> list[StoredJoin]:
        """The stored Join messages of `guild_ids` (the cog resumes them at start-up)."""
        async with self.gate.enter():
            return await self.storage.movie_night_joins(sorted(guild_ids))

    # ------------------------------------------------------------------ events
    async def _skip_events(self, guild_id: int, member_id: int, _deleted: int) -> None:
        """/forgetme (after the member's rows went): the guild's pending events never put the
        winner on their watchlist, whatever Discord's Interested list says at the reminder."""
        await self.storage.skip_night_events(guild_id, member_id)

    async def settings(self, guild_id: int) -> GuildSettings:
        """The server's settings (timezone, reminder minutes)."""
        async with self.gate.enter():
            return await self.storage.get_guild_settings(guild_id)

    async def save_event(self, event: NightEvent) -> None:
        async with self.gate.enter():
            await self.storage.save_night_event(event)

    async def event_done(self, guild_id: int, event_id: int) -> None:
        async with self.gate.enter():
            await self.storage.delete_night_event(guild_id, event_id)

    async def events(self, guild_ids: Collection[int]) -> list[NightEvent]:
        async with self.gate.enter():
            return await self.storage.night_events(sorted(guild_ids))

    async def movie(self, guild_id: int, movie_id: int) -> Movie | None:
        async with self.gate.enter():
            return await self.storage.get_movie(guild_id, movie_id)

    async def skipped(self, guild_id: int, event_id: int) -> set[int]:
        """The members who ran /forgetme after the event was made (never added)."""
        async with self.gate.enter():
            return await self.storage.night_event_skips(guild_id, event_id)

    async def attend(self, guild_id: int, member_ids: Collection[int], movie: Movie, *,
                     event_id: int | None = None) -> int:
        """The event's interested members get the movie on their watchlists (those who have
        not rated it and have room; never one who ran /forgetme after the event `event_id`
        was made); returns how many gained it."""
        async with self.gate.enter():
            members = set(member_ids)
            if event_id is not None:
                members -= await self.storage.night_event_skips(guild_id, event_id)
            return await self.storage.watchlist_add_members(guild_id, members,
                                                            movie.id, cap=MAX_WATCHLIST)

    async def resume(self, guild_ids: Collection[int]
                     ) -> list[tuple[StoredNight, dict[int, Movie]]]:
        """The stored open votes of `guild_ids` with their candidates' movies (a vote whose
        movies are gone is dropped)."""
        async with self.gate.enter():
            nights = await self.storage.open_movie_nights(sorted(guild_ids))
            out = []
            for night in nights:
                movies = await self.storage.get_movies(
                    night.guild_id, [c.movie_id for c in night.candidates])
                if any(c.movie_id not in movies for c in night.candidates):
                    await self.storage.delete_movie_night(night.guild_id, night.id)
                    continue
                out.append((night, movies))
        return out

    # ------------------------------------------------------------------ open nights
    def watch(self, guild_id: int, night: OpenNight) -> None:
        """Register an open movie night: forgetting a member there reaches it."""
        self._open.setdefault(guild_id, []).append(night)

    def unwatch(self, guild_id: int, night: OpenNight) -> None:
        nights = self._open.get(guild_id, [])
        if night in nights:
            nights.remove(night)
        if not nights:
            self._open.pop(guild_id, None)

    def open_nights(self, guild_id: int) -> int:
        return len(self._open.get(guild_id, ()))

    def member_forgotten(self, guild_id: int, member_id: int) -> None:
        """/forgetme: cancel the member's part in every open movie night of the guild."""
        for night in list(self._open.get(guild_id, ())):
            night.forget(member_id)

    async def ratings_hidden(self, guild_id: int) -> bool:
        async with self.gate.enter():
            return not (await self.storage.get_guild_settings(guild_id)).ratings_visible

    async def candidates(self, guild_id: int, starter_id: int, attendee_ids: list[int], *,
                         n: int, joined: frozenset[int] = frozenset(),
                         allowed: set[int] | None = None) -> NightPicks:
        """Up to `n` movies none of the attendees rated, watchlisted ones ranked up, among
        `allowed` (tonight's filters, the source; None: any). `joined`: attendees who agreed
        to count (ConsentRequired for anyone else while ratings are hidden)."""
        others = [m for m in attendee_ids if m != starter_id]
        picks = await self.groups.recommend(guild_id, starter_id, others, consented=joined,
                                            n=n * POOL_FACTOR, candidates=allowed)
        async with self.gate.enter():
            watch = await self.storage.watchlist_counts(guild_id, attendee_ids)
        order = {pick.movie_id: i for i, pick in enumerate(picks.items)}
        ranked = sorted((p for p in picks.items if p.movie_id in picks.movies),
                        key=lambda p: (-watch.get(p.movie_id, 0), order[p.movie_id]))
        kept = sorted(ranked[:n], key=lambda p: order[p.movie_id])  # shown in the group's order
        chosen = tuple(Candidate(picks.movies[p.movie_id], p.score, p.new_here) for p in kept)
        prior = True
        if len(chosen) < 2:  # too few for a vote: the answer may tell admins about the prior
            async with self.gate.enter():
                prior = await self.storage.has_prior()
        where = await self.where(guild_id, [c.movie for c in chosen])
        return NightPicks(chosen, picks.personal, picks.guild_has_ratings, prior, where)

    @property
    def looks_up(self) -> bool:
        """Where to watch may ask TMDB (a vote's close defers its reply first)."""
        return self.tonight is not None and self.tonight.details.enabled

    async def where(self, guild_id: int, movies: list[Movie]) -> dict[int, str]:
        """Where to watch the movies in the server's region (empty without TMDB)."""
        return await self.tonight.where(guild_id, movies) if self.tonight is not None else {}

    async def finish(self, guild_id: int, tally: Tally, winner: Movie) -> int:
        """Put the winner on the watchlists of those who took part in the vote (`takers`:
        never a member who was only named; those with room on it); returns how many gained
        it."""
        async with self.gate.enter():
            return await self.storage.watchlist_add_members(guild_id, set(tally.takers),
                                                            winner.id, cap=MAX_WATCHLIST)
