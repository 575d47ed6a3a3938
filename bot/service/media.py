"""MediaService: members link Jellyfin, Plex, Trakt and Letterboxd accounts; their watch
history syncs into the guild (issue 25, items 1, 2 and 6).

* **Linking.** A service the bot admin did not configure refuses with `NotConfigured` (naming
  what to set). Jellyfin users and Plex accounts must be ones the admin's server lists (and not
  already linked by another member of the guild); Trakt is authorised by the member through
  the device flow (`begin_trakt`: the code is shown, the service polls in the background and
  reports through a callback); a Letterboxd username must have a public feed.
* **Sync.** A link syncs at once, then every `[media] sync_hours` (jittered ±10 %, `sync_due`).
  Watched movies are matched to the movies visible in the guild by TMDB id, then IMDb id, then
  normalised title + year (`bot.service.imports.pick_by_year`). With a TMDB key, the rest are
  looked up on TMDB (`DetailsService.find_movie`: by TMDB id, IMDb id, then title + year; at
  most `TMDB_FINDS` per sync, a movie TMDB does not know is not asked again for
  `TMDB_MISS_TTL`) and added to the server's catalog (within its movie cap); what is left is
  counted (and a few named) as unmatched, and without a key the summary says a key would add
  them. Each matched movie is "seen": never recommended back to the member, and a signal of
  their taste (`RecommendationService.recommend`, `recommender.blend`). Ratings (Trakt 1-10,
  Letterboxd stars x2, Plex 0-10) become the member's ratings, with the service as their
  source, except where the member rated the movie themselves (/rate or /import always win);
  the recommender is told once per sync, so the member's picks use them at once.
* **Privacy.** Links, history and tokens are member data: `unlink` removes one link with its
  history and the ratings it brought (a Trakt token is revoked), `forget_member` (/forgetme)
  every link, `export` lists them for /export. Tokens are sealed by `bot.media.secrets.TokenBox`
  and never returned by any method here.

Matching a big history (normalising thousands of titles) runs in a thread, never on the loop,
a chunk of `MATCH_CHUNK` movies at a time; a sync reports its progress to an optional
`Progress` callback (reading: after each page a client reads, where the service says how many
there are; matching: after each chunk), which a command uses to show a progress line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.config import Settings
from bot.domain.errors import DomainError
from bot.domain.genres import canonical_genres
from bot.domain.media import MediaLink, SeenMovie
from bot.domain.models import Movie
from bot.domain.title_forms import normalize
from bot.domain.titles import MAX_TITLE_LENGTH, clean_title
from bot.i18n import _, ngettext, number, speaking
from bot.media.letterboxd import valid_username
from bot.media.models import (
    SERVICE_NAMES,
    SERVICES,
    AccountNotFound,
    ExternalAccount,
    MediaError,
    WatchedMovie,
)
from bot.media.secrets import TokenBox
from bot.media.trakt import (
    REFRESH_MARGIN,
    DeviceCode,
    DeviceFlowEnded,
    TraktToken,
)
from bot.service.cache import LRUCache
from bot.service.details import DetailsService
from bot.service.errors import ServiceError
from bot.service.exports import media_csv
from bot.service.gate import Gate
from bot.service.imports import pick_by_year
from bot.service.media_clients import MediaClients, MediaProblem, NotConfigured
from bot.service.member_data import (
    MemberData,
    MemberDataRegistry,
    MemberExport,
    MemberTable,
)
from bot.service.ratings import RatingService
from bot.service.service import RecommendationService
from bot.storage import DuplicateMovieError, GuildMovieCapError, Storage
from bot.tmdb import TmdbMovie, TmdbUnavailable

log = logging.getLogger(__name__)

__all__ = ["LinkStatus", "MediaClients", "MediaProblem", "MediaService", "NotConfigured",
           "Progress", "SyncSummary", "Unlinked", "match_keys"]

ACCOUNTS_TTL = 60.0  # seconds a server's user list is reused (autocomplete)
SUGGEST_WAIT = 2.0  # seconds autocomplete waits for a server's user list
JITTER = 0.1  # periodic syncs spread ±10 %
RETRY_FAILED = 3600.0  # seconds before a failed sync is tried again (at most the interval)
SYNC_BATCH = 20  # links synced per round of `sync_due`
UNMATCHED_NAMED = 5  # unmatched titles a summary names
OFF_LOOP = 200  # match in a thread from this many watched movies
MATCH_CHUNK = 200  # watched movies matched (and looked up on TMDB) per progress step
TMDB_FINDS = 250  # unmatched movies looked up on TMDB per sync (the rest: at the next one)
TMDB_SYNC_SECONDS = 45.0  # a sync's TMDB lookups stop after this long (the rest: next time)
TMDB_MISS_TTL = 7 * 86400.0  # seconds a movie TMDB does not know is not asked again
TMDB_MISSES = 20_000  # such misses remembered (in memory)

Report = Callable[[str | None, "SyncSummary | None", str], Awaitable[None]]
Progress = Callable[[str, int, int], Awaitable[None]]
"""(phase "read" | "match", movies done, movies in all) of a running sync."""

@dataclass(frozen=True, slots=True)
class SyncSummary:
    service: str
    watched: int  # matched movies in the history
    ratings: int  # ratings written (new or changed)
    kept: int  # ratings left alone: the member's own
    unmatched: tuple[str, ...] = ()
    added: int = 0  # movies added to the server's catalog from TMDB (among `watched`)
    tmdb: bool = False  # a TMDB key is set: unmatched movies were looked up there

    def text(self) -> str:
        """One line for the member, in the current language (`bot.i18n`)."""
        line = _("imported {watched} watched, {ratings}, {unmatched} unmatched").format(
            watched=number(self.watched),
            ratings=ngettext("{n} rating", "{n} ratings", self.ratings).format(
                n=number(self.ratings)),
            unmatched=number(len(self.unmatched)))
        if self.added:
            line += ", " + ngettext("{n} added to this server's catalog from TMDB",
                                    "{n} added to this server's catalog from TMDB",
                                    self.added).format(n=number(self.added))
        if self.kept:
            line += " " + ngettext("({n} of your own ratings kept)",
                                   "({n} of your own ratings kept)", self.kept).format(
                n=number(self.kept))
        return line


@dataclass(frozen=True, slots=True)
class LinkStatus:
    service: str
    configured: bool
    account_name: str | None = None
    synced_at: float | None = None
    next_sync_at: float | None = None
    summary: str = ""
    pending: bool = False  # a Trakt device flow is waiting for the member


@dataclass(frozen=True, slots=True)
class Unlinked:
    service: str
    account_name: str
    ratings_removed: int
    revoked: bool | None  # None: the service has no token to revoke


@dataclass
class _Pending:
    task: asyncio.Task[None]
    code: DeviceCode


def match_keys(watched: list[WatchedMovie]) -> list[str]:
    """Each watched movie's normalised title (the matching's CPU part)."""
    return [normalize(w.title) for w in watched]


class MediaService:
    def __init__(self, storage: Storage, settings: Settings,
                 recommendations: RecommendationService, gate: Gate,
                 member_data: MemberDataRegistry | None = None, *,
                 clients: MediaClients | None = None,
                 ratings: RatingService | None = None,
                 details: DetailsService | None = None) -> None:
        self.storage = storage
        self.settings = settings
        self.recommendations = recommendations
        self.gate = gate
        self.clients = clients or MediaClients(settings)
        # Synced ratings are written through the rating service (the model is told).
        self.ratings = ratings or RatingService(storage, recommendations, gate)
        self.box = TokenBox(settings.security.secret_key)
        # TMDB (with a key): a history's movies the catalog lacks are added from it.
        self.details = details
        self._tmdb_misses: LRUCache[tuple[object, ...], float] = LRUCache(TMDB_MISSES)
        self._accounts: dict[str, tuple[float, list[ExternalAccount]]] = {}
        self._pending: dict[tuple[int, int], _Pending] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self._syncing: set[tuple[int, int, str]] = set()
        self._listing: dict[str, asyncio.Task[list[ExternalAccount]]] = {}
        # A sharded cluster sets this: its periodic syncs cover its own shards' guilds only.
        self.owns: Callable[[int], bool] | None = None
        if member_data is not None:  # /forgetme: links, history and tokens go first
            member_data.register(MemberData(
                "media", (MemberTable("media_links", (
                    "guild_id", "user_id", "service", "account_id", "account_name",
                    "access_token", "refresh_token", "token_expires_at", "linked_at",
                    "synced_at", "next_sync_at", "sync_summary")),
                          MemberTable("media_history", (
                              "guild_id", "user_id", "movie_id", "service", "watched_at",
                              "rating"))),
                count=self.count_links, export=self.export_file,
                forgetting=self.forget_member, purging=self.revoke_guild))

    async def close(self) -> None:
        for listing in self._listing.values():
            listing.cancel()
        for pending in list(self._pending.values()):
            pending.task.cancel()
        tasks = [p.task for p in self._pending.values()] + list(self._background)
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        self._pending.clear()
        await self.clients.close()

    # ------------------------------------------------------------------ config
    def configured(self, service: str) -> bool:
        return self.clients.configured(service)

    def require(self, service: str) -> None:
        if service not in SERVICES:
            raise MediaProblem(_("unknown service {service}").format(service=repr(service)))
        if not self.configured(service):
            raise NotConfigured(service)

    def interval(self) -> float:
        return self.settings.media.sync_hours * 3600.0

    def _next_sync(self, now: float, *, failed: bool = False) -> float:
        base = min(RETRY_FAILED, self.interval()) if failed else self.interval()
        return now + base * random.uniform(1 - JITTER, 1 + JITTER)

    # ------------------------------------------------------------------ accounts
    async def accounts(self, service: str) -> list[ExternalAccount]:
        """The accounts the admin's server lists (Jellyfin users, Plex accounts), cached
        briefly (autocomplete asks on every keystroke)."""
        self.require(service)
        cached = self._accounts.get(service)
        if cached is not None and time.monotonic() - cached[0] < ACCOUNTS_TTL:
            return cached[1]
        try:
            if service == "jellyfin":
                found = await self.clients.jellyfin().users()
            elif service == "plex":
                found = await self.clients.plex().accounts()
            else:
                raise MediaProblem(_("{service} has no account list").format(
                    service=SERVICE_NAMES[service]))
        except MediaError as error:
            raise MediaProblem(str(error)) from None
        self._accounts[service] = (time.monotonic(), found)
        return found

    async def suggest(self, service: str, text: str, limit: int = 25) -> list[ExternalAccount]:
        """Accounts whose name contains `text` (autocomplete); [] when the service is off or
        does not answer within SUGGEST_WAIT (Discord wants an answer within 3 s: a slow
        server's list keeps loading in the background and serves the next keystroke)."""
        if not self.configured(service):
            return []
        task = self._listing.get(service)
        if task is None or task.done():
            task = asyncio.create_task(self.accounts(service), name=f"{service}-users")
            # Its failure is the next keystroke's to see (a fresh try); never an unretrieved
            # exception at garbage collection.
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
            self._listing[service] = task
        try:
            accounts = await asyncio.wait_for(asyncio.shield(task), SUGGEST_WAIT)
        except (TimeoutError, MediaProblem):
            return []
        needle = text.strip().casefold()
        return [a for a in accounts if needle in a.name.casefold()][:limit]

    # ------------------------------------------------------------------ linking
    async def link_listed(self, guild_id: int, user_id: int, service: str, account: str,
                          progress: Progress | None = None
                          ) -> tuple[MediaLink, SyncSummary | None, str]:
        """Link a Jellyfin user or Plex account the server lists (by id or name), then sync
        (reporting to `progress`). Returns the link, the sync's summary (None if it failed)
        and the failure."""
        accounts = await self.accounts(service)
        wanted = account.strip()
        chosen = next((a for a in accounts if a.id == wanted), None) or next(
            (a for a in accounts if a.name.casefold() == wanted.casefold()), None)
        if chosen is None:
            raise MediaProblem(_("{service} has no user named that: pick one of the "
                                 "suggestions.").format(service=SERVICE_NAMES[service]))
        return await self._link(guild_id, user_id, service, chosen, progress=progress)

    async def link_letterboxd(self, guild_id: int, user_id: int, username: str,
                              progress: Progress | None = None
                              ) -> tuple[MediaLink, SyncSummary | None, str]:
        name = valid_username(username)
        if name is None:
            raise MediaProblem(_("That is not a Letterboxd username (2-15 letters, digits or "
                                 "underscores, as in letterboxd.com/username)."))
        return await self._link(guild_id, user_id, "letterboxd", ExternalAccount(name, name),
                                progress=progress)

    async def _link(self, guild_id: int, user_id: int, service: str, account: ExternalAccount,
                    token: TraktToken | None = None, progress: Progress | None = None
                    ) -> tuple[MediaLink, SyncSummary | None, str]:
        async with self.gate.enter():
            owner = await self.storage.media_account_owner(guild_id, service, account.id)
            if owner is not None and owner != user_id:
                raise MediaProblem(_("That {service} account is already linked by another "
                                     "member of this server.").format(
                    service=SERVICE_NAMES[service]))
            link = MediaLink(guild_id, user_id, service, account.id, account.name, time.time())
            summary: SyncSummary | None
            if token is not None:
                link = link.with_tokens(self.box.seal(token.access_token),
                                        self.box.seal(token.refresh_token), token.expires_at)
            if service == "letterboxd":  # a missing feed is a wrong name: not linked
                try:
                    watched = await self.clients.letterboxd().watched(account.id)
                except AccountNotFound as error:
                    raise MediaProblem(_("{problem}: check the spelling (the name in "
                                         "letterboxd.com/NAME).").format(problem=error)) from None
                except MediaError as error:
                    raise MediaProblem(str(error)) from None
                await self.storage.save_media_link(link)
                summary, problem = await self._sync_watched(link, watched, progress), ""
                return link, summary, problem
            replaced = await self.storage.media_link(guild_id, user_id, service)
            await self.storage.save_media_link(link)
            if replaced is not None and replaced.access_token:  # linked again: the old goes
                self._spawn(self._revoke(replaced), f"{service}-revoke-{guild_id}")
            summary, problem = await self._sync_safely(link, progress)
            return link, summary, problem

    # ------------------------------------------------------------------ Trakt device flow
    async def begin_trakt(self, guild_id: int, user_id: int, report: Report,
                          progress: Progress | None = None) -> DeviceCode:
        """Start the device flow: returns the code to show; polls in the background, then
        links and syncs (reporting to `progress`), and calls `report(account name, summary,
        problem)`: the linked
        account's name and its first sync's summary (None, and the problem, if it failed),
        or (None, None, why it was not linked)."""
        self.require("trakt")
        client = self.clients.trakt()
        try:
            code = await client.device_code()
        except MediaError as error:
            raise MediaProblem(str(error)) from None
        key = (guild_id, user_id)
        old = self._pending.pop(key, None)
        if old is not None:
            old.task.cancel()
        task = asyncio.create_task(self._poll_trakt(guild_id, user_id, code, report, progress),
                                   name=f"trakt-link-{guild_id}-{user_id}")
        self._pending[key] = _Pending(task, code)
        task.add_done_callback(lambda t: self._pending.pop(key, None)
                               if key in self._pending and self._pending[key].task is t
                               else None)
        return code

    async def _poll_trakt(self, guild_id: int, user_id: int, code: DeviceCode,
                          report: Report, progress: Progress | None = None) -> None:
        client = self.clients.trakt()
        deadline = time.monotonic() + code.expires_in
        message = _("Trakt linking timed out: run /link trakt again.")
        result: tuple[str | None, SyncSummary | None, str] | None = None
        try:
            while time.monotonic() < deadline:
                await asyncio.sleep(code.interval)
                token = await client.poll_token(code.device_code)
                if token is None:
                    continue
                try:
                    account = await client.account(token.access_token)
                    _link, summary, problem = await self._link(guild_id, user_id, "trakt",
                                                               account, token, progress)
                except BaseException:  # not linked: the token it granted is given back
                    self._spawn(client.revoke(token.access_token), f"trakt-revoke-{guild_id}")
                    raise
                result = (account.name, summary, problem)
                break
        except asyncio.CancelledError:
            raise
        except (MediaError, ServiceError) as error:
            message = str(error) if isinstance(error, DeviceFlowEnded) else (
                _("Trakt linking failed: {problem}").format(problem=error))
        except Exception:
            log.exception("Trakt device flow failed guild=%s", guild_id)
            message = _("Trakt linking failed: an unexpected error (logged).")
        with contextlib.suppress(Exception):
            await report(*(result or (None, None, message)))

    def trakt_pending(self, guild_id: int, user_id: int) -> bool:
        return (guild_id, user_id) in self._pending

    # ------------------------------------------------------------------ status, unlink
    async def status(self, guild_id: int, user_id: int) -> list[LinkStatus]:
        async with self.gate.enter():
            links = {lk.service: lk for lk in await self.storage.media_links(guild_id, user_id)}
        found = []
        for service in SERVICES:
            link = links.get(service)
            found.append(LinkStatus(
                service, self.configured(service),
                link.account_name if link else None, link.synced_at if link else None,
                link.next_sync_at if link else None, link.sync_summary if link else "",
                pending=service == "trakt" and self.trakt_pending(guild_id, user_id)))
        return found

    async def unlink(self, guild_id: int, user_id: int, service: str) -> Unlinked | None:
        """Remove the link, its history and the ratings it brought, and revoke its token;
        None when there was no such link."""
        async with self.gate.enter():
            link, ratings = await self.storage.delete_media_link(guild_id, user_id, service)
            if link is None:
                return None
            if ratings:
                await self.recommendations.rating_changed(guild_id, user_id)
            revoked = await self._revoke(link)
            return Unlinked(service, link.account_name, ratings, revoked)

    async def _revoke(self, link: MediaLink) -> bool | None:
        if link.service != "trakt" or link.access_token is None:
            return None
        token = self.box.open(link.access_token)
        if token is None or not self.configured("trakt"):
            return False
        return await self.clients.trakt().revoke(token)

    async def forget_member(self, guild_id: int, user_id: int) -> int:
        """/forgetme: every link of the member in the guild and their synced history go now;
        Trakt tokens are revoked in the background (the reply does not wait for Trakt).
        Returns how many links were removed."""
        pending = self._pending.pop((guild_id, user_id), None)
        if pending is not None:
            pending.task.cancel()
        links = await self.storage.delete_member_media(guild_id, user_id)
        for link in links:
            if link.service == "trakt":
                self._spawn(self._revoke(link), f"trakt-revoke-{guild_id}")
        return len(links)

    async def revoke_guild(self, guild_id: int) -> int:
        """A departed server is about to be purged: revoke its Trakt tokens (in the
        background; the rows go with the purge). Returns how many were sent."""
        links = [lk for lk in await self.storage.guild_media_links(guild_id)
                 if lk.service == "trakt"]
        for link in links:
            self._spawn(self._revoke(link), f"trakt-revoke-{guild_id}")
        return len(links)

    async def count_links(self, guild_id: int, user_id: int) -> int:
        async with self.gate.enter():
            return len(await self.storage.media_links(guild_id, user_id))

    async def export(self, guild_id: int,
                     user_id: int) -> tuple[list[MediaLink], list[SeenMovie]]:
        """The member's links (tokens blanked) and synced history, for /export."""
        async with self.gate.enter():
            links = await self.storage.media_links(guild_id, user_id)
            history = await self.storage.media_history(guild_id, user_id)
        return [lk.with_tokens(None, None, None) for lk in links], history

    async def export_file(self, guild_id: int, user_id: int) -> MemberExport | None:
        """/export's file of the member's linked accounts and synced history (no token)."""
        links, history = await self.export(guild_id, user_id)
        if not links and not history:
            return None
        return MemberExport("linked-accounts", media_csv(links, history),
                            len(links) + len(history))

    def _spawn(self, work: Awaitable[Any], name: str) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:
                log.exception("background media task %s failed", name)

        task = asyncio.create_task(run(), name=name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ------------------------------------------------------------------ sync
    async def sync_now(self, guild_id: int, user_id: int, service: str,
                       progress: Progress | None = None) -> SyncSummary:
        async with self.gate.enter():
            link = await self.storage.media_link(guild_id, user_id, service)
            if link is None:
                raise MediaProblem(_("You have no {service} account linked here.").format(
                    service=SERVICE_NAMES[service]))
            summary, problem = await self._sync_safely(link, progress)
            if summary is None:
                raise MediaProblem(problem)
            return summary

    async def sync_due(self, now: float | None = None) -> int:
        """Sync the links whose time has come (at most SYNC_BATCH); returns how many. No
        member asked: each link's summary (what `/link status` shows) is worded in its
        server's `/settings language`."""
        now = time.time() if now is None else now
        async with self.gate.enter():
            due = await self.storage.media_links_due(now, SYNC_BATCH * 10)
            if self.owns is not None:
                due = [link for link in due if self.owns(link.guild_id)]
            due = due[:SYNC_BATCH]
            for link in due:
                settings = await self.storage.get_guild_settings(link.guild_id)
                with speaking(settings.language):
                    await self._sync_safely(link)
        return len(due)

    async def _sync_safely(self, link: MediaLink,
                           progress: Progress | None = None) -> tuple[SyncSummary | None, str]:
        """Sync one link; a failure is recorded on the link (and retried later), not raised."""
        key = (link.guild_id, link.user_id, link.service)
        if key in self._syncing:
            return None, _("a sync of this account is already running")
        self._syncing.add(key)
        try:
            watched = await self._fetch(link, progress)
            return await self._sync_watched(link, watched, progress), ""
        except (MediaError, MediaProblem) as error:
            problem = str(error)
        except Exception:
            log.exception("sync failed guild=%s service=%s", link.guild_id, link.service)
            problem = _("an unexpected error (logged)")
        finally:
            self._syncing.discard(key)
        now = time.time()
        await self.storage.media_synced(link.guild_id, link.user_id, link.service,
                                        synced_at=None,
                                        next_sync_at=self._next_sync(now, failed=True),
                                        summary=_("last sync failed: {problem}").format(
                                            problem=problem)[:300])
        return None, problem

    async def _fetch(self, link: MediaLink,
                     progress: Progress | None = None) -> list[WatchedMovie]:
        async def read(done: int, total: int) -> None:
            await _tell(progress, "read", done, total)

        reading = read if progress is not None else None
        if link.service == "jellyfin":
            return await self.clients.jellyfin().watched(link.account_id, progress=reading)
        if link.service == "plex":
            return await self.clients.plex().watched(link.account_id, progress=reading)
        if link.service == "letterboxd":
            return await self.clients.letterboxd().watched(link.account_id)
        if link.service == "trakt":
            return await self._fetch_trakt(link, reading)
        raise MediaProblem(_("unknown service {service}").format(service=repr(link.service)))

    async def _fetch_trakt(self, link: MediaLink,
                           progress: Callable[[int, int], Awaitable[None]] | None = None
                           ) -> list[WatchedMovie]:
        client = self.clients.trakt()
        access, refresh = self.box.open(link.access_token), self.box.open(link.refresh_token)
        if access is None or refresh is None:
            raise MediaProblem(_("the Trakt token cannot be read (the secret key changed?): "
                                 "link Trakt again"))
        token = TraktToken(access, refresh, link.token_expires_at or 0.0)
        # Refreshed while it would not last until the sync after next (never used expired).
        margin = max(REFRESH_MARGIN, self.interval() * (1 + JITTER) + RETRY_FAILED)
        token, refreshed = await client.fresh(token, margin)
        if refreshed:
            await self.storage.update_media_tokens(
                link.guild_id, link.user_id, "trakt", self.box.seal(token.access_token),
                self.box.seal(token.refresh_token), token.expires_at)
            log.info("refreshed a Trakt token guild=%s (expires in %.0f h)", link.guild_id,
                     (token.expires_at - client.clock()) / 3600)
        return await client.watched(token.access_token, progress=progress)

    async def _sync_watched(self, link: MediaLink, watched: list[WatchedMovie],
                            progress: Progress | None = None) -> SyncSummary:
        matched, unmatched, added = await self._match_history(link.guild_id, watched, progress)
        rows: dict[int, tuple[float | None, int | None]] = {}
        for movie, seen in matched:
            when = seen.watched_at.timestamp() if seen.watched_at else None
            old_when, old_rating = rows.get(movie.id, (None, None))
            rows[movie.id] = (max((w for w in (when, old_when) if w is not None), default=None),
                              seen.rating_1_10 if seen.rating_1_10 is not None else old_rating)
        written = await self.ratings.record_synced(
            link.guild_id, link.user_id, link.service,
            [(m, w, r) for m, (w, r) in rows.items()])
        summary = SyncSummary(link.service, len(rows), written.ratings_written,
                              written.ratings_kept, tuple(unmatched), added, self.tmdb_on)
        now = time.time()
        text = summary.text()
        if unmatched:
            named = ", ".join(unmatched[:UNMATCHED_NAMED])
            text += "; " + _("not in this server's catalog: {titles}").format(titles=named)
            if len(unmatched) > UNMATCHED_NAMED:
                text += " " + _("and {n} more").format(
                    n=number(len(unmatched) - UNMATCHED_NAMED))
            if not self.tmdb_on:
                text += " " + _("(with a TMDB key the bot would add them)")
        await self.storage.media_synced(link.guild_id, link.user_id, link.service,
                                        synced_at=now, next_sync_at=self._next_sync(now),
                                        summary=text[:1000])
        with speaking("en"):
            logged = summary.text()
        log.info("synced %s guild=%s: %s", link.service, link.guild_id, logged)
        return summary

    @property
    def tmdb_on(self) -> bool:
        """Whether unmatched movies are looked up on TMDB (a TMDB key is set)."""
        return self.details is not None and self.details.enabled

    async def _match_history(self, guild_id: int, watched: list[WatchedMovie],
                             progress: Progress | None
                             ) -> tuple[list[tuple[Movie, WatchedMovie]], list[str], int]:
        """`match`, then TMDB for the rest, a chunk at a time (reporting `progress`): the
        matched movies, the labels of those left unmatched and how many were added to the
        catalog."""
        found: list[tuple[Movie, WatchedMovie]] = []
        unmatched: list[str] = []
        added, finds, total = 0, TMDB_FINDS, len(watched)
        deadline = time.monotonic() + TMDB_SYNC_SECONDS
        for start in range(0, total, MATCH_CHUNK):
            chunk = watched[start:start + MATCH_CHUNK]
            hits, rest = await self.match_movies(guild_id, chunk)
            found += hits
            if rest and self.tmdb_on and finds > 0 and time.monotonic() < deadline:
                asked = rest[:finds]
                finds -= len(asked)
                more, left, new = await self._from_tmdb(guild_id, asked, deadline)
                found += more
                added += new
                rest = left + rest[len(asked):]
            unmatched += [_label(seen) for seen in rest]
            await _tell(progress, "match", start + len(chunk), total)
        return found, list(dict.fromkeys(unmatched)), added

    async def match(self, guild_id: int, watched: list[WatchedMovie]
                    ) -> tuple[list[tuple[Movie, WatchedMovie]], list[str]]:
        """Each watched movie's catalog movie: by TMDB id, IMDb id, then title + year; the
        labels ("Title (Year)") of those not found."""
        found, rest = await self.match_movies(guild_id, watched)
        return found, list(dict.fromkeys(_label(seen) for seen in rest))

    async def match_movies(self, guild_id: int, watched: list[WatchedMovie]
                           ) -> tuple[list[tuple[Movie, WatchedMovie]], list[WatchedMovie]]:
        """`match`, with the watched movies not found."""
        by_tmdb = await self.storage.movies_by_tmdb(
            guild_id, {w.tmdb_id for w in watched if w.tmdb_id})
        by_imdb = await self.storage.movies_by_imdb(
            guild_id, {w.imdb_id for w in watched if w.imdb_id})
        found: list[tuple[Movie, WatchedMovie]] = []
        rest: list[WatchedMovie] = []
        for seen in watched:
            movie = (by_tmdb.get(seen.tmdb_id) if seen.tmdb_id else None) or (
                by_imdb.get(seen.imdb_id) if seen.imdb_id else None)
            if movie is not None:
                found.append((movie, seen))
            else:
                rest.append(seen)
        keys = (await asyncio.to_thread(match_keys, rest) if len(rest) >= OFF_LOOP
                else match_keys(rest))
        by_title = await self.storage.movies_by_title(guild_id, set(keys))
        unmatched = []
        for seen, key in zip(rest, keys, strict=True):
            movie = pick_by_year(by_title.get(key, []), seen.year)
            if movie is not None:
                found.append((movie, seen))
            else:
                unmatched.append(seen)
        return found, unmatched

    # ------------------------------------------------------------------ TMDB additions
    async def _from_tmdb(self, guild_id: int, watched: list[WatchedMovie], deadline: float
                         ) -> tuple[list[tuple[Movie, WatchedMovie]], list[WatchedMovie], int]:
        """Look the watched movies up on TMDB (a few at a time, `DetailsService.find_movie`;
        those not answered by `deadline`, monotonic, are left for the next sync) and find or
        add each in the guild's catalog: (matched, still unmatched, added)."""
        tasks = [asyncio.create_task(self._find(seen)) for seen in watched]
        try:
            _done, late = await asyncio.wait(tasks,
                                             timeout=max(0.0, deadline - time.monotonic()))
        finally:  # out of time, or the sync itself cancelled: nothing is left running
            for task in tasks:
                if not task.done():
                    task.cancel()
        if late:
            await asyncio.wait(late)
            log.info("TMDB lookups of a sync ran out of time: %d left for the next one",
                     len(late))
        found = [None if task.cancelled() else task.result() for task in tasks]
        matched: list[tuple[Movie, WatchedMovie]] = []
        left: list[WatchedMovie] = []
        added = 0
        full = False  # the guild's movie cap was reached: nothing more is added
        for seen, movie in zip(watched, found, strict=True):
            entry: Movie | None = None
            if movie is not None:
                entry, outcome = await self._catalog_entry(guild_id, movie, add=not full)
                added += outcome == "added"
                full = full or outcome == "full"
            if entry is None:
                left.append(seen)
            else:
                matched.append((entry, seen))
        return matched, left, added

    async def _find(self, seen: WatchedMovie) -> TmdbMovie | None:
        """The watched movie on TMDB, None if TMDB does not know it (remembered for
        TMDB_MISS_TTL) or failed (asked again next time)."""
        assert self.details is not None
        key = (seen.tmdb_id, seen.imdb_id, normalize(seen.title), seen.year)
        missed = self._tmdb_misses.get(key)
        if missed is not None and time.monotonic() - missed < TMDB_MISS_TTL:
            return None
        try:
            movie = await self.details.find_movie(tmdb_id=seen.tmdb_id, imdb_id=seen.imdb_id,
                                                  title=seen.title, year=seen.year)
        except TmdbUnavailable as error:
            log.info("TMDB lookup of a synced movie failed: %s", error)
            return None
        if movie is None:
            self._tmdb_misses.put(key, time.monotonic())
        return movie

    async def _catalog_entry(self, guild_id: int, movie: TmdbMovie, *,
                             add: bool) -> tuple[Movie | None, str]:
        """The guild's movie for a TMDB movie: one it already has (by TMDB id, IMDb id, title
        and year), else a new one of the guild's own (when `add`, within its movie cap).
        Returns (the movie or None, "found" | "added" | "full" (the cap) | "skipped")."""
        hit = (await self.storage.movies_by_tmdb(guild_id, {movie.tmdb_id})).get(movie.tmdb_id)
        if hit is None and movie.imdb_id:
            hit = (await self.storage.movies_by_imdb(guild_id, {movie.imdb_id})).get(
                movie.imdb_id)
        if hit is None:
            hit = pick_by_year((await self.storage.movies_by_title(
                guild_id, {normalize(movie.title)})).get(normalize(movie.title), []), movie.year)
        if hit is not None:
            if hit.tmdb_id is None or hit.imdb_id is None:  # the next sync matches it by id
                await self.storage.link_movie_ids(hit.id, movie.tmdb_id, movie.imdb_id)
            return hit, "found"
        if not add or movie.year is None:  # no release date: not in the catalog's terms
            return None, "skipped"
        try:
            new = await self.storage.add_movie(
                clean_title(movie.title, limit=MAX_TITLE_LENGTH), movie.year,
                canonical_genres(movie.genres), guild_id=guild_id, imdb_id=movie.imdb_id,
                tmdb_id=movie.tmdb_id, guild_cap=self.settings.limits.guild_movie_cap)
        except DuplicateMovieError as error:  # added meanwhile (or a look-alike title)
            return error.existing, "found"
        except GuildMovieCapError:
            log.info("guild=%s reached its movie cap: synced movies not added", guild_id)
            return None, "full"
        except (DomainError, ValueError) as error:
            log.info("a TMDB movie was not added: %s", error)
            return None, "skipped"
        log.info("added a synced movie from TMDB guild=%s tmdb=%s", guild_id, movie.tmdb_id)
        return new, "added"


def _label(seen: WatchedMovie) -> str:
    return f"{seen.title} ({seen.year})" if seen.year else seen.title


async def _tell(progress: Progress | None, phase: str, done: int, total: int) -> None:
    """Report a sync's progress; a failure to show it never stops the sync."""
    if progress is None:
        return
    try:
        await progress(phase, done, total)
    except Exception:
        log.warning("a sync's progress could not be shown", exc_info=True)
