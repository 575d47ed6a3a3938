"""WatchlistService: the movies a member means to watch, per server.

A watchlist is the member's own: only they see it (`/watchlist show` is ephemeral), it never
feeds another member's answers except movie night, where attendees' watchlists rank picks up.
Rating a movie takes it off the rater's watchlist (`RatingService.rate`). It is member data
(`bot.service.member_data`): `/forgetme` empties it and `/export` includes it.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.domain.models import Movie, WatchlistEntry
from bot.domain.watchlist import MAX_WATCHLIST
from bot.service.errors import MovieNotFound, ServiceError
from bot.service.exports import watchlist_csv
from bot.service.gate import Gate
from bot.service.member_data import MemberData, MemberDataRegistry, MemberExport, MemberTable
from bot.storage import Storage, UnknownMovieError, WatchlistCapError


class AlreadyRated(ServiceError):
    """The member rated this movie: it does not go on their watchlist."""

    def __init__(self, movie: Movie, score: int) -> None:
        super().__init__("already rated")
        self.movie = movie
        self.score = score


class NotOnWatchlist(ServiceError):
    def __init__(self, movie: Movie) -> None:
        super().__init__("not on the watchlist")
        self.movie = movie


class WatchlistFull(ServiceError):
    def __init__(self, cap: int) -> None:
        super().__init__(f"watchlist cap of {cap} reached")
        self.cap = cap


class WatchlistService:
    def __init__(self, storage: Storage, gate: Gate,
                 member_data: MemberDataRegistry | None = None) -> None:
        self.storage = storage
        self.gate = gate
        if member_data is not None:
            member_data.register(MemberData(
                "watchlist", (MemberTable("watchlist", ("guild_id", "user_id", "movie_id",
                                                        "added_at")),),
                count=self.count, export=self.export_file))

    async def add(self, guild_id: int, user_id: int, movie: Movie) -> bool:
        """Put `movie` on the member's watchlist; False if it was already there."""
        async with self.gate.enter():
            score = await self.storage.get_rating(guild_id, user_id, movie.id)
            if score is not None:
                raise AlreadyRated(movie, score)
            try:
                return await self.storage.watchlist_add(guild_id, user_id, movie.id,
                                                        cap=MAX_WATCHLIST)
            except UnknownMovieError:
                raise MovieNotFound(movie) from None
            except WatchlistCapError:
                raise WatchlistFull(MAX_WATCHLIST) from None

    async def remove(self, guild_id: int, user_id: int, movie: Movie) -> None:
        async with self.gate.enter():
            if not await self.storage.watchlist_remove(guild_id, user_id, [movie.id]):
                raise NotOnWatchlist(movie)

    async def page(self, guild_id: int, user_id: int, *, limit: int,
                   offset: int) -> list[WatchlistEntry]:
        async with self.gate.enter():
            return await self.storage.watchlist(guild_id, user_id, limit=limit, offset=offset)

    async def count(self, guild_id: int, user_id: int) -> int:
        async with self.gate.enter():
            return await self.storage.count_watchlist(guild_id, user_id)

    async def export(self, guild_id: int, user_id: int) -> list[WatchlistEntry]:
        async with self.gate.enter():
            return await self.storage.watchlist(guild_id, user_id)

    async def export_file(self, guild_id: int, user_id: int) -> MemberExport | None:
        rows = await self.export(guild_id, user_id)
        return MemberExport("watchlist", watchlist_csv(rows), len(rows)) if rows else None

    async def movie_ids(self, guild_id: int, user_id: int) -> set[int]:
        """The movies on the member's watchlist (for "on your watchlist" marks)."""
        async with self.gate.enter():
            return set(await self.storage.watchlist_counts(guild_id, [user_id]))

    async def counts(self, guild_id: int, user_ids: Iterable[int]) -> dict[int, int]:
        """{movie id: how many of these members watchlisted it} (movie night)."""
        async with self.gate.enter():
            return await self.storage.watchlist_counts(guild_id, user_ids)
