"""RatingService: a member's ratings. Each change is the write and the model notification in
one call, so no caller can save a rating and forget to tell the recommender.

* `rate` validates the score (`bot.domain.scores`), saves it and, beside the write, asks the
  model for its guess from the member's other ratings (a genuine guess, shown in the reply;
  nothing folded in or copied), then marks the member changed for fold-in/refit.
* `unrate` removes one rating; `forget_member` removes all of them and makes every copy of the
  member's data forget them, including a saved model of a guild that is not in memory.
* The ratings are member data (`bot.service.member_data`): /forgetme deletes them with the
  member's other data in one transaction, then the model forgets them (`_forgotten`); /export
  writes them as CSV. `forget_all` is that /forgetme, kept for callers of the service.
* `record_synced` writes a linked account's sync (history, and ratings whose source is the
  service, never over the member's own) and tells the model, like `rate`.
* Reads: one rating, a page of ratings (another member's only when the guild's
  `ratings_visible` allows), counts, and everything for `/export`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.media import HistoryWrite
from bot.domain.models import Movie
from bot.domain.scores import check_score
from bot.service.errors import MovieNotFound, NotRated, RatingsPrivate
from bot.service.exports import ratings_csv
from bot.service.gate import Gate
from bot.service.member_data import MemberData, MemberDataRegistry, MemberExport, MemberTable
from bot.service.service import RecommendationService
from bot.storage import RatedMovie, Storage, UnknownMovieError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RateOutcome:
    """What `rate` did: the saved score, the previous one (None if new) and the model's
    prediction made before the save (None when it had none)."""

    movie: Movie
    score: int
    previous: int | None
    predicted: float | None


class RatingService:
    def __init__(self, storage: Storage, recommendations: RecommendationService,
                 gate: Gate, member_data: MemberDataRegistry | None = None) -> None:
        self.storage = storage
        self.recommendations = recommendations
        self.gate = gate
        self.member_data = member_data or MemberDataRegistry(storage, gate)
        self.member_data.register(MemberData(
            "ratings", (MemberTable("ratings", ("guild_id", "user_id", "movie_id", "score",
                                                "updated_at", "source")),),
            count=self.count, export=self.export_file, forgotten=self._forgotten))

    async def rate(self, guild_id: int, user_id: int, movie: Movie, score: object) -> RateOutcome:
        value = check_score(score)
        async with self.gate.enter():
            # The prediction runs beside the write (its reads on the reader connections, the
            # write on the writer), so the answer waits for the slower of the two, not both.
            guess = asyncio.ensure_future(self._predict(guild_id, user_id, movie.id))
            try:
                # The rating and the watchlist removal (they watched it) in one transaction.
                previous = await self.storage.upsert_rating(guild_id, user_id, movie.id, value,
                                                            unwatch=True)
            except BaseException as error:
                guess.cancel()
                if isinstance(error, UnknownMovieError):
                    raise MovieNotFound(movie) from None
                raise
            if previous != value:  # the same score again changes nothing: no refit
                await self.recommendations.rating_changed(guild_id, user_id)
            return RateOutcome(movie, value, previous, await guess)

    async def _predict(self, guild_id: int, user_id: int, movie_id: int) -> float | None:
        """The model's guess from the member's other ratings (`predict_for_rating`); a
        prediction is a nicety: an error is logged, never lets it block the rating."""
        try:
            return await self.recommendations.predict_for_rating(guild_id, user_id, movie_id)
        except Exception:
            log.exception("prediction failed guild=%s movie=%s", guild_id, movie_id)
            return None

    async def record_synced(self, guild_id: int, user_id: int, service: str,
                            seen: Sequence[tuple[int, float | None, int | None]]
                            ) -> HistoryWrite:
        """A linked account's sync (`bot.service.media`): its watched movies ((movie, watched
        at, rating there | None)) and ratings, with the service as their source, in one
        transaction; never over a rating the member gave (/rate, /import). The model is
        told when ratings changed."""
        async with self.gate.enter():
            written = await self.storage.save_media_history(guild_id, user_id, service, seen)
            if written.ratings_written:
                await self.recommendations.rating_changed(guild_id, user_id)
            return written

    async def unrate(self, guild_id: int, user_id: int, movie: Movie) -> int:
        """Remove the member's rating of `movie`; returns the removed score (NotRated if none)."""
        async with self.gate.enter():
            previous = await self.storage.get_rating(guild_id, user_id, movie.id)
            if previous is None or not await self.storage.delete_rating(guild_id, user_id,
                                                                        movie.id):
                raise NotRated(movie)
            await self.recommendations.rating_changed(guild_id, user_id)
            return previous

    async def forget_member(self, guild_id: int, user_id: int) -> int:
        """Delete all the member's ratings in the guild and purge them from its model (cached
        or saved); returns how many ratings were deleted."""
        async with self.gate.enter():
            deleted = await self.storage.delete_member_ratings(guild_id, user_id)
            if deleted:
                await self.recommendations.member_forgotten(guild_id, user_id)
            return deleted

    async def forget_all(self, guild_id: int, user_id: int) -> tuple[int, int]:
        """/forgetme: delete all the member's data in the guild (every registered kind, in one
        transaction: `MemberDataRegistry.forget`); returns (ratings deleted, watchlist
        entries deleted)."""
        deleted = await self.member_data.forget(guild_id, user_id)
        return deleted.get("ratings", 0), deleted.get("watchlist", 0)

    async def _forgotten(self, guild_id: int, user_id: int, deleted: int) -> None:
        if deleted:  # every copy of the model forgets the member
            await self.recommendations.member_forgotten(guild_id, user_id)

    async def export_file(self, guild_id: int, user_id: int) -> MemberExport | None:
        rows = await self.export(guild_id, user_id)
        return MemberExport("ratings", ratings_csv(rows), len(rows)) if rows else None

    async def get(self, guild_id: int, user_id: int, movie_id: int) -> int | None:
        async with self.gate.enter():
            return await self.storage.get_rating(guild_id, user_id, movie_id)

    async def count(self, guild_id: int, user_id: int) -> int:
        async with self.gate.enter():
            return await self.storage.count_member_ratings(guild_id, user_id)

    async def visible_count(self, guild_id: int, requester_id: int, member_id: int) -> int:
        """How many ratings `member_id` has, if the requester may see them (RatingsPrivate
        when the guild keeps ratings private and it is someone else's)."""
        async with self.gate.enter():
            await self._check_visible(guild_id, requester_id, member_id)
            return await self.storage.count_member_ratings(guild_id, member_id)

    async def page(self, guild_id: int, requester_id: int, member_id: int, *, limit: int,
                   offset: int) -> list[RatedMovie]:
        """One page of a member's ratings, newest first (same visibility rule)."""
        async with self.gate.enter():
            await self._check_visible(guild_id, requester_id, member_id)
            return await self.storage.member_ratings(guild_id, member_id, limit=limit,
                                                     offset=offset)

    async def export(self, guild_id: int, user_id: int) -> list[RatedMovie]:
        """All the member's own ratings in the guild (for /export), newest first."""
        async with self.gate.enter():
            return await self.storage.member_ratings(guild_id, user_id)

    async def _check_visible(self, guild_id: int, requester_id: int, member_id: int) -> None:
        if requester_id == member_id:
            return
        settings = await self.storage.get_guild_settings(guild_id)
        if not settings.ratings_visible:
            raise RatingsPrivate()
