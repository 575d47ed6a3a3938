"""Services: the application layer the cogs talk to, opened and closed as one.

`await Services.open(settings)` opens storage (migrations, starter catalog) and builds the
recommendation service and the per-concern services on top, all sharing one shutdown `Gate`.
Cogs parse an interaction, make one call on one of these, and render the result; they never
touch storage. `close(grace)` refuses new calls, waits (bounded) for running ones — commands,
buttons, selects and forms alike — then stops training and closes the database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot.config import Settings
from bot.domain.plural import plural
from bot.service.buckets import MemberBudgets
from bot.service.catalog import CatalogService
from bot.service.checklist import SetupService
from bot.service.details import DetailsService
from bot.service.gate import Gate
from bot.service.guild_settings import SettingsService
from bot.service.guilds import GuildLifecycle
from bot.service.imports import ImportService
from bot.service.library import LibraryService
from bot.service.media import MediaService
from bot.service.member_data import MemberDataRegistry, MemberTable
from bot.service.movie_pages import MoviePagesService
from bot.service.movienight import MovieNightService
from bot.service.not_interested import NotInterestedService
from bot.service.notify import NotifyService
from bot.service.picks import PicksService
from bot.service.pictures import PictureService
from bot.service.privacy import GroupPicks
from bot.service.ratings import RatingService
from bot.service.ratings_list import RatingsListService
from bot.service.requests import RequestService
from bot.service.service import RecommendationService
from bot.service.sources import PickSources
from bot.service.tonight import TonightService
from bot.service.watchlist import WatchlistService
from bot.storage import Storage, open_storage

log = logging.getLogger(__name__)


@dataclass
class Services:
    storage: Storage
    gate: Gate
    recommendations: RecommendationService
    catalog: CatalogService
    ratings: RatingService
    settings: SettingsService
    guilds: GuildLifecycle
    groups: GroupPicks  # movie-night picks under the consent rule (bot.service.privacy)
    imports: ImportService  # /import: preview, then one transaction
    watchlist: WatchlistService
    not_interested: NotInterestedService  # picks a member hid ("Not interested")
    ratings_list: RatingsListService  # /ratings' one call: count, hidden picks, summary
    # every kind of per-member data, registered by its service: /forgetme, /export, purge
    member_data: MemberDataRegistry
    movienight: MovieNightService
    details: DetailsService  # TMDB posters and details; off without [tmdb] api_key
    pictures: PictureService  # /taste, charts, summary and picks card (drawn off the loop)
    movie_pages: MoviePagesService  # /movies info and top: one call each
    picks: PicksService  # /recommend's one call: picks, watchlist marks, card, TMDB details
    checklist: SetupService  # /setup: what is configured and what is missing
    media: MediaService  # linked Jellyfin/Plex/Trakt/Letterboxd accounts and their sync
    library: LibraryService  # what the media server has (read periodically)
    sources: PickSources  # /recommend source:library|streaming|any
    tonight: TonightService  # tonight's filters and where to watch
    requests: RequestService  # Seerr requests, one per movie
    notify: NotifyService  # "now available" DMs, opt-in
    # per-member token buckets for autocomplete and commands that read a lot
    budgets: MemberBudgets = field(default_factory=MemberBudgets.unlimited)

    @classmethod
    def build(cls, storage: Storage, settings: Settings, *,
              recommendations: RecommendationService | None = None) -> Services:
        """The services over an open `storage` (tests and the console pass their own)."""
        # One shutdown gate for every service: the recommendation service's (a caller's own
        # service brings its gate along).
        recs = recommendations or RecommendationService(storage, settings, gate=Gate())
        gate = recs.gate
        groups = GroupPicks(storage, recs, gate)
        details = DetailsService.from_settings(storage, gate, settings.tmdb)
        pictures = PictureService(storage, recs, gate,  # drops a guild's pictures on a forget
                                  posters=details if details.enabled else None)
        member_data = MemberDataRegistry(storage, gate)  # the services register their kinds
        ratings = RatingService(storage, recs, gate, member_data)
        movienight = MovieNightService(storage, groups, gate, member_data)  # votes drop forgotten
        media = MediaService(storage, settings, recs, gate, member_data,  # links, history
                             ratings=ratings, details=details)  # TMDB adds unknown movies
        guilds = GuildLifecycle(storage, settings, recs, gate, member_data)
        if media.box.note:
            log.warning("%s", media.box.note)
        watchlist = WatchlistService(storage, gate, member_data)
        library = LibraryService(storage, settings, gate, media.clients)
        sources = PickSources(library)
        tonight = TonightService(storage, gate, details)  # filters, where to watch
        sources.streaming = tonight.streaming
        movienight.tonight = tonight
        requests = RequestService(storage, settings, gate, clients=media.clients)
        notify = NotifyService(storage, gate, member_data)  # opt-ins and notices sent
        library.added_listeners.append(notify.library_added)
        not_interested = NotInterestedService(storage, gate, member_data)
        catalog = CatalogService(storage, settings, recs, gate)
        return cls(
            storage=storage,
            gate=gate,
            recommendations=recs,
            catalog=catalog,
            ratings=ratings,
            settings=SettingsService(storage, recs, gate),
            guilds=guilds,
            groups=groups,
            imports=ImportService(storage, recs, gate),
            watchlist=watchlist,
            not_interested=not_interested,
            ratings_list=RatingsListService(ratings, not_interested, pictures),
            member_data=member_data,
            movienight=movienight,
            details=details,
            pictures=pictures,
            movie_pages=MoviePagesService(catalog, details, pictures),
            picks=PicksService(recs, watchlist, pictures, details, sources, requests,
                               tonight),
            tonight=tonight,
            checklist=SetupService(storage, settings, gate),
            media=media,
            library=library,
            sources=sources,
            requests=requests,
            notify=notify,
            budgets=MemberBudgets.from_settings(settings.limits),
        )

    @classmethod
    async def open(cls, settings: Settings) -> Services:
        from bot.catalog.starter import ensure_starter_catalog

        storage = await open_storage(settings)  # PostgreSQL when a URL is set, else SQLite
        try:
            added = await ensure_starter_catalog(storage)
            if added:
                log.info("loaded the starter catalog: %s", plural(added, "movie"))
            services = cls.build(storage, settings)
            await services.recommendations.start()
        except BaseException:
            await storage.close()
            raise
        return services

    async def close(self, grace: float) -> None:
        """Refuse new calls, let running ones finish (at most `grace` s), stop training,
        close the database."""
        left = await self.gate.drain(grace)
        if left:
            log.warning("closing with %s still running", plural(left, "service call"))
        await self.recommendations.close()
        await self.details.close()
        await self.media.close()  # the media clients, Seerr's too
        self.pictures.close()
        self.imports.close()
        await self.storage.close()


def member_tables(storage: Storage, settings: Settings | None = None
                  ) -> tuple[MemberTable, ...]:
    """The member tables the services register, for tools that run no bot (`python -m bot
    purge`, `db copy`): the services are built over `storage` for their registry (nothing
    starts, nothing is left to close but the storage)."""
    if settings is None:
        from bot.config import default_settings

        settings = default_settings()
    return Services.build(storage, settings).member_data.tables()
