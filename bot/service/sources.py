"""Where picks may come from: `/recommend source:library|streaming|any` (issue 25 item 3).

`PickSources.candidates(guild, source, within)` is the one filter every command that picks
movies uses (`/recommend`, and `/movienight` may reuse it): the movie ids a pick may be
chosen from (None: any movie), narrowed from `within` (a genre's movies, or None):

* `any`: no narrowing;
* `library`: only movies the configured Jellyfin/Plex server has (`LibraryService`);
* `streaming`: only movies on the guild's streaming services, through `streaming` (a
  callable the streaming feature sets: TMDB watch providers); until it is set, or without a
  TMDB key, `SourceUnavailable` says what is missing.

`marks(guild, movie ids)` says which of the shown picks are in the library (with the item's
link) for "in the library" / "not in the library" on each pick.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.domain.library import LibraryItem
from bot.i18n import _
from bot.service.errors import ServiceError
from bot.service.library import LibraryService

SOURCES = ("any", "library", "streaming")

# (guild id, movie ids to narrow or None) -> the movie ids on the guild's streaming services
Streaming = Callable[[int, set[int] | None], Awaitable[set[int]]]


class SourceUnavailable(ServiceError):
    """The source cannot be used on this bot; `str()` is the member's message."""


class PickSources:
    def __init__(self, library: LibraryService) -> None:
        self.library = library
        self.streaming: Streaming | None = None

    async def candidates(self, guild_id: int, source: str,
                         within: set[int] | None = None) -> set[int] | None:
        if source == "any":
            return within
        if source == "library":
            if not self.library.configured:
                raise SourceUnavailable(_(
                    "No media server is set up on this bot, so there is no library to pick "
                    "from: a bot admin can set [jellyfin] or [plex] in the config."))
            found = await self.library.movie_ids(guild_id)
            if not found:
                raise SourceUnavailable(_(
                    "None of this server's movies is in the media server's library yet (it "
                    "may not have been read yet: a server admin can run `/library refresh`)."))
            return found if within is None else found & within
        if source == "streaming":
            if self.streaming is None:
                raise SourceUnavailable(_(
                    "Picks from streaming services need a TMDB key ([tmdb] api_key) and the "
                    "server's streaming services; this bot does not have them yet."))
            found = await self.streaming(guild_id, within)
            return found if within is None else found & within
        raise SourceUnavailable(_("Unknown source {source}: use library, streaming or any.")
                                .format(source=repr(source)))

    async def marks(self, guild_id: int, movie_ids: set[int]) -> dict[int, LibraryItem] | None:
        """{movie id: library item} for those of `movie_ids` the library has; None when no
        media server is configured (nothing to mark)."""
        if not self.library.configured:
            return None
        found = await self.library.movies(guild_id)
        return {m: found[m] for m in movie_ids if m in found}
