"""RatingsListService: `/ratings`'s use case, one call that gathers what the reply shows.

`overview` returns how many ratings the member may see (RatingsPrivate for someone else's
while the guild hides ratings), and, when there are any: the asker's own "Not interested"
movies (only on their own list, the newest `hidden_limit`, with their total) and the summary
picture (score histogram and favourite genres, drawn within its short budget). The pages of
ratings are `RatingService.page`, one call per page.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.models import NotInterested
from bot.service.not_interested import NotInterestedService
from bot.service.pictures import Picture, PictureService
from bot.service.ratings import RatingService


@dataclass(frozen=True, slots=True)
class RatingsOverview:
    """What /ratings shows around the pages: the member's number of ratings (0: nothing
    else was read), the asker's hidden picks and their total, the summary picture (None:
    not drawn in time)."""

    total: int
    hidden: list[NotInterested]
    hidden_count: int
    summary: Picture | None


class RatingsListService:
    def __init__(self, ratings: RatingService, not_interested: NotInterestedService,
                 pictures: PictureService) -> None:
        self.ratings = ratings
        self.not_interested = not_interested
        self.pictures = pictures

    async def overview(self, guild_id: int, asker_id: int, member_id: int, *,
                       hidden_limit: int, member_name: str) -> RatingsOverview:
        """`member_id`'s list as `asker_id` may see it; `member_name` names them in the
        picture ("you" for one's own)."""
        total = await self.ratings.visible_count(guild_id, asker_id, member_id)
        if total == 0:
            return RatingsOverview(0, [], 0, None)
        hidden: list[NotInterested] = []
        hidden_count = 0
        if asker_id == member_id:
            hidden = await self.not_interested.page(guild_id, asker_id, limit=hidden_limit)
            if hidden:
                hidden_count = await self.not_interested.count(guild_id, asker_id)
        summary = await self.pictures.in_time(self.pictures.ratings_summary(
            guild_id, asker_id, member_id, member_name=member_name))
        return RatingsOverview(total, hidden, hidden_count, summary)
