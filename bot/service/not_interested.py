"""NotInterestedService: movies a member hid from their picks ("Not interested"), per server.

Hiding a pick takes it off the member's /recommend lists for good and counts as a negative
signal (`recommender.CFModel.avoid_penalty`: movies picked by the same people sink with it).
It is the member's own: nobody else's answers change. `/ratings` lists the hidden movies and
undoes one. They are member data (`bot.service.member_data`): `/forgetme` forgets them,
`/export` includes them, and a departed server's purge deletes them.
"""

from __future__ import annotations

from bot.domain.models import Movie, NotInterested
from bot.domain.not_interested import MAX_NOT_INTERESTED
from bot.service.errors import MovieNotFound
from bot.service.exports import not_interested_csv
from bot.service.gate import Gate
from bot.service.member_data import MemberData, MemberDataRegistry, MemberExport, MemberTable
from bot.storage import Storage, UnknownMovieError


class NotInterestedService:
    def __init__(self, storage: Storage, gate: Gate,
                 member_data: MemberDataRegistry | None = None) -> None:
        self.storage = storage
        self.gate = gate
        if member_data is not None:
            member_data.register(MemberData(
                "not_interested", (MemberTable("not_interested", ("guild_id", "user_id",
                                                                  "movie_id", "since")),),
                count=self.count, export=self.export_file))

    async def hide(self, guild_id: int, user_id: int, movie: Movie) -> bool:
        """Hide `movie` from the member's picks; False if it already was hidden."""
        async with self.gate.enter():
            try:
                return await self.storage.not_interested_add(guild_id, user_id, movie.id,
                                                             cap=MAX_NOT_INTERESTED)
            except UnknownMovieError:
                raise MovieNotFound(movie) from None

    async def undo(self, guild_id: int, user_id: int, movie_id: int) -> bool:
        """Show the movie in the member's picks again; False if it was not hidden."""
        async with self.gate.enter():
            return await self.storage.not_interested_remove(guild_id, user_id, [movie_id]) > 0

    async def movie_ids(self, guild_id: int, user_id: int) -> list[int]:
        async with self.gate.enter():
            return await self.storage.not_interested_ids(guild_id, user_id)

    async def count(self, guild_id: int, user_id: int) -> int:
        async with self.gate.enter():
            return await self.storage.count_not_interested(guild_id, user_id)

    async def page(self, guild_id: int, user_id: int, *, limit: int,
                   offset: int = 0) -> list[NotInterested]:
        """The hidden movies, newest first."""
        async with self.gate.enter():
            return await self.storage.not_interested(guild_id, user_id, limit=limit,
                                                     offset=offset)

    async def export(self, guild_id: int, user_id: int) -> list[NotInterested]:
        async with self.gate.enter():
            return await self.storage.not_interested(guild_id, user_id)

    async def export_file(self, guild_id: int, user_id: int) -> MemberExport | None:
        rows = await self.export(guild_id, user_id)
        return (MemberExport("not-interested", not_interested_csv(rows), len(rows)) if rows
                else None)
