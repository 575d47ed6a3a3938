"""RecommendationService: the queries on a guild's model (recommend, group, similar, top,
predict), ranked on what `bot.service.models.GuildModels` hands out.

`GuildModels` owns the model cache, the fits and fold-in (its docstring has the
rules); this service reads a guild's state from it, folds in the asking member's latest ratings
through it, and ranks: a member's ranking and its reasons are computed once per model, member,
rated set and filter and kept for "Show more" pages (off the loop for big catalogs). The
lifecycle calls (start, close, rating_changed, settings_changed, member_forgotten,
forget_guild, wait_idle) are passed on to the `GuildModels` it is built with.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from bot.config import Settings
from bot.domain.models import Movie
from bot.service.cache import LRUCache
from bot.service.features import unknown_movie_features
from bot.service.gate import Gate, gated
from bot.service.models import MODEL_FORMAT, RATING_SCALE, FitSettings, GuildModel, GuildModels
from bot.service.privacy import prediction_allowed, shareable_movies
from bot.service.ranked import RankedList
from bot.service.shortlist import (
    MIN_DISTINCT_REASONS,
    Candidate,
    assemble_page,
    franchise_key,
    page_reasons,
    reason_key,
)
from bot.service.training import TrainingPool
from bot.storage import Storage
from recommender import CFModel, Recommendation
from recommender.reasons import KINDS

__all__ = ["GROUP_STRATEGIES", "MAX_PICKS", "MIN_REASON_POINTS", "MODEL_FORMAT", "RATING_SCALE",
           "FitSettings", "GuildModel", "GuildModels", "Pick", "Picks", "RecommendationService"]

log = logging.getLogger(__name__)

GROUP_STRATEGIES = ("average", "least_misery")
# A "because you rated X" reason is shown only when X moves the ranking blend this much (in
# standard deviations of the member's scores); below it the pick says what else carried it.
MIN_REASON_POINTS = 0.1
MAX_PICKS = 100  # how deep "Show more" can page into a member's ranking
# /rate's prediction solves the member's row on the loop up to this many ratings (well under
# a millisecond), in a thread beyond.
PREDICT_INLINE_RATINGS = 2000


@dataclass
class Pick:
    movie_id: int
    score: float
    because: tuple[int, int] | None = None  # (rated movie id, the member's score for it)
    stretch: bool = False  # predicted below the member's own average: shown marked
    # With no rating of the member's behind it: the blend part that carried the pick
    # ("pick": members who share your taste, "prior": the taste prior, "enjoy": the rating
    # model's personal share, "rated": the movie's own baseline, "popularity": the server's
    # most-rated movies), see `recommender.reasons`.
    carried_by: str | None = None
    new_here: bool = False  # nobody in the server rated it: a candidate from the taste prior


def _pick(rec: Recommendation, because: tuple[int, int] | None = None,
          carried_by: str | None = None) -> Pick:
    """Lists are ranked by the model's cautious ranking score; members see its prediction."""
    shown = rec.predicted if np.isfinite(rec.predicted) else rec.score
    return Pick(int(rec.movie_id), float(shown), because, bool(rec.stretch), carried_by,
                new_here=rec.support <= 0)


@dataclass
class Picks:
    """What /recommend shows. `personal` is False for cold-start picks (best in the guild)."""

    items: list[Pick]
    personal: bool
    provisional: bool
    ratings_needed: int = 0  # more ratings the member needs for personal picks
    min_ratings: int = 0  # the guild's minimum for personal picks
    guild_has_ratings: bool = True  # False: nobody in the guild has rated anything yet
    prior_installed: bool = True  # False: no taste prior (only looked up for empty picks)
    movies: dict[int, Movie] = field(default_factory=dict)  # the picks' and reasons' movies
    has_more: bool = False  # a further page exists (within MAX_PICKS)


@dataclass
class Neighbours:
    """What /similar shows: movies with their similarity, and whether the movies' genres
    carried most of it (few members in this server rated both: ``recommender.similar``)."""

    movies: list[tuple[Movie, float]]
    by_genre: bool = False


class RecommendationService:
    def __init__(self, storage: Storage, settings: Settings, *, mode: str | None = None,
                 cold_wait_seconds: float = 3.0, gate: Gate | None = None,
                 models: GuildModels | None = None,
                 forget_listeners: Iterable[Callable[[int], None]] = ()) -> None:
        """`models`: the guild models to rank on (default: built here with `mode` ("thread" |
        "process", overriding the config's `training.mode`) and `cold_wait_seconds`); `gate`
        is the shutdown gate shared with the other services (see `bot.service.gate`);
        `forget_listeners` are told the guild id when data was forgotten there."""
        self.storage = storage
        self.gate = gate or Gate()
        self.models = models or GuildModels(storage, settings, mode=mode,
                                            cold_wait_seconds=cold_wait_seconds)
        self.models.on_forget(self._forgotten)
        for listener in forget_listeners:
            self.models.on_forget(listener)
        # (guild, member) -> (what it was ranked on, the ranking): pages slice it.
        self._ranked: LRUCache[tuple[int, int], tuple[tuple[object, ...],
                                                      RankedList]] = LRUCache(1024)

    def on_forget(self, listener: Callable[[int], None]) -> None:
        """Call `listener(guild_id)` when data was forgotten in a guild (a member, or all)."""
        self.models.on_forget(listener)

    def _forgotten(self, guild_id: int) -> None:
        self._ranked = LRUCache(self._ranked.capacity)  # rankings hold rated sets too

    # ----------------------------------------------------------------- the guild models
    @property
    def settings(self) -> Settings:
        return self.models.settings

    @settings.setter
    def settings(self, settings: Settings) -> None:
        self.models.settings = settings

    @property
    def pool(self) -> TrainingPool:
        return self.models.pool

    @pool.setter
    def pool(self, pool: TrainingPool) -> None:
        self.models.pool = pool

    @property
    def fits_completed(self) -> int:
        return self.models.fits_completed

    async def start(self) -> None:
        await self.models.start()

    async def close(self) -> None:
        """Cancel pending retrains, let running fits finish (bounded), stop the pool."""
        await self.models.close()

    async def rating_changed(self, guild_id: int, user_id: int) -> None:
        """Call after a member's ratings changed (rate, unrate): see `GuildModels`."""
        await self.models.rating_changed(guild_id, user_id)

    async def settings_changed(self, guild_id: int) -> None:
        """Call after the guild's model settings changed: refit (debounced) with them."""
        await self.models.settings_changed(guild_id)

    async def member_forgotten(self, guild_id: int, user_id: int) -> None:
        """Call after all of a member's ratings were deleted (`GuildModels.member_forgotten`)."""
        await self.models.member_forgotten(guild_id, user_id)

    async def forget_guild(self, guild_id: int) -> None:
        """The guild was purged: drop its cached model, its pending refit and running fit."""
        await self.models.forget_guild(guild_id)

    async def is_provisional(self, guild_id: int) -> bool:
        return await self.models.is_provisional(guild_id)

    async def wait_idle(self, guild_id: int) -> None:
        """Wait until the guild has no fit running or scheduled, nor a background load."""
        await self.models.wait_idle(guild_id)

    async def _member_ratings(self, guild_id: int, user_id: int) -> tuple[np.ndarray, np.ndarray]:
        return await self.storage.member_rating_arrays(guild_id, user_id)

    async def _min_ratings(self, guild_id: int) -> int:
        guild_settings = await self.storage.get_guild_settings(guild_id)
        return (guild_settings.min_ratings_for_personal
                or self.settings.recommender.min_ratings_for_personal)

    # ----------------------------------------------------------------- queries
    @gated
    async def predict(self, guild_id: int, user_id: int, movie_id: int, *,
                      loaded_only: bool = False) -> float | None:
        """The model's prediction for this member and movie, or None if it has none.
        `loaded_only`: a nicety that must never make the caller wait (/rate's reply): None
        unless the guild's model is already in memory (a fold-in never waits: rankings run on
        models nothing changes, see `GuildModels.fold_in_if_needed`).
        While ratings are hidden, None for a movie fewer than MIN_RATERS other members rated
        (`bot.service.privacy`): the model knows a movie only once someone rated it, so a
        prediction appearing would say that someone did."""
        if loaded_only and self.models.cache.get(guild_id) is None:
            return None
        if not await prediction_allowed(self.storage, guild_id, user_id, movie_id):
            return None
        state = await self.models.state(guild_id, wait=False)
        model = state.model
        if model is None or not model.knows_movie(movie_id):
            return None
        rated_ids, rated_scores = await self._member_ratings(guild_id, user_id)
        if len(rated_ids) == 0:
            return None
        model = await self.models.fold_in_if_needed(state, user_id, rated_ids,
                                                    rated_scores) or model
        if not model.knows_user(user_id):
            return None
        return float(model.predict(np.array([user_id]), np.array([movie_id]))[0])

    @gated
    async def predict_for_rating(self, guild_id: int, user_id: int,
                                 movie_id: int) -> float | None:
        """/rate's "I predicted": the model's guess for `movie_id` from the member's *other*
        ratings, made beside the rating's write (`RatingService.rate`) and never waiting for
        a model: None unless the guild's model is in memory, the prediction may be shown
        (`prediction_allowed`) and the member has rated something else.

        Nothing is folded into the guild's model: the member's row is solved apart
        (`CFModel.member_row`, one k x k solve) and used for this one prediction
        (`CFModel.predict_row`), so a rating never copies the guild's member-side arrays;
        the fold-in happens when the member next asks for a ranking. Leaving `movie_id`'s
        own rating out makes the answer the same whether or not the new score is already
        saved when the ratings are read (the read runs beside the write)."""
        state = self.models.cache.get(guild_id)
        if state is None or state.model is None:
            return None
        allowed, (rated_ids, rated_scores) = await asyncio.gather(
            prediction_allowed(self.storage, guild_id, user_id, movie_id),
            self._member_ratings(guild_id, user_id))
        model = state.model  # the current one (a fit may have swapped it meanwhile)
        if not allowed or model is None or not model.knows_movie(movie_id):
            return None
        others = rated_ids != movie_id
        if not others.any():
            return None
        ids, scores = rated_ids[others], rated_scores[others]
        extra = await unknown_movie_features(self.storage, guild_id, model, ids)

        def guess() -> float:
            return float(model.predict_row(model.member_row(user_id, ids, scores, extra),
                                           [movie_id])[0])

        if ids.size > PREDICT_INLINE_RATINGS:
            return await asyncio.to_thread(guess)
        return guess()

    @gated
    async def recommend(self, guild_id: int, user_id: int, n: int = 10,
                        candidates: set[int] | None = None, offset: int = 0,
                        shown: frozenset[int] | set[int] = frozenset()) -> Picks:
        """The member's next page of picks with their movies: page `offset // n` (pages are
        built in turn by the rules of `shortlist`), never a movie in `shown` (what earlier
        pages of the same reply showed: "Show more" never repeats a title)."""
        state = await self.models.state(guild_id)
        rated_ids, rated_scores = await self._member_ratings(guild_id, user_id)
        minimum = await self._min_ratings(guild_id)
        # Watched on a linked media account (bot.service.media): never recommended back, and
        # a signal for the ranking (a weaker one than a rating, `recommender.blend`): seen
        # movies count towards the ratings personal picks need.
        seen = await self.storage.seen_movie_ids(guild_id, user_id)
        unrated_seen = len(set(seen) - {int(i) for i in rated_ids})
        needed = max(0, minimum - len(rated_ids) - unrated_seen)
        if needed > 0:  # server scores: with hidden ratings, only of movies enough others rated
            candidates = await shareable_movies(self.storage, guild_id, user_id, candidates)
        hidden = await self.storage.not_interested_ids(guild_id, user_id)
        picks = await self._personal_picks(state, user_id, n, offset, candidates, rated_ids,
                                           rated_scores, needed, frozenset(shown),
                                           np.asarray(hidden, dtype=np.int64),
                                           np.asarray(seen, dtype=np.int64))
        picks.min_ratings = minimum
        return await self._with_movies(guild_id, picks)

    async def _with_movies(self, guild_id: int, picks: Picks) -> Picks:
        if not picks.items:
            picks.guild_has_ratings = await self.storage.guild_has_ratings(guild_id)
            picks.prior_installed = await self.storage.has_prior()  # for the empty answer
            return picks
        ids = {p.movie_id for p in picks.items}
        ids |= {p.because[0] for p in picks.items if p.because is not None}
        picks.movies = await self.storage.get_movies(guild_id, ids)
        return picks

    async def _franchises(self, guild_id: int, ranked: RankedList) -> None:
        """Each ranked movie's franchise key, once per ranking: its TMDB collection when
        TMDB's details are cached for it, else the title-stem rules (`shortlist`)."""
        if ranked.franchises or not len(ranked):
            return
        ids = [int(m) for m in ranked.rows["movie_id"]]
        movies = await self.storage.get_movies(guild_id, ids)
        # TMDB's collection where its details are cached (with a TMDB key), else title stems
        details = await self.storage.movie_details(ids)
        ranked.franchises = tuple(
            f"tmdb-collection:{details[m].collection_id}"
            if m in details and details[m].collection_id is not None
            else franchise_key(movies[m].title) if m in movies else f"#{m}" for m in ids)

    async def _personal_picks(self, state: GuildModel, user_id: int, n: int, offset: int,
                              candidates: set[int] | None, rated_ids: np.ndarray,
                              rated_scores: np.ndarray, needed: int,
                              shown: frozenset[int] = frozenset(),
                              hidden: np.ndarray | None = None,
                              seen: np.ndarray | None = None) -> Picks:
        """One page of picks. The ranking (at most MAX_PICKS deep) and every pick's reason
        are computed once per model, member, rated set and filter, off the loop for big
        catalogs, and kept: pages are assembled from it (`shortlist.assemble_page`)."""
        model = state.model
        if model is None:
            return Picks([], personal=False,
                         provisional=self.models.running_fit(state.guild_id) is not None,
                         ratings_needed=needed)
        cand = np.fromiter(candidates, dtype=np.int64) if candidates is not None else None
        hidden = np.zeros(0, np.int64) if hidden is None else hidden
        seen = np.zeros(0, np.int64) if seen is None else seen
        # Rated or watched (linked accounts' history): never picked.
        excluded = np.concatenate([rated_ids.astype(np.int64), seen]) if len(seen) else rated_ids
        if needed > 0:
            end = min(offset + n, MAX_PICKS)
            best = [r for r in model.popular(end + 1 + len(shown),
                                             exclude=np.concatenate([excluded, hidden]),
                                             candidates=cand, rated_only=True)
                    if r.movie_id not in shown]  # "popular in this server": rated here
            return Picks([_pick(r) for r in best[offset:end]], personal=False,
                         provisional=state.provisional, ratings_needed=needed,
                         has_more=len(best) > end)
        model = await self.models.fold_in_if_needed(state, user_id, rated_ids,
                                                    rated_scores) or model
        key = (state.guild_id, user_id)
        stamp = (id(model), state.fitted_at, len(state.folded_users), rated_ids.tobytes(),
                 None if candidates is None else hash(frozenset(candidates)),
                 hidden.tobytes(), seen.tobytes())
        cached = self._ranked.get(key)
        if cached is not None and cached[0] == stamp:
            ranked = cached[1]
        else:
            def rank() -> RankedList:
                # Seen but not rated: a signal of its own (rated movies already carry theirs).
                only_seen = np.setdiff1d(seen, rated_ids.astype(np.int64))
                recs = model.recommend(user_id, n=MAX_PICKS, exclude=excluded, candidates=cand,
                                       avoid=hidden, seen=only_seen)
                ids = np.array([r.movie_id for r in recs], dtype=np.int64)
                return RankedList(recs, model.reasons(user_id, ids, MIN_REASON_POINTS,
                                                      seen=only_seen))

            # Always in a thread, on `model` (a fold-in meanwhile replaces it, never changes
            # it): even a small server's ranking and reasons are ~2 ms of numpy calls, which
            # held the loop 25-40 ms while fits in other threads took the GIL (the stall
            # watchdog of benchmarks/many_guilds.py: pick_reasons and setdiff1d, 10,000 guilds).
            ranked = await asyncio.to_thread(rank)
            self._ranked.put(key, (stamp, ranked))
        await self._franchises(state.guild_id, ranked)
        pool = [Candidate(int(m), ranked.franchises[i], bool(ranked.rows["stretch"][i]),
                          reason_key(int(ranked.rows["reason"][i]),
                                     int(ranked.rows["reason_kind"][i])),
                          reason_key(-1, ranked.carrier_at(i)))
                for i, m in enumerate(ranked.rows["movie_id"])]
        skip = set(shown)
        # the reason rules once the member has rated enough for varied reasons
        vary = len(rated_ids) >= MIN_DISTINCT_REASONS
        for _ in range(offset // max(n, 1)):  # earlier pages, built by the same rules
            skip.update(pool[i].movie_id for i in assemble_page(pool, n, skip,
                                                                vary_reasons=vary))
        chosen = assemble_page(pool, n, skip, vary_reasons=vary)
        shows = page_reasons(pool, chosen, vary_reasons=vary)
        picks = []
        for i, rec, says in zip(chosen, ranked.rows_at(chosen), shows, strict=True):
            reason, score, kind = ranked.reason_at(i)
            if says != pool[i].reason:  # a rated movie named enough: what else carried it
                picks.append(_pick(rec, carried_by=KINDS[ranked.carrier_at(i)]))
            elif reason >= 0:
                picks.append(_pick(rec, (reason, score)))
            else:
                picks.append(_pick(rec, carried_by=KINDS[kind] if kind > 0 else None))
        left = skip | {p.movie_id for p in picks}
        more = any(c.movie_id not in left for c in pool)
        return Picks(picks, personal=True, provisional=state.provisional, has_more=more)

    @gated
    async def recommend_group(self, guild_id: int, user_ids: list[int], n: int = 5,
                              strategy: str = "average",
                              candidates: set[int] | None = None) -> Picks:
        if strategy not in GROUP_STRATEGIES:
            raise ValueError(f"unknown strategy {strategy!r}")
        picks = await self._group_picks(guild_id, user_ids, n, strategy, candidates)
        return await self._with_movies(guild_id, picks)

    async def _group_picks(self, guild_id: int, user_ids: list[int], n: int, strategy: str,
                           candidates: set[int] | None) -> Picks:
        state = await self.models.state(guild_id)
        model = state.model
        if model is None:
            return Picks([], personal=False, provisional=state.provisional)
        seen: set[int] = set()
        only_seen: dict[int, np.ndarray] = {}  # watched, not rated: a signal too (`recommend`)
        for user_id in user_ids:
            ids, scores = await self._member_ratings(guild_id, user_id)
            seen.update(int(i) for i in ids)
            watched = await self.storage.seen_movie_ids(guild_id, user_id)
            seen.update(watched)
            only_seen[user_id] = np.setdiff1d(np.asarray(watched, dtype=np.int64),
                                              ids.astype(np.int64))
            if len(ids):
                model = await self.models.fold_in_if_needed(state, user_id, ids, scores) or model
        cand_ids = set(candidates) if candidates is not None else None
        cand = (np.fromiter(cand_ids - seen, dtype=np.int64) if cand_ids is not None else None)
        known = [u for u in user_ids if model.knows_user(u) or only_seen[u].size]
        if not known:
            best = model.popular(n, exclude=np.fromiter(seen, dtype=np.int64), candidates=cand,
                                 rated_only=True)  # the server's favourites
            return Picks([_pick(r) for r in best],
                         personal=False, provisional=state.provisional)
        recs = model.recommend_group(known, n=n, strategy=strategy, candidates=cand,
                                     exclude=np.fromiter(seen, dtype=np.int64),
                                     seen=[only_seen[u] for u in known])
        return Picks([_pick(r) for r in recs],
                     personal=True, provisional=state.provisional)

    @gated
    async def similar(self, guild_id: int, movie_id: int, n: int = 10,
                      candidates: set[int] | None = None) -> list[tuple[int, float]] | None:
        """Movies near this one in the guild's feature space; None if the guild's model does
        not know the movie well enough."""
        near = await self._similar(guild_id, movie_id, n, candidates)
        return None if near is None else [(m, sim) for m, sim, _share in near]

    async def _similar(self, guild_id: int, movie_id: int, n: int,
                       candidates: set[int] | None) -> list[tuple[int, float, float]] | None:
        """(movie id, similarity, the ratings' share of it) of ``similar``."""
        state = await self.models.state(guild_id)
        model = state.model
        if model is None or not model.knows_movie(movie_id):
            return None
        cand = np.fromiter(candidates, dtype=np.int64) if candidates is not None else None
        # In a thread, as the ranking: cosines over every movie the model knows (a taste
        # prior's catalogue: 90,000 genre rows alone are ~5 ms of numpy calls).
        near = await asyncio.to_thread(model.similar_with_evidence, movie_id, n, cand)
        return [(int(m), float(sim), float(share)) for m, sim, share in near]

    @gated
    async def similar_movies(self, guild_id: int, movie_id: int, n: int = 10,
                             asker_id: int = 0) -> Neighbours:
        """`similar` with the movies themselves (none when the model cannot place the movie),
        and whether genres carried the list (the shown pairs' co-raters gave less than half
        of their similarity on average). With hidden ratings, only between movies enough
        others rated (`privacy`)."""
        allowed = await shareable_movies(self.storage, guild_id, asker_id, None)
        if allowed is not None and movie_id not in allowed:
            return Neighbours([])
        near = await self._similar(guild_id, movie_id, n, allowed) or []
        movies = await self.storage.get_movies(guild_id, [m for m, *_ in near]) if near else {}
        shown = [(movies[m], sim, share) for m, sim, share in near if m in movies]
        by_genre = bool(shown) and float(np.mean([share for *_, share in shown])) < 0.5
        return Neighbours([(movie, sim) for movie, sim, _share in shown], by_genre)

    @gated
    async def top(self, guild_id: int, n: int = 10,
                  candidates: set[int] | None = None) -> list[Pick]:
        """The guild's best movies by shrunk mean with minimum support."""
        state = await self.models.state(guild_id)
        if state.model is None:
            return []
        cand = np.fromiter(candidates, dtype=np.int64) if candidates is not None else None
        return [_pick(r) for r in state.model.popular(n, candidates=cand, rated_only=True)]

    async def prior_installed(self) -> bool:
        """Whether a taste prior is installed (empty states say how to install one)."""
        return await self.storage.has_prior()

    @gated
    async def model_snapshot(self, guild_id: int, user_id: int | None = None) -> CFModel | None:
        """The guild's current model, read-only (pictures read its factors), with `user_id`'s
        latest ratings folded in; None while the guild has none."""
        state = await self.models.state(guild_id)
        if state.model is not None and user_id is not None:
            ids, scores = await self._member_ratings(guild_id, user_id)
            if len(ids):
                await self.models.fold_in_if_needed(state, user_id, ids, scores)
        return state.model

    async def effective_model_settings(self, guild_id: int) -> dict[str, tuple[float, str]]:
        """What the guild's model uses now and where each value comes from: "set" (with
        /settings), "auto" (regularisation chosen by validation at the last fit) or "default"
        (the config), e.g. {"features": (10.0, "default"), "regularization": (4.0, "auto")}."""
        chosen = await self.storage.get_guild_settings(guild_id)
        rec = self.settings.recommender
        features = ((float(chosen.features), "set") if chosen.features is not None
                    else (float(rec.features), "default"))
        if chosen.regularization is not None:
            return {"features": features, "regularization": (chosen.regularization, "set")}
        model = (await self.models.state(guild_id, wait=False)).model
        _version, count = await self.storage.ratings_version(guild_id)
        if model is not None and 0 < count <= rec.auto_regularization_max_ratings:
            return {"features": features, "regularization": (float(model.config.reg), "auto")}
        return {"features": features, "regularization": (rec.regularization, "default")}
