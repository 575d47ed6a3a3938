"""Where picks may come from: `/recommend source:library|streaming|any` (issue 25 item 3).

`PickSources.candidates(guild, source, within)` is the one filter every command that picks
movies uses (`/recommend`, and `/movienight` may reuse it): the movie ids a pick may be
chosen from (None: any movie), narrowed from `within` (a genre's movies, or None):

* `any`: no narrowing;
* `library`: only movies the configured Jellyfin/Plex server has (`LibraryService`);
* `streaming`: only movies on the guild's streaming services, through `streaming` (a
  callable the streaming feature sets: TMDB watch providers); until it is set, or without a
  TMDB key, `SourceUnavailable` says what is missing.

`narrowed` is `candidates` with what the member should know about them (`Allowed.note`: how
many movies `source:streaming` left out because TMDB has not said where they stream yet);
every reply that shows tonight's filters' note shows it.

`marks(guild, movie ids)` says which of the shown picks are in the library (with the item's
link) for "in the library" / "not in the library" on each pick.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.domain.library import LibraryItem
from bot.i18n import _
from bot.service.errors import ServiceError
from bot.service.library import LibraryService

SOURCES = ("any", "library", "streaming")



@dataclass(frozen=True, slots=True)
class Allowed:
    ids: set[int] | None  # None: no narrowing
    note: str = ""  # what the member should know (movies left unchecked, lookups started)


def joined_notes(*notes: str) -> str:
    """The notes worth showing, one a line."""
    return "\n".join(note for note in notes if note)


# (guild id, movie ids to narrow or None) -> the movie ids on the guild's streaming services
# and the note on those left out unchecked
Streaming = Callable[[int, set[int] | None], Awaitable[Allowed]]


class SourceUnavailable(ServiceError):
    """The source cannot be used on this bot; `str()` is the member's message."""


class PickSources:
    def __init__(self, library: LibraryService) -> None:
        self.library = library
        self.streaming: Streaming | None = None

    async def candidates(self, guild_id: int, source: str,
                         within: set[int] | None = None) -> set[int] | None:
        return (await self.narrowed(guild_id, source, within)).ids

    async def narrowed(self, guild_id: int, source: str,
                       within: set[int] | None = None) -> Allowed:
        """The candidates (`ids`) and what the member should know about them (`note`)."""
        if source == "any":
            return Allowed(within)
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
            return Allowed(found if within is None else found & within)
        if source == "streaming":
            if self.streaming is None:
                raise SourceUnavailable(_(
                    "Picks from streaming services need a TMDB key ([tmdb] api_key) and the "
                    "server's streaming services; this bot does not have them yet."))
            streams = await self.streaming(guild_id, within)
            ids = streams.ids if within is None or streams.ids is None else streams.ids & within
            return Allowed(ids, streams.note)
        raise SourceUnavailable(_("Unknown source {source}: use library, streaming or any.")
                                .format(source=repr(source)))

    async def marks(self, guild_id: int, movie_ids: set[int]) -> dict[int, LibraryItem] | None:
        """{movie id: library item} for those of `movie_ids` the library has; None when no
        media server is configured (nothing to mark)."""
        if not self.library.configured:
            return None
        found = await self.library.movies(guild_id)
        return {m: found[m] for m in movie_ids if m in found}
