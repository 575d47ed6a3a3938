"""The storage contract, part two: members' data (ratings, watchlists, hidden picks, movie
nights)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence

import numpy as np

from bot.domain.models import ImportCounts, NotInterested, WatchlistEntry
from bot.domain.movie_nights import NightEvent, StoredJoin, StoredNight
from bot.domain.not_interested import MAX_NOT_INTERESTED
from bot.domain.watchlist import MAX_WATCHLIST

from ..models import (
    RatedMovie,
    RatingArrays,
)


class MemberContract(ABC):
    """Members' data: ratings, watchlists, hidden picks, movie nights."""

    # ----------------------------------------------------- ratings
    @abstractmethod
    async def upsert_rating(
        self, guild_id: int, user_id: int, movie_id: int, score: int, *, unwatch: bool = False
    ) -> int | None:
        """Set a member's score (1..10) for a movie; returns the previous score or None.

        One row per guild+member+movie: re-rating updates score and updated_at. With
        `unwatch`, the movie leaves the member's watchlist in the same transaction (they
        watched it). Raises ValueError for a score outside 1..10 and UnknownMovieError when the
        movie is not visible in the guild.
        """

    @abstractmethod
    async def delete_rating(self, guild_id: int, user_id: int, movie_id: int) -> bool:
        """Remove one rating; True if there was one."""

    @abstractmethod
    async def delete_member_ratings(self, guild_id: int, user_id: int) -> int:
        """Remove all of a member's ratings in a guild; returns how many."""

    @abstractmethod
    async def get_rating(self, guild_id: int, user_id: int, movie_id: int) -> int | None:
        """A member's score for a movie, or None."""

    @abstractmethod
    async def member_ratings(
        self, guild_id: int, user_id: int, limit: int | None = None, offset: int = 0
    ) -> list[RatedMovie]:
        """A member's ratings in a guild, newest first."""

    @abstractmethod
    async def member_rating_arrays(self, guild_id: int,
                                   user_id: int) -> tuple[np.ndarray, np.ndarray]:
        """(movie ids int64, scores float32) of a member's ratings in a guild, movie order:
        what the recommender needs, without building a Movie per rating."""

    @abstractmethod
    async def count_member_ratings(self, guild_id: int, user_id: int) -> int:
        """How many movies the member rated in the guild."""

    @abstractmethod
    async def guild_has_ratings(self, guild_id: int) -> bool:
        """Whether anyone in the guild has rated a movie (one indexed lookup)."""

    @abstractmethod
    async def movie_stats(self, guild_id: int, movie_id: int) -> tuple[float | None, int]:
        """(mean score, number of ratings) of a movie in a guild; (None, 0) when unrated."""

    @abstractmethod
    async def score_counts(self, guild_id: int, movie_ids: Iterable[int]) -> dict[int, int]:
        """{score: how many ratings of these movies in the guild have it} (score charts; the
        covering index answers it, movie by movie)."""

    @abstractmethod
    async def score_totals(self, guild_id: int) -> dict[int, tuple[int, int]]:
        """{movie id: (sum of scores, number of ratings)} for every movie rated in the guild
        (what `/movies top` ranks; one pass over the covering index)."""

    @abstractmethod
    async def guild_score_total(self, guild_id: int) -> tuple[int, int]:
        """(sum of scores, number of ratings) over all of the guild's ratings."""

    @abstractmethod
    async def guild_ratings(self, guild_id: int) -> RatingArrays:
        """All of a guild's ratings as numpy columns, from one SELECT on the bulk connection.

        SQLite packs each member's ratings into two strings (movie ids comma-separated, scores
        one character each), so the result has one row per member instead of one per rating
        and numpy parses the strings in C: no Python object per rating. Members are read in
        chunks of RATINGS_CHUNK and parsed off the event loop. Rows come in primary-key order
        (member, then movie). user_ids/movie_ids are int64, scores float32.
        """

    @abstractmethod
    async def ratings_version(self, guild_id: int) -> tuple[int, int]:
        """(ratings version, number of ratings) of the guild: the version grows with every
        change of its ratings (kept by triggers); (0, 0) for a guild without ratings."""

    @abstractmethod
    async def import_history(self, guild_id: int, user_id: int,
                             ratings: Sequence[tuple[int, int]],
                             watchlist: Sequence[int] = (), *,
                             watchlist_cap: int = MAX_WATCHLIST) -> ImportCounts:
        """Write a member's imported ratings ((movie id, score 1..10), one per movie) and
        watchlist in one transaction: all of it or, on any error, none. Rated movies leave
        the watchlist; watchlisted movies the member has rated are skipped, and those past
        `watchlist_cap` (counted with what the watchlist already holds) are left off."""

    # --------------------------------------------------- watchlist
    @abstractmethod
    async def watchlist_add(self, guild_id: int, user_id: int, movie_id: int, *,
                            cap: int = MAX_WATCHLIST) -> bool:
        """Put a visible movie on the member's watchlist; False if it already was there.
        UnknownMovieError when the movie is not visible in the guild, WatchlistCapError when
        the watchlist already holds `cap` movies (checked in the insert's transaction)."""

    @abstractmethod
    async def watchlist_add_members(self, guild_id: int, user_ids: Iterable[int],
                                    movie_id: int, *, cap: int = MAX_WATCHLIST) -> int:
        """Put one movie on several members' watchlists (those who have not rated it and
        whose watchlist holds fewer than `cap` movies); returns how many watchlists gained
        it."""

    @abstractmethod
    async def watchlist_remove(self, guild_id: int, user_id: int,
                               movie_ids: Iterable[int]) -> int:
        """Take movies off the member's watchlist; returns how many were on it."""

    @abstractmethod
    async def watchlist(self, guild_id: int, user_id: int, limit: int | None = None,
                        offset: int = 0) -> list[WatchlistEntry]:
        """The member's watchlist in the guild, newest first."""

    @abstractmethod
    async def count_watchlist(self, guild_id: int, user_id: int) -> int:
        """How many movies the member's watchlist in the guild holds."""

    @abstractmethod
    async def watchlist_counts(self, guild_id: int,
                               user_ids: Iterable[int]) -> dict[int, int]:
        """{movie id: how many of these members have it on their watchlist}."""

    @abstractmethod
    async def delete_member_watchlist(self, guild_id: int, user_id: int) -> int:
        """Empty the member's watchlist in the guild; returns how many entries it had."""

    # ---------------------------------------------- not interested
    @abstractmethod
    async def not_interested_add(self, guild_id: int, user_id: int, movie_id: int, *,
                                 cap: int = MAX_NOT_INTERESTED) -> bool:
        """Hide a visible movie from the member's picks; False if it already was hidden.
        UnknownMovieError when the movie is not visible in the guild. At `cap` entries the
        oldest is forgotten (in the same transaction)."""

    @abstractmethod
    async def not_interested_remove(self, guild_id: int, user_id: int,
                                    movie_ids: Iterable[int]) -> int:
        """Show movies in the member's picks again; returns how many were hidden."""

    @abstractmethod
    async def not_interested_ids(self, guild_id: int, user_id: int) -> list[int]:
        """Ids of the movies the member hid in the guild, by id."""

    @abstractmethod
    async def not_interested(self, guild_id: int, user_id: int, limit: int | None = None,
                             offset: int = 0) -> list[NotInterested]:
        """The movies the member hid from their picks in the guild, newest first."""

    @abstractmethod
    async def count_not_interested(self, guild_id: int, user_id: int) -> int:
        """How many movies the member hid in the guild."""

    @abstractmethod
    async def delete_member_not_interested(self, guild_id: int, user_id: int) -> int:
        """Forget every movie the member hid in the guild; returns how many there were."""

    # ------------------------------------------------------ movie nights
    @abstractmethod
    async def save_movie_night(self, night: StoredNight) -> None:
        """Store an open movie-night vote with its members' parts (replacing what was stored
        for it)."""

    @abstractmethod
    async def movie_night_vote(self, guild_id: int, night_id: int, user_id: int,
                               vote: int | None) -> None:
        """A member's button vote in a stored night (they now take part)."""

    @abstractmethod
    async def delete_movie_night(self, guild_id: int, night_id: int) -> None:
        """Forget a night (it closed) and its members' parts."""

    @abstractmethod
    async def open_movie_nights(self, guild_ids: Sequence[int]) -> list[StoredNight]:
        """The stored nights of these guilds, soonest to close first."""

    @abstractmethod
    async def save_movie_night_join(self, join: StoredJoin) -> None:
        """Store a Join message (hidden ratings) with its members (replacing what was stored
        for it)."""

    @abstractmethod
    async def delete_movie_night_join(self, guild_id: int, join_id: int) -> None:
        """Forget a Join message (its vote started, or it expired) and its members."""

    @abstractmethod
    async def movie_night_joins(self, guild_ids: Sequence[int]) -> list[StoredJoin]:
        """The stored Join messages of these guilds, soonest to expire first."""

    @abstractmethod
    async def skip_night_events(self, guild_id: int, user_id: int) -> int:
        """The member ran /forgetme: no stored event of the guild adds the winner to their
        watchlist at its reminder; returns how many events they were skipped in."""

    @abstractmethod
    async def night_event_skips(self, guild_id: int, event_id: int) -> set[int]:
        """The members an event's reminder must not add the winner for."""

    @abstractmethod
    async def save_night_event(self, event: NightEvent) -> None:
        """Store a winner's scheduled event until its reminder (replacing one stored)."""

    @abstractmethod
    async def delete_night_event(self, guild_id: int, event_id: int) -> None:
        """The event's reminder is done (or the event is gone): it and its skips go."""

    @abstractmethod
    async def night_events(self, guild_ids: Sequence[int]) -> list[NightEvent]:
        """The stored events of these guilds, soonest reminder first."""
