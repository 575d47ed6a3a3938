"""Per-guild recommendation service: the bridge between the cogs, storage and `recommender/`.

One model per guild, trained only on that guild's ratings. The rules:

* Fits run on the `TrainingPool` (never on the event loop). A guild's fits never overlap.
* A rating marks the guild dirty and schedules one retrain at most once per
  `training.debounce_seconds`; bursts coalesce into one fit, which warm-starts from the current
  factors.
* Between fits a member's own new ratings count at once: before answering a member whose ratings
  changed since the fit, their preferences are folded in (one k x k ridge solve, microseconds,
  done inline).
* Models live in a bounded LRU cache and are persisted after each fit, so after a restart the
  first request loads factors instead of waiting for a full fit; such a model is *provisional*
  until a background refit finishes, and the replies say so.
* A guild with no saved model gets a fit on first use; the request waits for it only briefly
  (`cold_wait_seconds`) and otherwise answers from the guild's best-rated movies, provisionally.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from bot.config import Settings
from bot.domain.models import Movie
from bot.domain.scores import SCALE
from bot.service import gcstats
from bot.service.cache import LRUCache
from bot.service.gate import Gate, gated
from bot.service.gcstats import gc_after_swap
from bot.service.privacy import prediction_allowed, shareable_movies
from bot.service.ranked import RankedList
from bot.service.shortlist import Candidate, assemble_page, franchise_key, reason_key
from bot.service.training import TrainingPool
from bot.service.worker import RefitJob, forget_recent
from bot.storage import Storage
from recommender import CFModel, ModelConfig, Recommendation
from recommender.prior import GuildPrior, TastePrior
from recommender.reasons import KINDS

log = logging.getLogger(__name__)

RATING_SCALE = SCALE
GROUP_STRATEGIES = ("average", "least_misery")
# A "because you rated X" reason is shown only when X moves the ranking blend this much (in
# standard deviations of the member's scores); below it the pick says what else carried it.
MIN_REASON_POINTS = 0.1
MAX_PICKS = 100  # how deep "Show more" can page into a member's ranking
RANK_OFF_LOOP_MOVIES = 300  # rank in a thread when the guild's model knows more movies


@dataclass
class Pick:
    movie_id: int
    score: float
    because: tuple[int, int] | None = None  # (rated movie id, the member's score for it)
    stretch: bool = False  # predicted below the member's own average: shown marked
    # With no rating of the member's behind it: the blend part that carried the pick
    # ("pick": members who share your taste, "prior": the taste prior, "enjoy": the rating
    # model, "popularity": the server's most-rated movies), see `recommender.reasons`.
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


MODEL_FORMAT = 3  # part of the settings key: a model saved by an older bot is refitted once
# (3: with a taste prior every movie it knows is a candidate, issue 23)


@dataclass(frozen=True)
class FitSettings:
    """How a guild's model is fitted now; `key` is stored with the saved model."""

    config: ModelConfig
    key: str
    tune: bool  # regularisation chosen by hold-out validation (no value set by the guild)


@dataclass
class GuildModel:
    """The cached state of one guild's model."""

    guild_id: int
    model: CFModel | None = None
    provisional: bool = True
    fitted_at: float = 0.0  # time.monotonic() of the last finished fit
    changed_users: set[int] = field(default_factory=set)  # need a fold-in
    all_changed: bool = False  # loaded from disk: everyone's ratings may have moved
    folded_users: set[int] = field(default_factory=set)
    dirty: bool = False  # ratings or settings changed since the running fit started
    refit_now: bool = False  # the next refit skips the debounce (a member was forgotten)
    # Members forgotten since the running fit started: a model that still knows one of them
    # is never put in memory. And whether a refit is owed for a forget (a failed one retries).
    forgotten: set[int] = field(default_factory=set)
    forget_pending: bool = False
    trained_on: tuple[int, str] | None = None  # (ratings version, settings key) of `model`
    fit_task: asyncio.Task[None] | None = None  # the guild's running fit, if any
    timer: asyncio.TimerHandle | None = None
    # Held while a thread ranks or explains on `model`: a fold-in (which grows the model's
    # member arrays) waits for it.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def needs_fold_in(self, user_id: int) -> bool:
        if user_id in self.changed_users:
            return True
        return self.all_changed and user_id not in self.folded_users


class RecommendationService:
    def __init__(self, storage: Storage, settings: Settings, *, mode: str | None = None,
                 cold_wait_seconds: float = 3.0, gate: Gate | None = None) -> None:
        """`mode` ("thread" | "process") overrides the config's `training.mode`; `gate` is
        the shutdown gate shared with the other services (see `bot.service.gate`)."""
        self.storage = storage
        self.gate = gate or Gate()
        self.settings = settings
        self.cold_wait_seconds = cold_wait_seconds
        self.pool = TrainingPool(settings.training.workers,
                                 mode=mode or settings.training.mode,
                                 blas_threads=settings.training.blas_threads,
                                 big_guild_ratings=settings.training.big_guild_ratings,
                                 queue_url=settings.redis.url,
                                 queue_key=settings.redis.job_key)
        self._cache: LRUCache[int, GuildModel] = LRUCache(
            settings.training.cache_size, on_evict=self._evicted)
        self._closed = False
        self._fits: dict[int, asyncio.Task[None]] = {}  # running fits: never two per guild
        self._loading: dict[int, asyncio.Task[None]] = {}  # background loads after a rating
        # Called with a guild id when data was forgotten there (a member, or the whole guild):
        # other caches derived from ratings (pictures) drop what they hold for it.
        self.forget_listeners: list[Callable[[int], None]] = []
        self._prior: tuple[tuple[float, float], GuildPrior | None] | None = None
        # (guild, member) -> (what it was ranked on, the ranking): pages slice it.
        self._ranked: LRUCache[tuple[int, int], tuple[tuple[object, ...],
                                                      RankedList]] = LRUCache(1024)
        self.fits_completed = 0

    # ----------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        self._closed = False
        gcstats.install()
        gcstats.freeze()

    async def close(self) -> None:
        """Cancel pending retrains, let running fits finish (bounded), stop the pool."""
        self._closed = True
        for state in self._cache.values():
            if state.timer is not None:
                state.timer.cancel()
                state.timer = None
        loads = [task for task in self._loading.values() if not task.done()]
        if loads:
            await asyncio.wait(loads, timeout=10)
        tasks = [task for task in self._fits.values() if not task.done()]
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=10)
            for task in pending:
                task.cancel()
        self.pool.shutdown()

    def _evicted(self, guild_id: int, state: GuildModel) -> None:
        # A running fit goes on (it saves the model); the guild is simply not in memory.
        if state.timer is not None:
            state.timer.cancel()
            state.timer = None

    # ----------------------------------------------------------------- model access
    async def _fit_settings(self, guild_id: int) -> FitSettings:
        """How the guild's model is fitted now, and the key a saved model must match."""
        guild_settings = await self.storage.get_guild_settings(guild_id)
        rec = self.settings.recommender
        features = guild_settings.features or rec.features
        tune = guild_settings.regularization is None
        reg = rec.regularization if tune else float(guild_settings.regularization or 0.0)
        prior = await self.storage.prior_stamp()
        config = ModelConfig(features=features, reg=reg, maxiter=rec.max_iterations,
                             scale=RATING_SCALE)
        key = (f"features={features};reg={'auto' if tune else format(reg, 'g')};"
               f"maxiter={rec.max_iterations};prior={prior[0] if prior else 0:.6f},"
               f"{prior[1] if prior else 0:.6f};model={MODEL_FORMAT}")
        return FitSettings(config, key, tune)

    async def _state(self, guild_id: int, *, wait: bool = True) -> GuildModel:
        """The guild's model state. On a cache miss the saved model is loaded; a refit starts
        only when the guild's ratings or model settings changed since it was trained."""
        state = self._cache.get(guild_id)
        if state is None:
            state = GuildModel(guild_id)
            state.fit_task = self._running_fit(guild_id)
            self._cache.put(guild_id, state)
            saved = await self.storage.load_model_state(guild_id)
            loaded: CFModel | None = None
            if saved is not None and saved.blob is not None:
                try:
                    # Not on the training pool: a load must not queue behind a long fit.
                    prior = await self._guild_prior()
                    saved_blob = saved.blob
                    loaded = await asyncio.to_thread(
                        lambda: CFModel.from_bytes(saved_blob, prior=prior))
                except Exception:
                    log.exception("saved model for guild %s unreadable; refitting", guild_id)
            version, count = await self.storage.ratings_version(guild_id)
            key = (await self._fit_settings(guild_id)).key
            if state.trained_on is not None:
                return state  # a running fit finished while this loaded: its model is newer
            state.model = loaded
            if (state.model is not None and saved is not None
                    and (saved.ratings_version, saved.settings_key) == (version, key)):
                state.provisional = False
                state.trained_on = (version, key)
                state.all_changed = True  # saved models hold no member's ratings: fold in
                log.info("model loaded guild=%s (up to date: no refit)", guild_id)
            elif count == 0:
                state.model = None
                state.provisional = state.fit_task is not None
            else:
                state.all_changed = state.model is not None
                if state.model is not None:
                    log.info("model loaded guild=%s (provisional until refit)", guild_id)
                state.fit_task = self._running_fit(guild_id)
                if state.fit_task is None:  # else: the running fit is that refit
                    self._start_fit(guild_id)
        if state.model is None and wait and state.fit_task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(state.fit_task), self.cold_wait_seconds)
        return state

    def _running_fit(self, guild_id: int) -> asyncio.Task[None] | None:
        task = self._fits.get(guild_id)
        return task if task is not None and not task.done() else None

    def _start_fit(self, guild_id: int) -> None:
        """Start a refit now, unless one is running for the guild (never two at once): then
        the running one is followed by another when it ends."""
        state = self._cache.get(guild_id)
        if self._closed or self._running_fit(guild_id) is not None:
            if state is not None:
                state.dirty = True
            return
        task = asyncio.create_task(self._fit(guild_id), name=f"fit-{guild_id}")
        self._fits[guild_id] = task
        if state is not None:
            state.dirty = False
            state.fit_task = task

    async def _fit(self, guild_id: int) -> None:
        state = self._cache.get(guild_id)
        changed_before: set[int] = set()
        if state is not None:
            # Clear before reading: a rating saved after this point marks its member again.
            changed_before = set(state.changed_users)
            state.changed_users.clear()
            state.forgotten.clear()  # deleted before this fit reads: it cannot know them
        failed = False
        try:
            fit = await self._fit_settings(guild_id)
            _version, count = await self.storage.ratings_version(guild_id)
            rec = self.settings.recommender
            job = RefitJob(
                database=self.storage.database, guild_id=guild_id, config=fit.config,
                settings_key=fit.key,
                tune_reg=fit.tune and count <= rec.auto_regularization_max_ratings,
                max_ratings=rec.max_guild_ratings, max_cells=rec.max_model_cells,
                blas_threads=self.settings.training.blas_threads)
            lane = self.pool.lane_for(count)
            result = await self.pool.refit(job, count)
            model = result.model
            if model is None and result.blob is not None:
                prior = await self._guild_prior()
                blob = result.blob
                model = await asyncio.to_thread(lambda: CFModel.from_bytes(blob, prior=prior))
            # The guild may have been evicted (or evicted and loaded again) meanwhile.
            state = self._cache.get(guild_id)
            if state is not None and model is not None and any(
                    model.knows_user(u) for u in state.forgotten):
                # Read before a member's forget: never in memory (refit_now fits again).
                log.info("fit guild=%s read a forgotten member's ratings: not used", guild_id)
                model = None
                state = None
            if state is not None:
                # Members who rated while the fit ran are in changed_users again: they get
                # a fold-in on the new model when they next ask.
                state.forget_pending = False
                state.model = model
                state.provisional = False
                state.all_changed = False
                state.folded_users.clear()
                state.fitted_at = time.monotonic()
                state.trained_on = (result.ratings_version, fit.key)
            self.fits_completed += 1
            pause = gc_after_swap()
            report = result.report
            if report is not None:
                log.info(
                    "fit guild=%s ratings=%d members=%d movies=%d features=%d reg=%g%s "
                    "iterations=%d seconds=%.3f cost=%.4f lane=%s read=%.3f save=%.3f "
                    "saved=%s gc_max_ms=%.1f", guild_id, report.n_ratings, report.n_users,
                    report.n_movies, result.features, result.reg,
                    " (tuned)" if result.tuned else "", report.iterations, report.seconds,
                    report.cost, lane, result.timings.get("read", 0.0),
                    result.timings.get("save", 0.0), result.saved, pause)
        except asyncio.CancelledError:
            raise
        except Exception:
            failed = True
            if state is not None:
                state.changed_users |= changed_before
            log.exception("fit failed for guild %s", guild_id)
        finally:
            # Decide what follows while this fit still counts as running (close() waits for
            # it, so the database is still open), then act without awaiting anything.
            follow = None
            if not self._closed:
                try:
                    follow = await self._after_fit(guild_id, failed)
                except Exception:
                    log.exception("checking for changes after the fit of guild %s", guild_id)
            if self._fits.get(guild_id) is asyncio.current_task():
                del self._fits[guild_id]
            current = self._cache.get(guild_id)
            if current is not None:
                current.fit_task = None
                if follow == "now":
                    self._start_fit(guild_id)
                elif follow == "later":
                    self._schedule(current)

    async def _guild_prior(self) -> GuildPrior | None:
        """The installed taste prior aligned to catalog ids, for models loaded from a blob
        (a blob names its prior by fingerprint only). Loaded once per prior build/link stamp,
        off the loop; None without a prior."""
        stamp = await self.storage.prior_stamp()
        if stamp is None:
            self._prior = None
            return None
        if self._prior is not None and self._prior[0] == stamp:
            return self._prior[1]
        blob = await self.storage.load_prior()
        ids, keys = await self.storage.prior_links()
        prior = None
        if blob is not None and ids.size:
            prior = await asyncio.to_thread(
                lambda: TastePrior.from_bytes(blob).for_movies(ids, keys))
        self._prior = (stamp, prior)
        return prior

    async def _after_fit(self, guild_id: int, failed: bool) -> str | None:
        """What follows a fit: "now" after a member was forgotten, "later" (debounced) if
        something changed while it ran, else None; after a failure only when something new
        happened."""
        state = self._cache.get(guild_id)
        if state is None:
            return None
        if state.refit_now:
            state.refit_now = False
            return "now"
        if failed:  # a forget's refit is owed until one succeeds (e.g. Redis came back)
            return "later" if state.dirty or state.forget_pending else None
        version, _count = await self.storage.ratings_version(guild_id)
        key = (await self._fit_settings(guild_id)).key
        if state.dirty or state.trained_on != (version, key):
            return "later"
        return None

    def _schedule(self, state: GuildModel) -> None:
        """Debounce: at most one fit per interval; a burst of ratings coalesces."""
        if self._closed or state.timer is not None:
            return
        debounce = self.settings.training.debounce_seconds
        delay = max(0.0, state.fitted_at + debounce - time.monotonic())

        def fire() -> None:
            state.timer = None
            self._start_fit(state.guild_id)

        state.timer = asyncio.get_running_loop().call_later(delay, fire)

    async def rating_changed(self, guild_id: int, user_id: int) -> None:
        """Call after a member's ratings changed (rate, unrate). A guild not in memory is
        loaded in the background (its ratings version moved, so the load starts a refit);
        the caller never waits for that."""
        state = self._cache.get(guild_id)
        if state is None:
            self._load_in_background(guild_id)
            return
        state.changed_users.add(user_id)
        self._mark_dirty(state)

    def _load_in_background(self, guild_id: int) -> None:
        if self._closed or guild_id in self._loading:
            return
        task = asyncio.create_task(self._background_load(guild_id), name=f"load-{guild_id}")
        self._loading[guild_id] = task

    async def _background_load(self, guild_id: int) -> None:
        try:
            await self._state(guild_id, wait=False)
        except Exception:
            log.exception("loading the model of guild %s failed", guild_id)
        finally:
            self._loading.pop(guild_id, None)

    async def settings_changed(self, guild_id: int) -> None:
        """Call after the guild's model settings changed: refit (debounced) with them."""
        state = self._cache.get(guild_id)
        if state is not None:
            self._mark_dirty(state)

    async def member_forgotten(self, guild_id: int, user_id: int) -> None:
        """Call after all of a member's ratings were deleted: every copy of the model forgets
        them, at once and whatever becomes of the refit (a queue lane may be down): the saved
        copy is replaced by a tombstone, an in-memory model that knows the member is dropped
        (the guild answers as a new one until the refit is in), and a refit starts now, not
        debounced (retried after a failure); its result no longer knows the member."""
        await self.storage.delete_model(guild_id)  # first: a load now finds nothing of them
        forget_recent(guild_id)
        self._notify_forget(guild_id)
        cached = self._cache.get(guild_id)
        if cached is not None:
            cached.forgotten.add(user_id)
            cached.forget_pending = True
            model = cached.model
            if model is not None and model.knows_user(user_id):
                async with cached.lock:  # no thread is ranking on it while it goes
                    cached.model = None
                cached.provisional = True
                cached.trained_on = None
                cached.all_changed = False
                cached.folded_users.clear()
                gc_after_swap()
        state = await self._state(guild_id, wait=False)  # not cached: loads, starts a fit
        state.changed_users.add(user_id)
        if cached is None:
            state.forget_pending = True
            return  # the fit _state started reads the ratings after the delete
        if state.timer is not None:
            state.timer.cancel()
            state.timer = None
        if self._running_fit(guild_id) is not None:
            # The running fit may have read the ratings before the delete: fit again after it.
            state.dirty = True
            state.refit_now = True
        else:
            self._start_fit(guild_id)

    def _mark_dirty(self, state: GuildModel) -> None:
        state.dirty = True
        if self._running_fit(state.guild_id) is None:
            self._schedule(state)

    async def forget_guild(self, guild_id: int) -> None:
        """The guild was purged: drop its cached model, its pending refit and running fit."""
        state = self._cache.pop(guild_id)
        if state is not None:
            self._evicted(guild_id, state)
        task = self._fits.pop(guild_id, None)
        if task is not None:
            task.cancel()
        forget_recent(guild_id)
        self._notify_forget(guild_id)

    def _notify_forget(self, guild_id: int) -> None:
        for listener in self.forget_listeners:
            listener(guild_id)
        self._ranked = LRUCache(self._ranked.capacity)  # rankings hold rated sets too

    async def _fold_in_if_needed(self, state: GuildModel, user_id: int,
                                 rated_ids: np.ndarray, rated_scores: np.ndarray) -> None:
        if state.model is None or not state.needs_fold_in(user_id):
            return
        async with state.lock:  # never while a thread ranks on this model
            state.model.fold_in(user_id, rated_ids, rated_scores)
        state.changed_users.discard(user_id)
        state.folded_users.add(user_id)

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
        unless the guild's model is already in memory, and no fold-in of the member's latest
        ratings while a thread ranks on the model (the member's current row is used; the
        lock can be queued behind seconds of a big guild's rankings).
        While ratings are hidden, None for a movie fewer than MIN_RATERS other members rated
        (`bot.service.privacy`): the model knows a movie only once someone rated it, so a
        prediction appearing would say that someone did."""
        if loaded_only and self._cache.get(guild_id) is None:
            return None
        if not await prediction_allowed(self.storage, guild_id, user_id, movie_id):
            return None
        state = await self._state(guild_id, wait=False)
        model = state.model
        if model is None or not model.knows_movie(movie_id):
            return None
        rated_ids, rated_scores = await self._member_ratings(guild_id, user_id)
        if len(rated_ids) == 0:
            return None
        if not (loaded_only and state.lock.locked()):
            await self._fold_in_if_needed(state, user_id, rated_ids, rated_scores)
        if not model.knows_user(user_id):
            return None
        return float(model.predict(np.array([user_id]), np.array([movie_id]))[0])

    @gated
    async def recommend(self, guild_id: int, user_id: int, n: int = 10,
                        candidates: set[int] | None = None, offset: int = 0,
                        shown: frozenset[int] | set[int] = frozenset()) -> Picks:
        """The member's next page of picks with their movies: page `offset // n` (pages are
        built in turn by the rules of `shortlist`), never a movie in `shown` (what earlier
        pages of the same reply showed: "Show more" never repeats a title)."""
        state = await self._state(guild_id)
        rated_ids, rated_scores = await self._member_ratings(guild_id, user_id)
        minimum = await self._min_ratings(guild_id)
        needed = max(0, minimum - len(rated_ids))
        if needed > 0:  # server scores: with hidden ratings, only of movies enough others rated
            candidates = await shareable_movies(self.storage, guild_id, user_id, candidates)
        hidden = await self.storage.not_interested_ids(guild_id, user_id)
        # Watched on a linked media account (bot.service.media): never recommended back.
        seen = await self.storage.seen_movie_ids(guild_id, user_id)
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
                         provisional=self._running_fit(state.guild_id) is not None,
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
        await self._fold_in_if_needed(state, user_id, rated_ids, rated_scores)
        key = (state.guild_id, user_id)
        stamp = (id(model), state.fitted_at, len(state.folded_users), rated_ids.tobytes(),
                 None if candidates is None else hash(frozenset(candidates)),
                 hidden.tobytes(), seen.tobytes())
        cached = self._ranked.get(key)
        big = len(model.movies) > RANK_OFF_LOOP_MOVIES  # rank and explain in a thread
        if cached is not None and cached[0] == stamp:
            ranked = cached[1]
        else:
            def rank() -> RankedList:
                recs = model.recommend(user_id, n=MAX_PICKS, exclude=excluded, candidates=cand,
                                       avoid=hidden)
                ids = np.array([r.movie_id for r in recs], dtype=np.int64)
                return RankedList(recs, model.reasons(user_id, ids, MIN_REASON_POINTS))

            if big:
                async with state.lock:
                    ranked = await asyncio.to_thread(rank)
            else:
                ranked = rank()
            self._ranked.put(key, (stamp, ranked))
        await self._franchises(state.guild_id, ranked)
        pool = [Candidate(int(m), ranked.franchises[i], bool(ranked.rows["stretch"][i]),
                          reason_key(int(ranked.rows["reason"][i]),
                                     int(ranked.rows["reason_kind"][i])))
                for i, m in enumerate(ranked.rows["movie_id"])]
        skip = set(shown)
        for _ in range(offset // max(n, 1)):  # earlier pages, built by the same rules
            skip.update(pool[i].movie_id for i in assemble_page(pool, n, skip))
        chosen = assemble_page(pool, n, skip)
        picks = []
        for i, rec in zip(chosen, ranked.rows_at(chosen), strict=True):
            reason, score, kind = ranked.reason_at(i)
            if reason >= 0:
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
        state = await self._state(guild_id)
        model = state.model
        if model is None:
            return Picks([], personal=False, provisional=state.provisional)
        seen: set[int] = set()
        for user_id in user_ids:
            ids, scores = await self._member_ratings(guild_id, user_id)
            seen.update(int(i) for i in ids)
            seen.update(await self.storage.seen_movie_ids(guild_id, user_id))  # watched
            if len(ids):
                await self._fold_in_if_needed(state, user_id, ids, scores)
        cand_ids = set(candidates) if candidates is not None else None
        cand = (np.fromiter(cand_ids - seen, dtype=np.int64) if cand_ids is not None else None)
        known = [u for u in user_ids if model.knows_user(u)]
        if not known:
            best = model.popular(n, exclude=np.fromiter(seen, dtype=np.int64), candidates=cand,
                                 rated_only=True)  # the server's favourites
            return Picks([_pick(r) for r in best],
                         personal=False, provisional=state.provisional)
        recs = model.recommend_group(known, n=n, strategy=strategy, candidates=cand,
                                     exclude=np.fromiter(seen, dtype=np.int64))
        return Picks([_pick(r) for r in recs],
                     personal=True, provisional=state.provisional)

    @gated
    async def similar(self, guild_id: int, movie_id: int, n: int = 10,
                      candidates: set[int] | None = None) -> list[tuple[int, float]] | None:
        """Movies near this one in the guild's feature space; None if the guild's model does
        not know the movie well enough."""
        state = await self._state(guild_id)
        model = state.model
        if model is None or not model.knows_movie(movie_id):
            return None
        cand = np.fromiter(candidates, dtype=np.int64) if candidates is not None else None
        return [(int(m), float(s)) for m, s in model.similar(movie_id, n=n, candidates=cand)]

    @gated
    async def similar_movies(self, guild_id: int, movie_id: int, n: int = 10,
                             asker_id: int = 0) -> list[tuple[Movie, float]]:
        """`similar` with the movies themselves ([] when the model cannot place the movie).
        With hidden ratings, only between movies enough others rated (`privacy`)."""
        allowed = await shareable_movies(self.storage, guild_id, asker_id, None)
        if allowed is not None and movie_id not in allowed:
            return []
        near = await self.similar(guild_id, movie_id, n=n, candidates=allowed) or []
        movies = await self.storage.get_movies(guild_id, [m for m, _ in near]) if near else {}
        return [(movies[m], score) for m, score in near if m in movies]

    @gated
    async def top(self, guild_id: int, n: int = 10,
                  candidates: set[int] | None = None) -> list[Pick]:
        """The guild's best movies by shrunk mean with minimum support."""
        state = await self._state(guild_id)
        if state.model is None:
            return []
        cand = np.fromiter(candidates, dtype=np.int64) if candidates is not None else None
        return [_pick(r) for r in state.model.popular(n, candidates=cand, rated_only=True)]

    async def prior_installed(self) -> bool:
        """Whether a taste prior is installed (empty states say how to install one)."""
        return await self.storage.has_prior()

    async def is_provisional(self, guild_id: int) -> bool:
        state = self._cache.get(guild_id)
        return state is None or state.provisional

    @gated
    async def model_snapshot(self, guild_id: int, user_id: int | None = None) -> CFModel | None:
        """The guild's current model, read-only (pictures read its factors), with `user_id`'s
        latest ratings folded in; None while the guild has none."""
        state = await self._state(guild_id)
        if state.model is not None and user_id is not None:
            ids, scores = await self._member_ratings(guild_id, user_id)
            if len(ids):
                await self._fold_in_if_needed(state, user_id, ids, scores)
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
        model = (await self._state(guild_id, wait=False)).model
        _version, count = await self.storage.ratings_version(guild_id)
        if model is not None and 0 < count <= rec.auto_regularization_max_ratings:
            return {"features": features, "regularization": (float(model.config.reg), "auto")}
        return {"features": features, "regularization": (rec.regularization, "default")}

    async def wait_idle(self, guild_id: int) -> None:
        """Wait until the guild has no fit running or scheduled (tests, console, shutdown),
        nor a background load (which may start one) under way."""
        load = self._loading.get(guild_id)
        if load is not None and not load.done():
            await asyncio.shield(load)
        while True:
            state = self._cache.get(guild_id)
            if state is not None and state.timer is not None:
                state.timer.cancel()
                state.timer = None
                self._start_fit(guild_id)
            task = self._running_fit(guild_id)
            if task is None:
                return
            await asyncio.shield(task)
