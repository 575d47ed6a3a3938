"""Tonight's filters and where to watch (issue 26 items 4-5), for `/recommend`, group picks and
`/movienight`.

`Tonight` holds the filters: `runtime_max` (minutes), `min_year`/`max_year`, `certification`
(the age rating in the server's `/settings region`), `language` (original language, ISO 639-1)
and `exclude_genre` (`genre` itself is the catalog's `GenreFilter`). `TonightService.allowed`
turns them into the movie ids a pick may come from (narrowing `within`), reading the catalog
(year, genres) and the TMDB details (runtime, language, age ratings); the filtering runs in a
thread. Details not cached yet are fetched for a shortlist of the candidates lacking them (the
`CHECK_AT_ONCE` the server rated most: what picks are made of) through the details service,
concurrently and within its reply budget (`DetailsService.lookup_budget`), into its cache;
those it answered in time are judged like the rest. A movie still unchecked is left out of a
filter that needs TMDB and the note says how many (every reply with tonight's filters shows
it); a few more are looked up in the background so they can qualify next time. Without a TMDB
key, or without the server's region for an age rating, those filters are refused with the
reason (`FilterUnavailable`; `usable` checks that alone, before a command defers).

`streaming(guild, within)` is `PickSources`' streaming hook: the movies on the server's
`/settings services` in its region (TMDB's watch providers, data by JustWatch), from the
cached details and a shortlist looked up as for the filters; like them it says how many
movies it left out unchecked (`Allowed.note`) and looks a few more up in the background.
`where(guild, movies)` gives each movie's providers line in the region for display; wherever
one shows, the reply credits JustWatch (`JUSTWATCH`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.domain.genres import split_genres
from bot.domain.models import Movie, MovieFacts
from bot.domain.places import services_list
from bot.domain.watch import (
    certifications_from_json,
    on_services,
    providers_from_json,
    where_to_watch,
)
from bot.i18n import _, ngettext, number
from bot.service.details import DetailsService
from bot.service.gate import Gate
from bot.service.sources import Allowed, SourceUnavailable
from bot.storage import Storage

WARM_AT_ONCE = 16  # unknown movies looked up in the background per filtered request
CHECK_AT_ONCE = 12  # unknown movies looked up while the request waits (the shortlist)
WHERE_AT_ONCE = 10  # movies a reply looks up where to watch (a field lists at most 10)


class FilterUnavailable(SourceUnavailable):
    """A filter cannot work on this bot or server; `str()` is the member's message."""


@dataclass(frozen=True, slots=True)
class Tonight:
    runtime_max: int | None = None
    min_year: int | None = None
    max_year: int | None = None
    certification: str | None = None
    language: str | None = None
    exclude_genre: str | None = None

    @property
    def empty(self) -> bool:
        return all(v is None for v in (self.runtime_max, self.min_year, self.max_year,
                                       self.certification, self.language, self.exclude_genre))

    @property
    def needs_tmdb(self) -> bool:
        return any(v is not None for v in (self.runtime_max, self.certification, self.language))


def _keep(tonight: Tonight, region: str, within: set[int] | None,
          facts: Sequence[MovieFacts]) -> tuple[set[int], list[int]]:
    """(ids passing every filter, ids left out only for want of TMDB data)."""
    excluded = (tonight.exclude_genre or "").casefold()
    wanted_rating = (tonight.certification or "").casefold()
    language = (tonight.language or "").casefold()
    kept: set[int] = set()
    unknown: list[int] = []
    for fact in facts:
        if within is not None and fact.movie_id not in within:
            continue
        if tonight.min_year is not None and (fact.year is None or fact.year < tonight.min_year):
            continue
        if tonight.max_year is not None and (fact.year is None or fact.year > tonight.max_year):
            continue
        if excluded and any(g.casefold() == excluded for g in split_genres(fact.genres)):
            continue
        missing = False
        if tonight.runtime_max is not None:
            if fact.runtime is None:
                missing = True
            elif fact.runtime > tonight.runtime_max:
                continue
        if language:
            if fact.original_language is None:
                missing = True
            elif fact.original_language.casefold() != language:
                continue
        if wanted_rating:
            rating = certifications_from_json(fact.certifications).get(region)
            if rating is None:
                missing = True
            elif rating.casefold() != wanted_rating:
                continue
        if missing:
            if not fact.has_details:
                unknown.append(fact.movie_id)
            continue
        kept.add(fact.movie_id)
    return kept, unknown


class TonightService:
    def __init__(self, storage: Storage, gate: Gate, details: DetailsService) -> None:
        self.storage = storage
        self.gate = gate
        self.details = details
        self.check_at_once = CHECK_AT_ONCE

    async def _facts(self, guild_id: int) -> tuple[list[MovieFacts], str, list[str]]:
        async with self.gate.enter():
            facts = await self.storage.movie_facts(guild_id)
            settings = await self.storage.get_guild_settings(guild_id)
        return facts, settings.region, services_list(settings.services)

    async def allowed(self, guild_id: int, tonight: Tonight,
                      within: set[int] | None = None) -> Allowed:
        """The movie ids tonight's filters leave (narrowing `within`); FilterUnavailable when
        a filter cannot work here."""
        if tonight.empty:
            return Allowed(within)
        self._refuse_tmdb(tonight)
        facts, region, _services = await self._facts(guild_id)
        self._refuse_region(tonight, region)
        kept, unknown = await asyncio.to_thread(_keep, tonight, region, within, facts)
        if unknown:
            checked = await self._check(guild_id, unknown)
            if checked:
                fresh = [f for f in (await self._facts(guild_id))[0] if f.movie_id in checked]
                more, still = await asyncio.to_thread(_keep, tonight, region, within, fresh)
                kept |= more
                unknown = [m for m in unknown if m not in checked or m in set(still)]
        note = ""
        if unknown:
            note = ngettext(
                "{n} movie is left out because TMDB has not told me its runtime, language or "
                "age rating yet; I am looking some up, so more may qualify next time.",
                "{n} movies are left out because TMDB has not told me their runtime, language "
                "or age rating yet; I am looking some up, so more may qualify next time.",
                len(unknown)).format(n=number(len(unknown)))
            await self._warm(guild_id, unknown[:WARM_AT_ONCE])
        return Allowed(kept, note)

    async def usable(self, guild_id: int, tonight: Tonight) -> None:
        """FilterUnavailable when a filter cannot work here (no TMDB key; an age rating
        without the server's region): the quick part of `allowed`, before a command defers."""
        if tonight.empty:
            return
        self._refuse_tmdb(tonight)
        if tonight.certification is not None:
            async with self.gate.enter():
                region = (await self.storage.get_guild_settings(guild_id)).region
            self._refuse_region(tonight, region)

    def _refuse_tmdb(self, tonight: Tonight) -> None:
        if tonight.needs_tmdb and not self.details.enabled:
            raise FilterUnavailable(_(
                "Runtime, age rating and language come from TMDB, and this bot has no TMDB "
                "key ([tmdb] api_key): filter by year or genre instead."))

    @staticmethod
    def _refuse_region(tonight: Tonight, region: str) -> None:
        if tonight.certification is not None and not region:
            raise FilterUnavailable(_("Age ratings differ by country: a server admin sets the "
                                      "country first with `/settings region:`."))

    async def _check(self, guild_id: int, unknown: Sequence[int]) -> set[int]:
        """Fetch the details of the shortlist of `unknown` (the `check_at_once` the server
        rated most, then by id) at once, each waiting at most the details service's reply
        budget (the lookups go on into the cache past it); returns the ids asked about."""
        if self.check_at_once <= 0:
            return set()
        async with self.gate.enter():
            rated = await self.storage.score_totals(guild_id)
        shortlist = sorted(unknown, key=lambda m: (-rated.get(m, (0, 0))[1], m))
        async with self.gate.enter():
            movies = await self.storage.get_movies(guild_id, shortlist[:self.check_at_once])
        budget = self.details.lookup_budget
        await asyncio.gather(*(self.details.get(movie, budget=budget)
                               for movie in movies.values()))
        return set(movies)

    async def _warm(self, guild_id: int, movie_ids: Iterable[int]) -> None:
        async with self.gate.enter():
            movies = await self.storage.get_movies(guild_id, list(movie_ids))
        for movie in movies.values():
            self.details.look_up_later(movie)

    # ------------------------------------------------------------------ streaming
    async def streaming(self, guild_id: int, within: set[int] | None) -> Allowed:
        """`PickSources`' streaming hook: the movies streaming on the server's services in
        its region (TMDB providers: cached, and fetched now for a shortlist of the movies TMDB
        was never asked about, as `allowed` does), with a note on how many are left out
        unchecked (some of those looked up in the background); FilterUnavailable with what is
        missing."""
        await self.streaming_usable(guild_id)
        facts, region, services = await self._facts(guild_id)

        def pick(facts: Sequence[MovieFacts]) -> tuple[set[int], list[int]]:
            inside = [f for f in facts if within is None or f.movie_id in within]
            return ({f.movie_id for f in inside if f.providers
                     and on_services(providers_from_json(f.providers), region, services)},
                    [f.movie_id for f in inside if not f.has_details])

        found, unknown = await asyncio.to_thread(pick, facts)
        if unknown:
            checked = await self._check(guild_id, unknown)
            if checked:
                fresh = [f for f in (await self._facts(guild_id))[0] if f.movie_id in checked]
                more, still = await asyncio.to_thread(pick, fresh)
                found |= more
                unchecked = set(still)
                unknown = [m for m in unknown if m not in checked or m in unchecked]
        note = ""
        if unknown:
            note = ngettext(
                "{n} movie is left out because TMDB has not told me where it streams yet; I am "
                "looking some up, so more may qualify next time.",
                "{n} movies are left out because TMDB has not told me where they stream yet; "
                "I am looking some up, so more may qualify next time.",
                len(unknown)).format(n=number(len(unknown)))
            await self._warm(guild_id, unknown[:WARM_AT_ONCE])
        return Allowed(found, note)

    async def streaming_usable(self, guild_id: int) -> None:
        """FilterUnavailable when `source:streaming` cannot work here (no TMDB key; the
        server's region or services unset): quick, before a command defers."""
        if not self.details.enabled:
            raise FilterUnavailable(_("Where to watch comes from TMDB, and this bot has no "
                                      "TMDB key ([tmdb] api_key)."))
        async with self.gate.enter():
            settings = await self.storage.get_guild_settings(guild_id)
        if not settings.region or not services_list(settings.services):
            raise FilterUnavailable(_(
                "Name the server's country and streaming services first: a server admin "
                "runs `/settings region: services:` (e.g. region US, services Netflix, Max)."))

    async def where(self, guild_id: int, movies: Sequence[Movie]) -> dict[int, str]:
        """{movie id: "stream: Netflix · rent: Apple TV"} in the server's region, for the
        movies (the first `WHERE_AT_ONCE`) whose details list providers there: cached, or
        fetched now, side by side within the details service's reply budget; {} without a
        region or TMDB."""
        if not self.details.enabled or not movies:
            return {}
        async with self.gate.enter():
            region = (await self.storage.get_guild_settings(guild_id)).region
        if not region:
            return {}
        shown = list(movies)[:WHERE_AT_ONCE]
        budget = self.details.lookup_budget
        found = await asyncio.gather(*(self.details.get(movie, budget=budget)
                                       for movie in shown))
        lines = {movie.id: where_to_watch(details.providers, region)
                 for movie, details in zip(shown, found, strict=True) if details is not None}
        return {movie_id: line for movie_id, line in lines.items() if line}
