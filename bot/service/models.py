"""GuildModels: each guild's model in memory: the cache, the fits and fold-in.

The queries (`bot.service.service.RecommendationService`) ask it for a guild's state and rank
on what it hands out; nothing else changes a model.

One model per guild, trained only on that guild's ratings. The rules:

* Fits run on the `TrainingPool` (never on the event loop). A guild's fits never overlap.
* A rating marks the guild dirty and schedules one retrain at most once per
  `training.debounce_seconds`; bursts coalesce into one fit, which warm-starts from the current
  factors.
* Between fits a member's own new ratings count at once: before answering a member whose ratings
  changed since the fit, their preferences are folded in (one k x k ridge solve, microseconds,
  done inline).
* Models live in an LRU cache bounded by memory (`training.cache_megabytes`: the models' own
  arrays, the shared prior not counted; at least `cache_size` models, weighed when loaded or
  fitted) and are persisted after each fit, so after a restart the first request loads
  factors instead of waiting for a full fit; such a model is *provisional* until a background
  refit finishes, and the replies say so.
* A guild with no saved model gets a fit on first use; the request waits for it only briefly
  (`cold_wait_seconds`) and otherwise answers from the guild's best-rated movies, provisionally.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from bot.config import Settings
from bot.domain.scores import SCALE
from bot.service import gcstats, switching
from bot.service.cache import LRUCache
from bot.service.features import unknown_movie_features
from bot.service.footprint import footprint
from bot.service.gcstats import gc_after_swap
from bot.service.training import TrainingPool
from bot.service.worker import RefitJob, forget_recent
from bot.storage import Storage
from recommender import CFModel, ModelConfig
from recommender.prior import GuildPrior, TastePrior

log = logging.getLogger(__name__)

RATING_SCALE = SCALE

# A fold-in copies the guild's member-side arrays (`CFModel.with_row`): on the event loop up to
# this many member-factor cells (~0.1 ms of copying), in a thread beyond.
FOLD_INLINE_CELLS = 50_000

# What a cached guild costs besides its model's arrays (its state, the model's Python objects):
# an estimate that bounds how many empty or tiny entries a memory budget admits.
STATE_OVERHEAD_BYTES = 8192

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
    # Each member's latest change (a rating saved, a forget) numbered in order: a fit that
    # started at number N holds every change up to N, so when it is swapped in only members
    # changed after N still need a fold-in. (Clearing the marks when a fit *starts* lost the
    # changes the model still serving lacked: a member who rated while the next fit was
    # starting was ranked on the old model's row without their new ratings.)
    change_seq: int = 0
    last_change: dict[int, int] = field(default_factory=dict)
    all_changed: bool = False  # loaded from disk: everyone's ratings may have moved
    folded_users: set[int] = field(default_factory=set)
    dirty: bool = False  # ratings or settings changed since the running fit started
    changes: int = 0  # how many times ratings or settings changed (`_after_fit` compares)
    refit_now: bool = False  # the next refit skips the debounce (a member was forgotten)
    # Members forgotten since the running fit started: a model that still knows one of them
    # is never put in memory. And whether a refit is owed for a forget (a failed one retries).
    forgotten: set[int] = field(default_factory=set)
    forget_pending: bool = False
    trained_on: tuple[int, str] | None = None  # (ratings version, settings key) of `model`
    # `model`'s own arrays in bytes (the cache's weight), measured off the event loop where
    # the model was unpacked or fitted; a fold-in's few new bytes wait for the next fit
    model_bytes: int = 0
    fit_task: asyncio.Task[None] | None = None  # the guild's running fit, if any
    timer: asyncio.TimerHandle | None = None
    # No lock: a fold-in replaces `model` with a new one (`CFModel.with_row`), so a thread
    # ranking or explaining on the previous model keeps an unchanged one.

    def needs_fold_in(self, user_id: int) -> bool:
        if user_id in self.changed_users:
            return True
        return self.all_changed and user_id not in self.folded_users

    def mark_changed(self, user_id: int) -> None:
        """The member's ratings changed: the model in memory needs their fold-in, and so does
        any fit that started before now."""
        self.change_seq += 1
        self.last_change[user_id] = self.change_seq
        self.changed_users.add(user_id)

    def fitted_from(self, started: int) -> None:
        """A fit that started when `change_seq` was `started` is now the model: members
        changed since then still need a fold-in on it, the others are in it."""
        self.last_change = {u: n for u, n in self.last_change.items() if n > started}
        self.changed_users = set(self.last_change)


class GuildModels:
    """The guild models one bot process keeps (see the module docstring)."""

    def __init__(self, storage: Storage, settings: Settings, *, mode: str | None = None,
                 cold_wait_seconds: float = 3.0,
                 forget_listeners: Iterable[Callable[[int], None]] = ()) -> None:
        """`mode` ("thread" | "process") overrides the config's `training.mode`;
        `forget_listeners` are called with a guild id when data was forgotten there (a
        member, or the whole guild): caches derived from ratings drop what they hold for it."""
        self.storage = storage
        self.settings = settings
        self.cold_wait_seconds = cold_wait_seconds
        self.pool = TrainingPool(settings.training.workers,
                                 mode=mode or settings.training.mode,
                                 blas_threads=settings.training.blas_threads,
                                 big_guild_ratings=settings.training.big_guild_ratings,
                                 queue_url=settings.redis.url,
                                 queue_key=settings.redis.job_key)
        budget = settings.training.cache_megabytes
        self.cache: LRUCache[int, GuildModel] = LRUCache(
            settings.training.cache_size, on_evict=self._evicted,
            max_bytes=budget * 2**20 if budget > 0 else None,
            weigh=model_bytes if budget > 0 else None)
        self._closed = False
        self._fits: dict[int, asyncio.Task[None]] = {}  # running fits: never two per guild
        self._loading: dict[int, asyncio.Task[None]] = {}  # background loads after a rating
        self._forget_listeners: list[Callable[[int], None]] = list(forget_listeners)
        self._prior: tuple[tuple[float, float], GuildPrior | None] | None = None
        self.fits_completed = 0

    def on_forget(self, listener: Callable[[int], None]) -> None:
        """Call `listener(guild_id)` when data was forgotten in a guild (a member, or all)."""
        self._forget_listeners.append(listener)

    # ----------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        self._closed = False
        gcstats.install()
        switching.install()  # fit threads hand the GIL back to the loop within 1 ms
        gcstats.freeze()

    async def close(self) -> None:
        """Cancel pending retrains, let running fits finish (bounded), stop the pool."""
        self._closed = True
        for state in self.cache.values():
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
    async def fit_settings(self, guild_id: int) -> FitSettings:
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

    async def state(self, guild_id: int, *, wait: bool = True) -> GuildModel:
        """The guild's model state. On a cache miss the saved model is loaded; a refit starts
        only when the guild's ratings or model settings changed since it was trained."""
        state = self.cache.get(guild_id)
        if state is None:
            state = GuildModel(guild_id)
            state.fit_task = self.running_fit(guild_id)
            self.cache.put(guild_id, state)
            saved = await self.storage.load_model_state(guild_id)
            loaded: CFModel | None = None
            loaded_bytes = 0
            if saved is not None and saved.blob is not None:
                try:
                    # Not on the training pool: a load must not queue behind a long fit.
                    prior = await self.guild_prior()
                    loaded, loaded_bytes = await asyncio.to_thread(unpack, saved.blob, prior)
                except Exception:
                    log.exception("saved model for guild %s unreadable; refitting", guild_id)
            version, count = await self.storage.ratings_version(guild_id)
            key = (await self.fit_settings(guild_id)).key
            if state.trained_on is not None:
                return state  # a running fit finished while this loaded: its model is newer
            state.model, state.model_bytes = loaded, loaded_bytes
            self.cache.reweigh(guild_id)
            if (state.model is not None and saved is not None
                    and (saved.ratings_version, saved.settings_key) == (version, key)):
                state.provisional = False
                state.trained_on = (version, key)
                state.all_changed = True  # saved models hold no member's ratings: fold in
                log.info("model loaded guild=%s (up to date: no refit)", guild_id)
            elif count == 0:
                state.model, state.model_bytes = None, 0
                self.cache.reweigh(guild_id)
                state.provisional = state.fit_task is not None
            else:
                state.all_changed = state.model is not None
                if state.model is not None:
                    log.info("model loaded guild=%s (provisional until refit)", guild_id)
                state.fit_task = self.running_fit(guild_id)
                if state.fit_task is None:  # else: the running fit is that refit
                    self._start_fit(guild_id)
        if state.model is None and wait and state.fit_task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(state.fit_task), self.cold_wait_seconds)
        return state

    def running_fit(self, guild_id: int) -> asyncio.Task[None] | None:
        task = self._fits.get(guild_id)
        return task if task is not None and not task.done() else None

    def _start_fit(self, guild_id: int) -> None:
        """Start a refit now, unless one is running for the guild (never two at once): then
        the running one is followed by another when it ends."""
        state = self.cache.get(guild_id)
        if self._closed or self.running_fit(guild_id) is not None:
            if state is not None:
                state.dirty = True
            return
        task = asyncio.create_task(self._fit(guild_id), name=f"fit-{guild_id}")
        self._fits[guild_id] = task
        if state is not None:
            state.dirty = False
            state.fit_task = task

    async def _fit(self, guild_id: int) -> None:
        state = self.cache.get(guild_id)
        started_on, started = state, 0
        if state is not None:
            # The fit reads the ratings after this point: it holds every change numbered up
            # to `started`. The marks stay until it is swapped in (the model serving until
            # then lacks those changes: members ranked meanwhile are folded in on it).
            started = state.change_seq
            state.forgotten.clear()  # deleted before this fit reads: it cannot know them
        failed = False
        try:
            fit = await self.fit_settings(guild_id)
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
            model, nbytes = result.model, result.model_bytes
            if model is None and result.blob is not None:
                prior = await self.guild_prior()
                model, nbytes = await asyncio.to_thread(unpack, result.blob, prior)
            # The guild may have been evicted (or evicted and loaded again) meanwhile.
            state = self.cache.get(guild_id)
            if state is not None and model is not None and any(
                    model.knows_user(u) for u in state.forgotten):
                # Read before a member's forget: never in memory (refit_now fits again).
                log.info("fit guild=%s read a forgotten member's ratings: not used", guild_id)
                model = None
                state = None
            if state is not None:
                # Members who changed while the fit ran keep their mark: they get a fold-in
                # on the new model when they next ask. (A state loaded again meanwhile
                # numbers its changes afresh: all of its marks stay.)
                state.fitted_from(started if state is started_on else 0)
                state.forget_pending = False
                state.model, state.model_bytes = model, nbytes
                state.provisional = False
                state.all_changed = False
                state.folded_users.clear()
                state.fitted_at = time.monotonic()
                state.trained_on = (result.ratings_version, fit.key)
                self.cache.reweigh(guild_id)
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
            current = self.cache.get(guild_id)
            if current is not None:
                current.fit_task = None
                if follow == "now":
                    self._start_fit(guild_id)
                elif follow == "later":
                    self._schedule(current)

    async def guild_prior(self) -> GuildPrior | None:
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
        state = self.cache.get(guild_id)
        if state is None:
            return None
        if state.refit_now:
            state.refit_now = False
            return "now"
        if failed:  # a forget's refit is owed until one succeeds (e.g. Redis came back)
            return "later" if state.dirty or state.forget_pending else None
        seen = state.changes
        version, _count = await self.storage.ratings_version(guild_id)
        key = (await self.fit_settings(guild_id)).key
        # By what the fit was trained on, not by `dirty`: a rating saved before the fit read
        # the ratings marks the guild dirty too, and following it up refitted the same ratings
        # version (a refit without a change: many_guilds saw 4 in a minute once fits were
        # frequent). A change noticed while this read (its write may be newer) is followed up.
        if state.trained_on != (version, key) or state.changes != seen:
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
        state = self.cache.get(guild_id)
        if state is None:
            self._load_in_background(guild_id)
            return
        state.mark_changed(user_id)
        self._mark_dirty(state)

    def _load_in_background(self, guild_id: int) -> None:
        if self._closed or guild_id in self._loading:
            return
        task = asyncio.create_task(self._background_load(guild_id), name=f"load-{guild_id}")
        self._loading[guild_id] = task

    async def _background_load(self, guild_id: int) -> None:
        try:
            await self.state(guild_id, wait=False)
        except Exception:
            log.exception("loading the model of guild %s failed", guild_id)
        finally:
            self._loading.pop(guild_id, None)

    async def settings_changed(self, guild_id: int) -> None:
        """Call after the guild's model settings changed: refit (debounced) with them."""
        state = self.cache.get(guild_id)
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
        cached = self.cache.get(guild_id)
        if cached is not None:
            cached.forgotten.add(user_id)
            cached.forget_pending = True
            model = cached.model
            if model is not None and model.knows_user(user_id):
                cached.model = None  # a thread still ranking on it keeps its own reference
                cached.model_bytes = 0
                cached.provisional = True
                cached.trained_on = None
                cached.all_changed = False
                cached.folded_users.clear()
                self.cache.reweigh(guild_id)
                gc_after_swap()
        state = await self.state(guild_id, wait=False)  # not cached: loads, starts a fit
        state.mark_changed(user_id)
        if cached is None:
            state.forget_pending = True
            return  # the fit _state started reads the ratings after the delete
        if state.timer is not None:
            state.timer.cancel()
            state.timer = None
        if self.running_fit(guild_id) is not None:
            # The running fit may have read the ratings before the delete: fit again after it.
            state.dirty = True
            state.refit_now = True
        else:
            self._start_fit(guild_id)

    def _mark_dirty(self, state: GuildModel) -> None:
        state.dirty = True
        state.changes += 1
        if self.running_fit(state.guild_id) is None:
            self._schedule(state)

    async def forget_guild(self, guild_id: int) -> None:
        """The guild was purged: drop its cached model, its pending refit and running fit."""
        state = self.cache.pop(guild_id)
        if state is not None:
            self._evicted(guild_id, state)
        task = self._fits.pop(guild_id, None)
        if task is not None:
            task.cancel()
        forget_recent(guild_id)
        self._notify_forget(guild_id)

    def _notify_forget(self, guild_id: int) -> None:
        for listener in self._forget_listeners:
            listener(guild_id)

    async def fold_in_if_needed(self, state: GuildModel, user_id: int, rated_ids: np.ndarray,
                                rated_scores: np.ndarray) -> CFModel | None:
        """Fold the member's current ratings in when they changed since the fit: the member's
        row is solved apart (`CFModel.member_row`) and the guild gets a new model with it
        (`with_row`), so nothing waits for rankings running on the previous one. Returns the
        guild's model to use from now on."""
        model = state.model
        if model is None or not state.needs_fold_in(user_id):
            return model
        mark = state.last_change.get(user_id)  # a change while this runs keeps its mark
        # the genres of rated movies the model does not know yet count in the member's taste
        extra = await unknown_movie_features(self.storage, state.guild_id, model, rated_ids)
        model = state.model  # a fit may have replaced it while the catalog was read
        if model is None:
            return None

        def folded() -> CFModel:
            assert model is not None
            return model.with_row(model.member_row(user_id, rated_ids, rated_scores, extra))

        if model.fold_in_cells(len(rated_ids)) <= FOLD_INLINE_CELLS:
            new = folded()  # a small guild: well under a millisecond
        else:  # the copy of a big guild's member-side arrays is not the event loop's work
            new = await asyncio.to_thread(folded)
            if state.model is not model:  # a fit (or another fold-in) replaced it meanwhile
                return state.model
        state.model = new
        if state.last_change.get(user_id) == mark:
            state.changed_users.discard(user_id)
        state.folded_users.add(user_id)
        # Not weighed again here: a fold-in adds one member's row and ratings, and weighing
        # walks every folded member's lists (per-command work that grows with the guild); the
        # next fit or load weighs the model again.
        return state.model

    async def is_provisional(self, guild_id: int) -> bool:
        state = self.cache.get(guild_id)
        return state is None or state.provisional

    async def wait_idle(self, guild_id: int) -> None:
        """Wait until the guild has no fit running or scheduled (tests, console, shutdown),
        nor a background load (which may start one) under way."""
        load = self._loading.get(guild_id)
        if load is not None and not load.done():
            await asyncio.shield(load)
        while True:
            state = self.cache.get(guild_id)
            if state is not None and state.timer is not None:
                state.timer.cancel()
                state.timer = None
                self._start_fit(guild_id)
            task = self.running_fit(guild_id)
            if task is None:
                return
            await asyncio.shield(task)


def model_bytes(state: GuildModel) -> int:
    """A cached guild's weight for the memory-bounded cache: its model's own arrays (the taste
    prior it shares with every guild not counted; measured where the model was made, off the
    event loop) plus `STATE_OVERHEAD_BYTES`."""
    return STATE_OVERHEAD_BYTES + (state.model_bytes if state.model is not None else 0)


def unpack(blob: bytes, prior: GuildPrior | None) -> tuple[CFModel, int]:
    """A saved model and its own arrays' bytes (for the cache): run in a worker thread, never
    on the event loop (archive parsing and array copies hold the GIL for milliseconds)."""
    model = CFModel.from_bytes(blob, prior=prior)
    return model, footprint(model, shared=prior)
