"""Movie nights as Discord scheduled events (`/movienight when:`), with RSVP and a reminder.

* `plan` (at the command): the bot needs Manage Events (or Create Events), else the member is
  told what to grant; `when` is read in the server's `/settings timezone` (`parse_when`); the
  event goes to a voice channel (`voice:`, or the starter's) or, with `where:` or without a
  voice channel, to a place outside Discord.
* `create` (when the vote closes with a winner): a scheduled event named after the winner, its
  TMDB poster as the cover when TMDB is configured, ending after the movie's runtime (TMDB;
  else 2.5 h) plus half an hour. The event is stored until its reminder (restart-safe).
* `remind` (`/settings reminder_minutes` before the start; at the start when 0): the members
  marked "Interested" on Discord are the attendees: the winner goes on their watchlists (and
  only theirs), and the channel gets a reminder naming them (nobody is pinged). Who is
  interested is Discord's list, read then (the bot keeps no RSVP list); a member who ran
  `/forgetme` after the event was made is left out of both, though Discord may still list
  them (`MovieNightService.skipped`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import discord

from bot.domain.errors import DomainError
from bot.domain.models import Movie
from bot.domain.movie_nights import NightEvent
from bot.domain.night_time import parse_when
from bot.domain.places import zone
from bot.i18n import N_, _, ngettext, number, speaking
from bot.service.gate import ShuttingDown
from cogs.errors import UserError
from cogs.ui.guild import guild_id_of
from cogs.ui.text import NO_PINGS, movie_label, safe

if TYPE_CHECKING:
    from bot.client import MovieBot

log = logging.getLogger(__name__)

NEED_EVENTS = N_("To make the movie night a server event I need **Manage Events**: a server "
                 "admin can give it to my role (Server Settings > Roles > my role > Manage "
                 "Events), or invite me again with `python -m bot invite`'s link.")
COULD_NOT = N_("I could not make it a server event: I need **Manage Events**. A server admin "
               "can give it to my role (Server Settings > Roles > my role > Manage Events), or "
               "invite me again with `python -m bot invite`'s link.")
DEFAULT_RUNTIME = 150  # minutes, when TMDB does not know the movie's runtime
POSTER_WAIT = 5.0  # seconds to wait for a cover poster


@dataclass(frozen=True, slots=True)
class EventPlan:
    """Where and when the winner is watched."""

    at: float  # epoch seconds
    channel_id: int | None  # a voice channel, or
    location: str | None  # a place outside Discord


def event_name(movie: Movie) -> str:
    return _("Movie night: {movie}").format(movie=movie.label)[:100]


class NightEvents:
    """The events of one bot (see the module docstring); the movie-night cog owns it."""

    def __init__(self, bot: MovieBot) -> None:
        self.bot = bot
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------------ the command
    async def plan(self, interaction: discord.Interaction, when: str,
                   voice: discord.VoiceChannel | None, where: str | None,
                   starter: discord.Member) -> EventPlan:
        """The event a `/movienight when:` asks for; UserError when the bot may not create
        events or the time is not usable."""
        perms = interaction.app_permissions
        if not (perms.manage_events or perms.create_events):
            raise UserError(_(NEED_EVENTS))
        guild_id = guild_id_of(interaction)
        settings = await self.bot.app.movienight.settings(guild_id)
        try:
            start = parse_when(when, zone(settings.timezone))
        except DomainError as error:
            raise UserError(str(error)) from error
        if voice is None and where is None and starter.voice is not None and \
                isinstance(starter.voice.channel, discord.VoiceChannel):
            voice = starter.voice.channel
        if voice is not None and where is None:
            return EventPlan(start.timestamp(), voice.id, None)
        place = " ".join((where or "").split())
        if not place:
            channel = interaction.channel
            place = "#" + str(getattr(channel, "name", None) or _("the movie-night channel"))
        return EventPlan(start.timestamp(), None, place[:100])

    # ------------------------------------------------------------------ the winner
    async def create(self, guild_id: int, channel_id: int, movie: Movie,
                     plan: EventPlan) -> str:
        """Create the winner's event; returns the sentence the result adds."""
        guild = self.bot.get_guild(guild_id)
        if guild is None:
            return ""
        start = datetime.fromtimestamp(plan.at, UTC)
        if start <= datetime.now(UTC):
            return " " + _("The planned start has passed, so I made no event.")
        details = self.bot.app.details
        runtime, cover = DEFAULT_RUNTIME, None
        if details.enabled:
            found = await details.get(movie)
            if found is not None and found.runtime:
                runtime = found.runtime
            cover = (await details.posters([movie], budget=POSTER_WAIT)).get(movie.id)
        kwargs: dict[str, Any] = {
            "name": event_name(movie), "start_time": start,
            "privacy_level": discord.PrivacyLevel.guild_only,
            "description": _("Picked by the movie-night vote. Press Interested: the movie goes "
                             "on the watchlists of those interested.")}
        if cover is not None:
            kwargs["image"] = cover
        voice = guild.get_channel(plan.channel_id) if plan.channel_id else None
        if isinstance(voice, discord.VoiceChannel | discord.StageChannel):
            kwargs["channel"] = voice
        else:
            kwargs.update(entity_type=discord.EntityType.external,
                          location=plan.location or _("See the movie-night message"),
                          end_time=start + timedelta(minutes=runtime + 30))
        try:
            event = await guild.create_scheduled_event(**kwargs)
        except discord.Forbidden:
            return " " + _(COULD_NOT)
        except discord.HTTPException as error:
            log.warning("creating a movie-night event failed guild=%s: %s", guild_id, error)
            return " " + _("I could not create the server event (Discord refused it).")
        settings = await self.bot.app.movienight.settings(guild_id)
        minutes = settings.reminder_minutes
        remind_at = max(time.time(), plan.at - minutes * 60) if minutes else plan.at
        stored = NightEvent(guild_id, event.id, movie.id, channel_id, plan.at, remind_at)
        await self.bot.app.movienight.save_event(stored)
        self.arm(stored)
        if minutes:
            text = ngettext("It is a server event now: {url}. Press **Interested** there: the "
                            "movie goes on the watchlists of those interested, and I post a "
                            "reminder {n} minute before.",
                            "It is a server event now: {url}. Press **Interested** there: the "
                            "movie goes on the watchlists of those interested, and I post a "
                            "reminder {n} minutes before.", minutes)
        else:
            text = _("It is a server event now: {url}. Press **Interested** there: the movie "
                     "goes on the watchlists of those interested.")
        return " " + text.format(url=event.url, n=number(minutes))

    # ------------------------------------------------------------------ reminders
    def arm(self, event: NightEvent) -> None:
        """Run `remind` at the event's reminder time (at once if it has passed)."""
        old = self._timers.pop(event.event_id, None)
        if old is not None:
            old.cancel()
        delay = max(0.0, event.remind_at - time.time())
        self._timers[event.event_id] = asyncio.get_running_loop().call_later(
            delay, self._fire, event)

    def _fire(self, event: NightEvent) -> None:
        self._timers.pop(event.event_id, None)
        task = asyncio.ensure_future(self._remind_logged(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _remind_logged(self, event: NightEvent) -> None:
        try:
            await self.remind(event)
        except ShuttingDown:
            log.info("a movie-night reminder was due at shutdown guild=%s", event.guild_id)
        except Exception:  # a timer has nobody to report to
            log.exception("a movie-night reminder failed guild=%s", event.guild_id)

    async def remind(self, event: NightEvent) -> int:
        """The interested members get the winner on their watchlists; the channel gets the
        reminder. Returns how many members were interested."""
        nights = self.bot.app.movienight
        guild = self.bot.get_guild(event.guild_id)
        if guild is None:
            return 0
        try:
            found = await guild.fetch_scheduled_event(event.event_id)
        except discord.NotFound:  # deleted: nothing to remind of
            await nights.event_done(event.guild_id, event.event_id)
            return 0
        if found.status in (discord.EventStatus.cancelled, discord.EventStatus.completed):
            await nights.event_done(event.guild_id, event.event_id)
            return 0
        skipped = await nights.skipped(event.guild_id, event.event_id)
        people = [user async for user in found.users()
                  if not user.bot and user.id not in skipped]
        movie = await nights.movie(event.guild_id, event.movie_id)
        if movie is not None and people:
            await nights.attend(event.guild_id, [u.id for u in people], movie,
                                event_id=event.event_id)
        if movie is not None and event.remind_at < event.starts_at:
            # No interaction here (a timer, maybe after a restart): the server's language.
            with speaking((await nights.settings(event.guild_id)).language):
                names = (", ".join(safe(u.display_name, 40) for u in people[:25])
                         or _("nobody yet"))
                more = (" " + _("and {n} more").format(n=number(len(people) - 25))
                        if len(people) > 25 else "")
                text = "🍿 " + _("Movie night {when}: **{movie}** ({url}). Interested: "
                                "{names}").format(when=f"<t:{int(event.starts_at)}:R>",
                                                  movie=movie_label(movie), url=found.url,
                                                  names=names + more)
                text += (" — " + _("it is on your watchlists now.") if people else ".")
            channel = self.bot.get_partial_messageable(event.channel_id,
                                                       guild_id=event.guild_id)
            with contextlib.suppress(discord.HTTPException):
                await channel.send(text[:2000], allowed_mentions=NO_PINGS)
        await nights.event_done(event.guild_id, event.event_id)
        return len(people)

    async def resume(self, guild_ids: list[int]) -> int:
        events = await self.bot.app.movienight.events(guild_ids)
        for event in events:
            self.arm(event)
        return len(events)

    def cancel(self) -> None:
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
