"""CatalogService: finding, showing and adding movies in one guild.

Guild scoping is storage's (a movie is visible in G when it is in the shared catalog or G added
it); the rules here are who may add a movie (`add_movie_permission`), the per-guild cap (checked
inside the insert's transaction), the title/year/genre rules of `bot.domain`, and how a typed
genre or title resolves.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings
from bot.domain import genres as genre_rules
from bot.domain.errors import DomainError
from bot.domain.models import Movie
from bot.domain.scores import server_score
from bot.domain.title_forms import normalize
from bot.domain.titles import (
    MAX_ADDED_TITLE_LENGTH,
    MAX_QUERY_LENGTH,
    clean_title,
    strip_controls,
)
from bot.domain.years import check_year
from bot.i18n import _
from bot.service.errors import DuplicateMovie, MovieCapReached, PermissionRequired
from bot.service.gate import Gate
from bot.service.privacy import MIN_RATERS, movie_ratings
from bot.service.service import RecommendationService
from bot.storage import DuplicateMovieError, GuildMovieCapError, Storage

SUGGESTIONS = 5
AMBIGUOUS_LIMIT = 25  # movies looked at for titles shared by several movies


@dataclass(frozen=True, slots=True)
class Lookup:
    """A typed movie value resolved: the movie, or close titles to suggest (none for an id)."""

    movie: Movie | None
    suggestions: tuple[Movie, ...] = ()
    # The typed title is the exact title of several movies (different years): `suggestions`
    # are those movies, and the member is asked which one ("Which Dune?").
    ambiguous: bool = False


@dataclass(frozen=True, slots=True)
class GenreFilter:
    """A resolved genre and the ids of the guild's movies that have it (maybe none)."""

    name: str
    movie_ids: frozenset[int]


@dataclass(frozen=True, slots=True)
class MovieDetails:
    movie: Movie
    mean: float | None
    count: int
    mine: int | None
    predicted: float | None
    score: float | None = None  # the server score (`bot.domain.scores.server_score`)
    # Ratings are hidden here and fewer than MIN_RATERS other members rated the movie (maybe
    # none): mean, count, score and prediction are withheld (`bot.service.privacy`).
    aggregate_hidden: bool = False


@dataclass(frozen=True, slots=True)
class TopEntry:
    movie: Movie
    score: float  # the server score, which the list is ranked by
    count: int
    mean: float = 0.0  # the plain average rating


class CatalogService:
    def __init__(self, storage: Storage, settings: Settings,
                 recommendations: RecommendationService, gate: Gate) -> None:
        self.storage = storage
        self.settings = settings
        self.recommendations = recommendations
        self.gate = gate

    # ------------------------------------------------------------------ lookups
    async def search(self, guild_id: int, query: str, limit: int = 25) -> list[Movie]:
        """Movies visible in the guild matching `query`, best first ([] for empty text)."""
        text = strip_controls(query).strip()[:MAX_QUERY_LENGTH]
        if not text:
            return []
        async with self.gate.enter():
            return await self.storage.search_movies(guild_id, text, limit=limit)

    async def lookup(self, guild_id: int, value: str) -> Lookup:
        """The movie a submitted value (an autocomplete "#id" or a title) names in this guild,
        or suggestions of close titles."""
        text = strip_controls(value).strip()
        async with self.gate.enter():
            movie = await self.storage.resolve_movie(guild_id, text)
            if movie is not None or text.startswith("#"):
                return Lookup(movie)
            found = await self.storage.search_movies(guild_id, text, limit=AMBIGUOUS_LIMIT)
            wanted = normalize(text)
            same = tuple(m for m in found if normalize(m.title) == wanted)
            if len(same) > 1:
                return Lookup(None, same, ambiguous=True)
            return Lookup(None, tuple(found[:SUGGESTIONS]))

    async def get_movies(self, guild_id: int, ids: set[int] | list[int]) -> dict[int, Movie]:
        if not ids:
            return {}
        async with self.gate.enter():
            return await self.storage.get_movies(guild_id, ids)

    async def genres(self, guild_id: int) -> list[str]:
        """Genres used in the guild's visible catalog."""
        async with self.gate.enter():
            return await self.storage.genres(guild_id)

    async def genre_filter(self, guild_id: int, text: str) -> GenreFilter:
        """Resolve a typed genre (UnknownGenresError if it is not in the guild's vocabulary)."""
        async with self.gate.enter():
            known = genre_rules.vocabulary(await self.storage.genres(guild_id))
            name = genre_rules.resolve_genre(text, known)
            if name is None:
                raise genre_rules.UnknownGenresError(
                    [genre_rules.clean_genre(text)], sorted(set(known.values()), key=str.casefold))
            ids = await self.storage.movie_ids_with_genre(guild_id, name)
            return GenreFilter(name, frozenset(ids))

    async def details(self, guild_id: int, user_id: int, movie: Movie) -> MovieDetails:
        """The guild's ratings of the movie, the member's own and the model's prediction."""
        async with self.gate.enter():
            seen = await movie_ratings(self.storage, guild_id, user_id, movie.id)
            mean, count, mine = seen.mean, seen.count, seen.mine
            if not seen.visible:  # the same answer whether 0, 1 or 2 others rated it
                return MovieDetails(movie, None, 0, mine, None, None, aggregate_hidden=True)
            predicted = await self.recommendations.predict(guild_id, user_id, movie.id)
            score = None
            if count and mean is not None:
                total, n = await self.storage.guild_score_total(guild_id)
                score = server_score(mean * count, count, total / n if n else None)
            return MovieDetails(movie, mean, count, mine, predicted, score)

    async def top(self, guild_id: int, n: int, genre: GenreFilter | None = None, *,
                  asker_id: int | None = None) -> list[TopEntry]:
        """The guild's best movies by server score (`bot.domain.scores.server_score`: the
        average pulled toward the server's average while few rated it), best first; the
        same number `/movies info` shows. While ratings are hidden only movies rated by at
        least MIN_RATERS members besides the asker are listed (`bot.service.privacy`)."""
        async with self.gate.enter():
            totals = await self.storage.score_totals(guild_id)
            if not (await self.storage.get_guild_settings(guild_id)).ratings_visible:
                mine: set[int] = set()
                if asker_id is not None:
                    ids, _scores = await self.storage.member_rating_arrays(guild_id, asker_id)
                    mine = {int(i) for i in ids}
                totals = {k: (t, c) for k, (t, c) in totals.items()
                          if c - (k in mine) >= MIN_RATERS}
            all_total = sum(t for t, _c in totals.values())
            all_count = sum(c for _t, c in totals.values())
            server_mean = all_total / all_count if all_count else None
            if genre is not None:
                totals = {k: v for k, v in totals.items() if k in genre.movie_ids}
            scored = [(server_score(t, c, server_mean) or 0.0, c, t / c, movie_id)
                      for movie_id, (t, c) in totals.items()]
            scored.sort(key=lambda row: (-row[0], -row[1], row[3]))
            best = scored[: n + 10]  # a few spare in case a movie vanished meanwhile
            movies = await self.storage.get_movies(guild_id, [row[3] for row in best])
            return [TopEntry(movies[movie_id], score, count, mean)
                    for score, count, mean, movie_id in best if movie_id in movies][:n]

    # ------------------------------------------------------------------ writes
    async def add_movie(self, guild_id: int, title: str, year: int, genres: str | None, *,
                        can_manage_guild: bool) -> Movie:
        """Add a movie to the guild's own list, enforcing who may add, the title, year and
        genre rules, duplicates and the guild's cap in one transaction."""
        async with self.gate.enter():
            guild_settings = await self.storage.get_guild_settings(guild_id)
            if guild_settings.add_movie_permission != "everyone" and not can_manage_guild:
                raise PermissionRequired("manage_guild", "add movies in this server")
            clean = clean_title(title)
            check_year(year)
            known = genre_rules.vocabulary(await self.storage.genres(guild_id))
            genre_tuple = genre_rules.parse_genre_list(genres, known)
            try:
                return await self.storage.add_movie(
                    clean, year, genre_tuple, guild_id=guild_id,
                    guild_cap=self.settings.limits.guild_movie_cap)
            except DuplicateMovieError as error:
                raise DuplicateMovie(error.existing) from error
            except GuildMovieCapError as error:
                raise MovieCapReached(error.cap) from error
            except ValueError as error:  # storage's normalised form is empty
                raise DomainError(_("A title needs letters or digits (at most {n} "
                                    "characters).").format(n=MAX_ADDED_TITLE_LENGTH)) from error
