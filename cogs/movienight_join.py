"""The movie night's Join message (`/movienight` while ratings are hidden; see `cogs.movienight`
for the rules): only the members who press **Join** (and the starter) count; the starter
presses **Start the vote** when ready, and the message turns into the vote. It expires after
`JOIN_SECONDS` without a vote.

Restart-safe like the vote: `JoinView.stored` is what `bot.service.movienight` keeps (saved at
once and on every Join, dropped when the vote starts or the message expires); its buttons'
custom ids are stable (`movienight-join:<night id>:join|start`), so a restarted bot re-attaches
the view (`JoinView.resumed`) and re-arms its expiry, and members who joined before and after
the restart all count.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

import discord

from bot.domain.movie_nights import NightMember, StoredJoin
from bot.i18n import N_, _, current, speaking
from bot.service.gate import ShuttingDown
from cogs.errors import report_failure, send_ephemeral
from cogs.movienight_events import EventPlan
from cogs.movienight_vote import attendee_names, redraw_failed
from cogs.ui.text import NO_PINGS, safe
from cogs.ui.timeouts import end_quietly

if TYPE_CHECKING:
    from bot.client import MovieBot
    from cogs.movienight import MovieNight

log = logging.getLogger("cogs.movienight")

JOIN_SECONDS = 600.0  # the Join message (hidden ratings) expires after this
MAX_ATTENDEES = 25


class JoinView(discord.ui.View):
    """Hidden ratings: who counts is who presses Join; the starter starts the vote."""

    def __init__(self, cog: MovieNight, guild_id: int, starter: tuple[int, str],
                 invited: dict[int, str], candidates: int, hours: int | None = None,
                 event: EventPlan | None = None, allowed: set[int] | None = None, *,
                 night_id: int, channel_id: int, joined: dict[int, str] | None = None,
                 expires_at: float | None = None, language: str | None = None,
                 note: str = "") -> None:
        """`night_id` (the /movienight interaction's id) makes the custom ids stable;
        `joined`, `expires_at` and `language` are given when a stored Join message resumes.
        `note`: what tonight's filters could not check (shown, and on the vote; not stored)."""
        super().__init__(timeout=None)
        self.language = language or current()  # the public prompt's, whoever presses Join
        with speaking(self.language):
            self.join.label, self.start.label = _("Join"), _("Start the vote")
        self.join.custom_id = f"movienight-join:{night_id}:join"
        self.start.custom_id = f"movienight-join:{night_id}:start"
        self.night_id = night_id
        self.channel_id = channel_id
        self.hours = hours
        self.event = event
        self.allowed = allowed
        self.cog = cog
        self.guild_id = guild_id
        self.starter_id, self.starter_name = starter
        self.invited = dict(invited)
        self.joined: dict[int, str] = {self.starter_id: self.starter_name}
        self.joined.update(joined or {})
        self.candidates = candidates
        self.note = note
        self.message: discord.PartialMessage | discord.InteractionMessage | None = None
        self.finished = False
        self._redraws: set[asyncio.Future[Any]] = set()
        self.nights = cog.bot.app.movienight  # kept: `bot.app` refuses once shutdown begins
        self.expires_at = time.time() + JOIN_SECONDS if expires_at is None else expires_at
        self._expiring: asyncio.Task[None] | None = None
        self._timer = asyncio.get_running_loop().call_later(
            max(self.expires_at - time.time(), 0.0), self._fire)

    @classmethod
    def resumed(cls, cog: MovieNight, stored: StoredJoin) -> JoinView:
        """The view of a stored Join message (its message re-attached by the caller)."""
        with speaking(stored.language):
            starter = stored.starter or NightMember(0, _("the starter"), starter=True)
        event = None if stored.event_at is None else EventPlan(
            stored.event_at, stored.event_channel_id, stored.event_location)
        return cls(cog, stored.guild_id, (starter.user_id, starter.name),
                   {m.user_id: m.name for m in stored.members}, stored.candidates,
                   stored.hours, event, None if stored.allowed is None else set(stored.allowed),
                   night_id=stored.id, channel_id=stored.channel_id,
                   joined={m.user_id: m.name for m in stored.members if m.took_part},
                   expires_at=stored.expires_at, language=stored.language)

    def stored(self) -> StoredJoin:
        """What a restart needs to resume this Join message."""
        members = {uid: name for uid, name in self.invited.items()}
        members.update(self.joined)
        return StoredJoin(
            id=self.night_id, guild_id=self.guild_id, channel_id=self.channel_id,
            message_id=self.message.id if self.message is not None else None,
            candidates=self.candidates, hours=self.hours, expires_at=self.expires_at,
            members=tuple(NightMember(uid, name, starter=uid == self.starter_id,
                                      took_part=uid in self.joined)
                          for uid, name in members.items()),
            event_at=self.event.at if self.event else None,
            event_channel_id=self.event.channel_id if self.event else None,
            event_location=self.event.location if self.event else None,
            allowed=None if self.allowed is None else frozenset(self.allowed),
            language=self.language)

    def prompt(self) -> str:
        with speaking(self.language):
            invited = [n for uid, n in self.invited.items() if uid not in self.joined]
            text = _("A movie night, planned by **{starter}**. This server keeps ratings "
                     "private, so only those who press **{join}** count: the picks will leave "
                     "out every movie you rated (nobody sees your scores), and you get a vote. "
                     "Only {starter} can press **{start}**, once everyone is in.").format(
                starter=self.starter_name, join=_("Join"), start=_("Start the vote"))
            text += "\n" + _("Joined: {names}").format(names=attendee_names(self.joined))
            if invited:
                text += "\n" + _("Invited: {names}").format(names=", ".join(invited))
            if self.note:
                text += "\n" + self.note
            return text[:2000]

    def _close(self) -> None:
        self.finished = True
        self._timer.cancel()
        for item in self.children:
            if isinstance(item, discord.ui.Button):
                item.disabled = True
        self.stop()
        self.nights.unwatch(self.guild_id, self)

    def cancel(self) -> None:
        """Stop the timer (the cog is unloading): the Join message stays as it is (stored)."""
        self._timer.cancel()
        self.stop()
        self.nights.unwatch(self.guild_id, self)

    def forget(self, member_id: int) -> None:
        """/forgetme: the member is no longer joined (nor listed as invited); their stored
        rows go with the rest of their member data."""
        if self.finished or (member_id not in self.joined and member_id not in self.invited):
            return
        self.joined.pop(member_id, None)
        self.invited.pop(member_id, None)
        message = self.message
        if message is not None:
            task = asyncio.ensure_future(end_quietly(self.cog.bot, lambda: message.edit(
                content=self.prompt(), view=self, allowed_mentions=NO_PINGS)))
            self._redraws.add(task)
            task.add_done_callback(self._redraws.discard)
            task.add_done_callback(redraw_failed)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if self.finished:
            await send_ephemeral(interaction, _("This movie night has already started or ended."))
            return False
        return True

    @discord.ui.button(label=N_("Join"), style=discord.ButtonStyle.success)
    async def join(self, interaction: discord.Interaction,
                   button: discord.ui.Button[JoinView]) -> None:
        if interaction.user.bot:
            return
        if len(self.joined) >= MAX_ATTENDEES and interaction.user.id not in self.joined:
            await send_ephemeral(interaction, _("A movie night is for at most {n} members.")
                                 .format(n=MAX_ATTENDEES))
            return
        self.joined[interaction.user.id] = safe(interaction.user.display_name, 40)
        await self.nights.save_join(self.stored())  # stored before it shows: restart-safe
        await interaction.response.edit_message(content=self.prompt(), view=self,
                                                allowed_mentions=NO_PINGS)

    @discord.ui.button(label=N_("Start the vote"), style=discord.ButtonStyle.primary)
    async def start(self, interaction: discord.Interaction,
                    button: discord.ui.Button[JoinView]) -> None:
        if interaction.user.id != self.starter_id:
            await send_ephemeral(interaction, _("Only {starter} can start the vote.").format(
                starter=self.starter_name))
            return
        if len(self.joined) < 2:
            await send_ephemeral(interaction, _("Wait until at least one more member joined."))
            return
        self._close()
        # Dropped first: a restart must not bring back Join buttons on what becomes the vote.
        await self.nights.join_done(self.guild_id, self.night_id)
        await self.cog.open_vote(interaction, (self.starter_id, self.starter_name),
                                 self.joined, self.candidates,
                                 joined=frozenset(self.joined), edit=True,
                                 takers=frozenset(self.joined), hours=self.hours,
                                 event=self.event, allowed=self.allowed, note=self.note)

    def _fire(self) -> None:
        self._expiring = asyncio.ensure_future(self._expire())

    async def _expire(self) -> None:
        try:
            await self.on_timeout()
        except Exception:  # a timer has nobody to report to: log it
            log.exception("ending a movie night's Join message failed")

    async def on_timeout(self) -> None:
        if self.finished:
            return
        self._close()
        try:
            await self.nights.join_done(self.guild_id, self.night_id)
        except ShuttingDown:  # still stored: the next start ends it
            log.info("a movie night's Join message expired at shutdown guild=%s",
                     self.guild_id)
        message = self.message
        if message is not None:
            with speaking(self.language):
                text = _("This movie night expired before its vote started. Nobody's ratings "
                         "were used.")
            await end_quietly(self.cog.bot, lambda: message.edit(
                content=text, view=self, allowed_mentions=NO_PINGS))

    async def on_error(self, interaction: discord.Interaction, error: Exception,
                       item: discord.ui.Item[Any]) -> None:
        await report_failure(interaction, error)


def attach(bot: MovieBot, view: JoinView, stored: StoredJoin) -> None:
    """Re-attach a resumed Join message's view to its message."""
    channel = bot.get_partial_messageable(stored.channel_id, guild_id=stored.guild_id)
    if stored.message_id is not None:
        view.message = channel.get_partial_message(stored.message_id)
        bot.add_view(view, message_id=stored.message_id)
