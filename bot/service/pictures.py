"""PictureService: what the bot's pictures show, who may see what, and where they are drawn.

The rules (drawing itself is `bot.render`):

* **Off the loop, and out of the bot process.** Every projection runs in the service's own
  one-thread executor (`pictures` thread); the drawing itself (matplotlib holds the GIL for
  ~60 ms per card) goes from there to the drawing process (`bot.render.pool.DRAWING`), so it
  never takes the GIL from the event loop. One thread and one drawing worker keep pictures
  from competing with each other or with fits for both cores.
* **Cached per guild ratings version.** A picture's key holds the guild's ratings version (it
  grows with every rating change, `Storage.ratings_version`) and the model object it came
  from, so a cached picture is never older than the data it shows; a bounded LRU keeps them.
  Score charts count the shown movies' scores when asked (`Storage.score_counts`, an index
  range per movie), and their key holds those counts.
* **Hidden ratings** (`bot.service.privacy`): another member's map or summary only when the
  server's `ratings_visible` allows (`RatingsPrivate` otherwise); a map never shows other
  members' points unless ratings are visible, and then only plots the movies at least
  `MIN_RATERS` other members rated (plus the member's own), so an isolated point cannot say who
  rated it. A score distribution is an aggregate: shown only under `aggregate_visible`,
  decided on the very counts it draws (never on an older read than the text's), so a chart
  never shows what the text calls hidden.
* **The taste map's space**: the model's learned movie factors (with a taste prior they are
  fitted toward the prior's factors, so the same space), projected on their first two principal
  axes (`project`). The member's preference vector is projected on the same axes and scaled by
  one factor for all members, so a member sits toward the movies they are predicted to like.
* **Alt text** for every picture (`Picture.alt`), for the embed description and the
  attachment's description (Discord's alt text).
* **Posters**: `/recommend` gets a typographic card; a `PosterSource` that returns a poster for
  every pick turns it into a poster grid (the seam for TMDB posters).
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

import numpy as np

from bot.domain.genres import shown_genre
from bot.domain.models import Movie
from bot.domain.scores import MAX_SCORE, MIN_SCORE
from bot.i18n import _, current, ngettext, number, percent
from bot.render import (
    CardLine,
    Distribution,
    Rendered,
    TasteMap,
    draw_distribution,
    draw_picks_card,
    draw_poster_grid,
    draw_ratings_summary,
    draw_taste_map,
)
from bot.render.pool import DRAWING
from bot.service.cache import LRUCache
from bot.service.errors import RatingsPrivate, ServiceError
from bot.service.gate import Gate
from bot.service.privacy import aggregate_visible, shareable_movies
from bot.service.service import RecommendationService
from bot.service.taste_space import (
    informative,
    member_scale,
    project,
    ratings_factors,
    taste_centre,
)
from bot.storage import Storage

log = logging.getLogger(__name__)
T = TypeVar("T")

MAP_PICKS = 5  # top picks starred on the taste map
MAP_LABELS = 12  # well-known titles labelled (fewer when they would overlap)
LABEL_CANDIDATES = 40
MAX_OTHER_MEMBERS = 2000  # other members drawn on a map (visible ratings only)
MIN_GENRE_RATINGS = 2  # a genre appears in /ratings' chart from this many ratings
ALT_LIMIT = 1000  # Discord: attachment descriptions (alt text) up to 1,024 characters


class NothingToDraw(ServiceError):
    """There is not enough data for this picture yet (`reason` says what is missing)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Picture:
    """A picture to attach: its file name, alt text and what was drawn."""

    filename: str
    alt: str
    rendered: Rendered

    @property
    def png(self) -> bytes:
        return self.rendered.png


class PosterSource(Protocol):
    """Where poster images come from (TMDB, later): movie id -> image bytes (PNG or JPEG);
    movies without a poster are left out."""

    async def posters(self, movies: Sequence[Movie]) -> dict[int, bytes]: ...


class NoPosters:
    """No poster source configured: /recommend gets the typographic card."""

    async def posters(self, movies: Sequence[Movie]) -> dict[int, bytes]:
        return {}


def score_counts(scores: np.ndarray) -> np.ndarray:
    """How many of `scores` are 1, 2, ... 10."""
    values = np.clip(np.rint(np.asarray(scores, dtype=np.float64)), MIN_SCORE, MAX_SCORE)
    return np.bincount(values.astype(np.int64) - MIN_SCORE,
                       minlength=MAX_SCORE - MIN_SCORE + 1)


def _alt(text: str) -> str:
    return text if len(text) <= ALT_LIMIT else text[: ALT_LIMIT - 1] + "…"


def labels_named(rendered: Rendered) -> str:
    """The labels a taste map shows, for its alt text: the member's, the top picks', then
    the well-known titles' (exactly those drawn, as drawn)."""
    drawn = {kind: [label.text for label in rendered.labels if label.kind == kind]
             for kind in ("member", "pick", "title")}
    return "; ".join(part for part in (
        ", ".join(drawn["member"]),
        _("top picks {titles}").format(titles=", ".join(drawn["pick"])) if drawn["pick"] else "",
        _("titles {titles}").format(titles=", ".join(drawn["title"])) if drawn["title"] else "")
        if part)


def draw_described_map(data: TasteMap,
                       describe: Callable[[Rendered], str]) -> tuple[Rendered, str]:
    """Draw the taste map and its alt text (`describe` of the drawn picture). When the alt
    text would pass `ALT_LIMIT` the map is drawn again with fewer well-known titles, so the
    alt text names every label the picture shows and none it does not (the member's and the
    top picks' labels are short and always drawn)."""
    rendered = DRAWING.draw(draw_taste_map, data)
    alt = describe(rendered)
    optional = [label for label in rendered.labels if label.kind == "title"]
    if len(alt) > ALT_LIMIT and optional:
        excess = len(alt) - ALT_LIMIT
        while optional and excess > 0:
            excess -= len(optional.pop().text) + 2
        rendered = DRAWING.draw(draw_taste_map, replace(data, max_labels=len(optional)))
        alt = describe(rendered)
    return rendered, _alt(alt)


REPLY_BUDGET = 1.5  # seconds a reply waits for a picture that only accompanies it
MAX_PENDING = 4  # pictures queued on the drawing thread before optional ones are skipped


def _consume(task: asyncio.Future[Any]) -> None:
    """Retrieve a background drawing's outcome (an error is logged, not left unretrieved)."""
    if not task.cancelled() and task.exception() is not None:
        log.warning("a picture failed to draw", exc_info=task.exception())


class _InLanguage:
    """The picture cache, keyed also by the reader's language (labels are drawn in it)."""

    def __init__(self, cache: LRUCache[tuple[Any, ...], Picture]) -> None:
        self._cache = cache

    def get(self, key: tuple[Any, ...]) -> Picture | None:
        return self._cache.get((*key, current()))

    def put(self, key: tuple[Any, ...], picture: Picture) -> None:
        self._cache.put((*key, current()), picture)

    def pop(self, key: tuple[Any, ...]) -> None:
        self._cache.pop(key)  # a full key, as iterated

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(list(self._cache))

    def __len__(self) -> int:
        return len(self._cache)


class PictureService:
    """The pictures of /taste, /movies info|top, /ratings and /recommend (module docstring)."""

    def __init__(self, storage: Storage, recommendations: RecommendationService, gate: Gate,
                 *, posters: PosterSource | None = None, cache_size: int = 64) -> None:
        self.storage = storage
        self.recommendations = recommendations
        self.gate = gate
        self.posters: PosterSource = posters or NoPosters()
        if recommendations is not None:  # (tests draw cards without one)
            recommendations.on_forget(self.forget_guild)  # pictures of forgotten data go
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="pictures")
        DRAWING.warm()  # the drawing process imports matplotlib while the bot starts
        self._cache = _InLanguage(LRUCache(cache_size))  # a picture per reader's language
        self.render_threads: set[int] = set()  # threads drawing ran on (tests check the loop's
        # is not among them)
        self.renders = 0  # pictures drawn (cache misses)
        self.pending = 0  # pictures queued or drawing now

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def forget_guild(self, guild_id: int) -> None:
        """Drop every cached picture of the guild (a member was forgotten, or the guild
        purged): nothing drawn from removed ratings stays in memory."""
        for key in [k for k in self._cache if len(k) > 1 and k[1] == guild_id]:
            self._cache.pop(key)

    async def _run(self, work: Callable[[], T]) -> T:
        context = contextvars.copy_context()  # the reader's language (`bot.i18n`) goes along

        def job() -> T:
            self.render_threads.add(threading.get_ident())
            return context.run(work)

        self.renders += 1
        self.pending += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, job)
        finally:
            self.pending -= 1

    async def in_time(self, drawing: Awaitable[Picture | None],
                      budget: float | None = None) -> Picture | None:
        """A picture that only accompanies a reply: None when it is not drawn within `budget`
        seconds (it goes on drawing into the cache, for the next reply) or when the drawing
        thread already has `MAX_PENDING` pictures queued. A reply never waits long for a
        picture, and a burst of requests cannot queue unbounded work."""
        if self.pending >= MAX_PENDING:
            if inspect.iscoroutine(drawing):
                drawing.close()
            return None
        task = asyncio.ensure_future(drawing)
        task.add_done_callback(_consume)
        try:
            return await asyncio.wait_for(asyncio.shield(task),
                                          REPLY_BUDGET if budget is None else budget)
        except TimeoutError:
            return None

    async def _cached(self, key: tuple[Any, ...], make: Callable[[], Picture]) -> Picture:
        found = self._cache.get(key)
        if found is not None:
            return found
        picture = await self._run(make)
        self._cache.put(key, picture)
        return picture

    async def _check_visible(self, guild_id: int, asker_id: int, member_id: int) -> bool:
        """The guild's `ratings_visible`; RatingsPrivate for someone else's data if hidden."""
        visible = (await self.storage.get_guild_settings(guild_id)).ratings_visible
        if member_id != asker_id and not visible:
            raise RatingsPrivate()
        return visible

    # ----------------------------------------------------------------- /taste
    async def taste_map(self, guild_id: int, asker_id: int, member_id: int, *,
                        member_name: str = "you") -> Picture:
        """The server's movies in the model's taste space with `member_id` on it."""
        async with self.gate.enter():
            visible = await self._check_visible(guild_id, asker_id, member_id)
            model = await self.recommendations.model_snapshot(guild_id, member_id)
            if model is None or len(model.movies) < 3:
                raise NothingToDraw(_("This server's taste model is not ready yet: it needs "
                                      "more ratings (rate movies you've seen with `/rate`), or "
                                      "a moment to finish learning."))
            version, _count = await self.storage.ratings_version(guild_id)
            rated_ids, rated_scores = await self.storage.member_rating_arrays(guild_id,
                                                                              member_id)
            key = ("taste", guild_id, member_id, asker_id == member_id, visible, version,
                   id(model), len(model.users), rated_ids.tobytes(), rated_scores.tobytes(),
                   member_name)
            found = self._cache.get(key)
            if found is not None:
                return found
            picks = await self.recommendations.recommend(guild_id, member_id, n=MAP_PICKS)
            pick_ids = [p.movie_id for p in picks.items] if picks.personal else []
            allowed = await shareable_movies(self.storage, guild_id, asker_id, None)
            # Snapshot what the drawing needs on the loop (fold-ins replace these arrays).
            embeddings = model.embeddings()  # copies: later fold-ins do not move them
            movie_ids = embeddings.movie_ids
            factors = embeddings.movie_vectors
            support = embeddings.support
            preferences = embeddings.member_vectors
            user_ids = embeddings.member_ids
            member_row = embeddings.member_row(member_id)
            other_rows = ([i for i in range(len(user_ids)) if i != member_row]
                          [:MAX_OTHER_MEMBERS] if visible else [])
            # each other member's rated movies (views; fold-ins replace, never mutate them)
            other_rated = model.rated_rows([int(user_ids[i]) for i in other_rows])
            # the server's movies (and the picks): not every candidate a taste prior brings
            shown = (support > 0) | np.isin(movie_ids, np.array(pick_ids, dtype=np.int64))
            if allowed is not None:
                shown &= np.isin(movie_ids, np.fromiter(allowed | {int(i) for i in rated_ids},
                                                        dtype=np.int64, count=-1))
            order = np.argsort(-support, kind="stable")
            famous = [int(movie_ids[i]) for i in order if shown[i]][:LABEL_CANDIDATES]
            titles = await self.storage.get_movies(guild_id, famous + [
                m for m in pick_ids if m not in set(famous)])
            learned = informative(factors)
            if not learned:  # place movies by the ratings themselves (`ratings_factors`)
                ratings = await self.storage.guild_ratings(guild_id)
        labels = [(titles[m].label, m) for m in famous if m in titles]
        own = member_id == asker_id
        title = (_("Your taste map") if member_id == asker_id
                 else _("{member}'s taste map").format(member=member_name))

        def make() -> Picture:
            nonlocal factors, preferences
            if not learned:
                factors, preferences = ratings_factors(
                    movie_ids, user_ids, ratings.movie_ids, ratings.user_ids, ratings.scores)
            projection = project(factors)
            index = {int(m): i for i, m in enumerate(movie_ids)}
            rated_rows = [index[int(m)] for m in rated_ids if int(m) in index]
            rated_vals = [float(s) for m, s in zip(rated_ids, rated_scores, strict=True)
                          if int(m) in index]
            pick_rows = [index[m] for m in pick_ids if m in index]
            pick_titles = [titles[m].label if m in titles else _("movie {id}").format(id=m)
                           for m in pick_ids if m in index]
            scale = member_scale(projection, preferences)
            coords = projection.coords
            member_xy = taste_centre(coords, rated_rows, rated_vals)
            if member_xy is None and member_row >= 0:
                member_xy = projection.direction(preferences[member_row:member_row + 1])[0] * scale
            others = None
            if other_rows:
                placed = []
                for row, (rows_i, vals_i) in zip(other_rows, other_rated, strict=True):
                    centre = taste_centre(coords, rows_i, vals_i)
                    placed.append(centre if centre is not None else
                                  projection.direction(preferences[row:row + 1])[0] * scale)
                others = np.array(placed).reshape(-1, 2)
            data = TasteMap(
                title=title,
                movies=coords[shown],
                rated=coords[rated_rows].reshape(-1, 2),
                rated_scores=np.array(rated_vals, dtype=np.float64),
                picks=coords[pick_rows].reshape(-1, 2),
                labels=[(label, *coords[index[m]]) for label, m in labels],
                member=member_xy,
                member_name=member_name,
                others=others,
                axis_notes=((_("taste axis 1 ({share} of the differences)") if learned else
                             _("taste axis 1 ({share} of the differences, from the ratings "
                               "themselves)")).format(share=percent(projection.explained[0])),
                            _("taste axis 2 ({share})").format(
                                share=percent(projection.explained[1]))),
                max_labels=MAP_LABELS,
                pick_labels=pick_titles,
            )
            rendered, alt = draw_described_map(data, describe)
            return Picture("taste.png", alt, rendered)

        def describe(rendered: Rendered) -> str:
            """The alt text, naming exactly the labels drawn (read back from the picture)."""
            named = labels_named(rendered)
            plotted = rendered.plotted
            n_rated, n_picks = len(plotted["rated"]), len(plotted["picks"])
            n_others = len(plotted["others"])
            n_movies = int(shown.sum())
            head = (ngettext("Your taste map: {n} movie of this server placed by how members "
                             "rate them (close together = liked by the same people).",
                             "Your taste map: {n} movies of this server placed by how members "
                             "rate them (close together = liked by the same people).", n_movies)
                    if own else
                    ngettext("{member}'s taste map: {n} movie of this server placed by how "
                             "members rate them (close together = liked by the same people).",
                             "{member}'s taste map: {n} movies of this server placed by how "
                             "members rate them (close together = liked by the same people).",
                             n_movies)).format(n=number(n_movies), member=member_name)
            parts = [
                ngettext("{n} rated movie coloured by score from dark purple (1) to yellow (10)",
                         "{n} rated movies coloured by score from dark purple (1) to yellow "
                         "(10)", n_rated).format(n=number(n_rated)),
                ngettext("{n} top pick as orange stars", "{n} top picks as orange stars",
                         n_picks).format(n=number(n_picks))]
            if len(plotted["member"]):
                parts.append((_("{member} as a black diamond (the middle of the movies you "
                                "rated at or above your average)") if own else
                              _("{member} as a black diamond (the middle of the movies "
                                "{member} rated at or above their average)")).format(
                    member=member_name))
            if n_others:
                parts.append(ngettext("{n} other member as blue crosses",
                                      "{n} other members as blue crosses", n_others).format(
                    n=number(n_others)))
            return (head + " " + ", ".join(parts)
                    + (". " + _("Labelled: {labels}.").format(labels=named) if named else "."))

        picture = await self._run(make)
        self._cache.put(key, picture)
        return picture

    # ----------------------------------------------------------------- distributions
    async def _score_counts(self, guild_id: int, movie_ids: Sequence[int]) -> np.ndarray:
        """How many ratings of these movies are 1, 2, ... 10, read now."""
        found = await self.storage.score_counts(guild_id, movie_ids)
        counts = np.zeros(MAX_SCORE - MIN_SCORE + 1, dtype=np.int64)
        for score, n in found.items():
            if MIN_SCORE <= score <= MAX_SCORE:
                counts[score - MIN_SCORE] += n
        return counts

    async def movie_distribution(self, guild_id: int, asker_id: int,
                                 movie: Movie) -> Picture | None:
        """The movie's 1-10 scores in this server with the asker's own marked; None when
        nobody rated it or the hidden-ratings rule withholds it."""
        async with self.gate.enter():
            settings = await self.storage.get_guild_settings(guild_id)
            version, _count = await self.storage.ratings_version(guild_id)
            mine = await self.storage.get_rating(guild_id, asker_id, movie.id)
            counts = await self._score_counts(guild_id, [movie.id])
            total = int(counts.sum())
            # The text's rule (`bot.service.privacy`), on the counts this chart would draw.
            if total == 0 or not aggregate_visible(settings.ratings_visible, total,
                                                   mine is not None):
                return None

            def make() -> Picture:
                rendered = DRAWING.draw(draw_distribution, Distribution(
                    title=_("Scores for {movie}").format(movie=movie.label)[:90],
                    counts=counts, mine=mine, mine_label=_("you")))
                spread = ", ".join(f"{s}: {int(c)}" for s, c in enumerate(counts, start=1)
                                   if c)
                alt = ngettext("Bar chart of this server's {n} rating of {movie} by score "
                               "({spread})",
                               "Bar chart of this server's {n} ratings of {movie} by score "
                               "({spread})", total).format(n=number(total), movie=movie.label,
                                                            spread=spread)
                alt += ("; " + _("your score, {score}, is the hatched orange bar.").format(
                    score=mine) if mine is not None else ".")
                return Picture("scores.png", _alt(alt), rendered)

            return await self._cached(("movie", guild_id, version, movie.id, mine,
                                       counts.tobytes()), make)

    async def list_distribution(self, guild_id: int, asker_id: int, movie_ids: Sequence[int],
                                title: str) -> Picture | None:
        """The scores of a list of movies (/movies top) with the asker's own ratings of them
        in front; movies the hidden-ratings rule withholds are left out."""
        async with self.gate.enter():
            version, _count = await self.storage.ratings_version(guild_id)
            allowed = await shareable_movies(self.storage, guild_id, asker_id, set(movie_ids))
            ids = [m for m in movie_ids if allowed is None or m in allowed]
            if not ids:
                return None
            counts = await self._score_counts(guild_id, ids)
            rated_ids, rated_scores = await self.storage.member_rating_arrays(guild_id,
                                                                              asker_id)
            mine = score_counts(rated_scores[np.isin(rated_ids, ids)])
            total = int(counts.sum())
            if total == 0:
                return None

            def make() -> Picture:
                rendered = DRAWING.draw(draw_distribution, Distribution(
                    title=title[:90], counts=counts, mine_counts=mine,
                    mine_label=_("your ratings of these")))
                yours = int(mine.sum())
                alt = (ngettext("Bar chart of the {n} rating of these movies by score, 1 to 10 "
                                "(most common: {common})",
                                "Bar chart of the {n} ratings of these movies by score, 1 to 10 "
                                "(most common: {common})", total).format(
                    n=number(total), common=int(np.argmax(counts)) + 1)
                    + "; " + ngettext("your {n} rating of them is the narrow hatched orange "
                                      "bar.",
                                      "your {n} ratings of them are the narrow hatched orange "
                                      "bars.", yours).format(n=number(yours)))
                return Picture("scores.png", _alt(alt), rendered)

            return await self._cached(("list", guild_id, version, asker_id, tuple(ids),
                                       title, counts.tobytes()), make)

    # ----------------------------------------------------------------- /ratings
    async def ratings_summary(self, guild_id: int, asker_id: int, member_id: int, *,
                              member_name: str = "you") -> Picture | None:
        """The member's score histogram and the genres they rate highest; None without
        ratings. RatingsPrivate for someone else's while ratings are hidden."""
        async with self.gate.enter():
            await self._check_visible(guild_id, asker_id, member_id)
            version, _count = await self.storage.ratings_version(guild_id)
            key = ("ratings", guild_id, member_id, version, member_name)
            found = self._cache.get(key)
            if found is not None:
                return found
            rated = await self.storage.member_ratings(guild_id, member_id)
        if not rated:
            return None
        scores = np.array([r.score for r in rated], dtype=np.float64)
        by_genre: dict[str, list[int]] = {}
        for row in rated:
            for genre in row.movie.genres:
                by_genre.setdefault(genre, []).append(row.score)
        own = member_id == asker_id

        def make() -> Picture:
            genres = sorted(((shown_genre(g), float(np.mean(v)), len(v))
                             for g, v in by_genre.items()
                             if len(v) >= MIN_GENRE_RATINGS), key=lambda t: (-t[1], -t[2], t[0]))
            counts = score_counts(scores)
            heading = (ngettext("Your {n} rating", "Your {n} ratings", len(scores))
                       if member_id == asker_id else
                       ngettext("{member}'s {n} rating", "{member}'s {n} ratings", len(scores)))
            rendered = DRAWING.draw(draw_ratings_summary,
                                    heading.format(n=number(len(scores)), member=member_name),
                                    counts, genres)
            best = "; ".join(f"{g} {number(m, digits=1)} ({number(n)})"
                             for g, m, n in genres[:6])
            n_scores = len(scores)
            alt = (ngettext("Your ratings: a bar chart of {n} score from 1 to 10 (average "
                            "{average}, most often {common})",
                            "Your ratings: a bar chart of {n} scores from 1 to 10 (average "
                            "{average}, most often {common})", n_scores) if own else
                   ngettext("{member}'s ratings: a bar chart of {n} score from 1 to 10 "
                            "(average {average}, most often {common})",
                            "{member}'s ratings: a bar chart of {n} scores from 1 to 10 "
                            "(average {average}, most often {common})", n_scores)).format(
                n=number(n_scores), member=member_name,
                average=number(float(scores.mean()), digits=1),
                common=int(np.argmax(counts)) + 1)
            alt += (", " + _("and the genres rated highest on average: {genres}.").format(
                genres=best) if best else ".")
            return Picture("ratings.png", _alt(alt), rendered)

        picture = await self._run(make)
        self._cache.put(key, picture)
        return picture

    # ----------------------------------------------------------------- /recommend
    async def picks_card(self, title: str, lines: Sequence[CardLine], movies: Sequence[Movie],
                         note: str = "") -> Picture:
        """The page's picks as a picture: a poster grid when the poster source has a poster
        for every pick, else a typographic card."""
        async with self.gate.enter():
            posters = await self.posters.posters(movies) if movies else {}
        key = ("card", title, tuple((ln.rank, ln.title, ln.detail, round(ln.score, 1))
                                    for ln in lines), note,
               tuple(sorted((m, len(b)) for m, b in posters.items())))
        listing = "; ".join(f"{ln.rank}. {ln.title}, {number(ln.score, digits=1)}/10"
                            for ln in lines)
        if movies and all(m.id in posters for m in movies):
            grid = [(m.label, posters[m.id]) for m in movies]
            return await self._cached(key, lambda: Picture(
                "picks.png", _alt(_("Posters of {title}: {listing}.").format(
                    title=title.lower(), listing=listing)),
                DRAWING.draw(draw_poster_grid, title, grid)))
        return await self._cached(key, lambda: Picture(
            "picks.png", _alt(_("{title}, as a card: {listing}.").format(title=title,
                                                                         listing=listing)),
            DRAWING.draw(draw_picks_card, title, list(lines), note)))
