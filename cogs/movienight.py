"""/movienight [voice] [members] [candidates]: the group's top picks and a vote, in public.

Attendees are the starter, everyone in `voice` (or the starter's own voice channel) and the
members mentioned in `members`, at most `MAX_ATTENDEES`: the cap is checked on the mentions
themselves, before any member is fetched, and the command defers (Discord's "thinking…")
before work that may take seconds (fetching members the bot has not cached, the picks). The
picks are movies none of the attendees rated; watchlisted ones are preferred
(`bot.service.movienight`).

The message is public, so it carries no private fact about a member: no watchlist counts
(the candidates are listed in the group's order), no count of watchlists the winner joined.
The winner goes only on the watchlists of those who took part by their own action (the
starter, who joined, who voted); `/forgetme` cancels a member's part in an open night.

* Ratings visible: the vote starts at once.
* Ratings hidden (`bot.service.privacy`): a public list of movies nobody in a group rated
  would tell who rated what, so first a **Join** message (`cogs.movienight_join`, stored and
  resumed after a restart like the vote): only the members who press Join (and the starter)
  count, and vote; the starter presses **Start the vote** when ready. The pattern of
  `/recommend group:`'s consent prompt (`cogs.ui.consent`), in public.

The vote: when the bot may send polls (Send Polls), a native Discord poll follows the list
(one answer per candidate, titles cut to Discord's 55 characters, `hours` long, default 1 h):
Discord holds the votes; at the end (End vote, the bot's timer, or Discord's own expiry) the
bot reads the poll's voters and counts the attendees' votes (others are said not to count). A
poll Discord refuses falls back to buttons. Without Send Polls: one button per candidate with
its live count (one vote per attendee, press another to change it), closing after `hours` or
`VOTE_SECONDS`. Either way **End vote** is for the starter, a tie goes to the group's score
(the result says so), and the result names the winner (nobody is pinged) and puts it on the
watchlists of those who took part.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.movie_nights import NightMember
from bot.domain.plural import plural
from bot.i18n import N_, _, speaking
from bot.service.gate import ShuttingDown
from bot.service.movienight import (
    MAX_CANDIDATES,
    MIN_CANDIDATES,
    Candidate,
    NightPicks,
)
from bot.service.sources import SourceUnavailable, joined_notes
from bot.service.tonight import Tonight
from cogs.errors import UserError
from cogs.movienight_events import EventPlan, NightEvents
from cogs.movienight_join import JOIN_SECONDS, MAX_ATTENDEES, JoinView, attach
from cogs.movienight_vote import (
    COLOUR,
    MAX_POLL_HOURS,
    POLL_ANSWER_MAX,
    POLL_EXPIRED,
    POLL_HOURS,
    VOTE_SECONDS,
    VoteButton,
    VoteView,
    poll_answer,
    result_text,
)
from cogs.ui.budgets import reads_a_lot
from cogs.ui.guild import guild_id_of
from cogs.ui.lookup import genre_choices
from cogs.ui.next_steps import first_ratings, with_prior_hint
from cogs.ui.options import InRange
from cogs.ui.text import NO_PINGS, safe
from cogs.ui.tonight import tonight_filters

__all__ = ["COLOUR", "JOIN_SECONDS", "MAX_ATTENDEES", "MAX_POLL_HOURS", "POLL_ANSWER_MAX",
           "POLL_EXPIRED", "POLL_HOURS", "VOTE_SECONDS", "JoinView", "MovieNight", "VoteButton",
           "VoteView", "poll_answer", "result_text"]

if TYPE_CHECKING:
    from bot.client import MovieBot

log = logging.getLogger(__name__)

DEFAULT_CANDIDATES = 4
CANDIDATES = InRange(MIN_CANDIDATES, MAX_CANDIDATES, N_("Vote on {low} to {high} movies."))
HOURS = InRange(1, MAX_POLL_HOURS, N_("A vote lasts {low} to {high} hours."))
MENTION_RE = re.compile(r"<@!?(\d{15,21})>")


async def _post(interaction: discord.Interaction, **fields: Any) -> discord.InteractionMessage:
    """Send the command's public answer, or put it in place of the deferred "thinking…"."""
    if interaction.response.is_done():
        return await interaction.edit_original_response(allowed_mentions=NO_PINGS, **fields)
    await interaction.response.send_message(allowed_mentions=NO_PINGS, **fields)
    return await interaction.original_response()


async def _refuse(interaction: discord.Interaction, text: str) -> None:
    """An ephemeral refusal after a public deferral: the "thinking…" message goes (it would
    show the refusal to everyone) and only the member sees why."""
    with contextlib.suppress(discord.HTTPException):
        await interaction.delete_original_response()
    await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)


class MovieNight(commands.Cog):
    """Planning a movie night together."""

    def __init__(self, bot: MovieBot) -> None:
        self.bot = bot
        self.vote_seconds = VOTE_SECONDS  # how long a button vote stays open (tests shorten it)
        self.events = NightEvents(bot)  # `when:`: winners as scheduled events, reminders
        self.poll_seconds: float | None = None  # tests: the bot ends its polls this soon
        self.open_votes: set[VoteView] = set()
        self.open_joins: set[JoinView] = set()  # Join messages (hidden ratings)
        self._resumed = False
        self.resumed = asyncio.Event()  # set once the stored votes are back (or failed)

    async def cog_unload(self) -> None:
        for view in self.open_votes:
            view.cancel()
        self.open_votes.clear()
        for join in self.open_joins:
            join.cancel()
        self.open_joins.clear()
        self.events.cancel()

    @app_commands.command(name="movienight",
                          description="Plan a movie night: the group's top picks and a vote")
    @app_commands.guild_only()
    @reads_a_lot
    @app_commands.describe(
        voice="Everyone in this voice channel is invited (default: your own voice channel)",
        members="Who else is invited: mention them, e.g. @alice @bob",
        candidates=f"How many movies to vote on ({MIN_CANDIDATES}-{MAX_CANDIDATES}, default "
                   f"{DEFAULT_CANDIDATES})",
        hours=f"How long the vote stays open, in hours (default {POLL_HOURS} for a Discord "
              "poll, 10 minutes for buttons)",
        when="Make the winner a server event at this time (server timezone), e.g. 20:30, "
             "tomorrow 20:30",
        where="The event's place outside Discord (default: the voice channel)",
        genre="Tonight: only movies of this genre",
        exclude_genre="Tonight: no movies of this genre",
        runtime_max="Tonight: at most this many minutes long (TMDB)",
        min_year="Tonight: released this year or later",
        max_year="Tonight: released this year or earlier",
        certification="Tonight: this age rating in the server's region, e.g. PG-13 (TMDB)",
        language="Tonight: original language, two letters, e.g. en, fr (TMDB)",
        source="Tonight: the media server's library, the server's streaming services, or any",
    )
    @app_commands.autocomplete(genre=genre_choices, exclude_genre=genre_choices)
    @app_commands.choices(source=[app_commands.Choice(name=name, value=name)
                                  for name in ("library", "streaming", "any")])
    async def movienight(self, interaction: discord.Interaction,
                         voice: discord.VoiceChannel | None = None,
                         members: str | None = None,
                         candidates: app_commands.Transform[int, CANDIDATES]
                         = DEFAULT_CANDIDATES,
                         hours: app_commands.Transform[int, HOURS] | None = None,
                         when: app_commands.Range[str, 1, 40] | None = None,
                         where: app_commands.Range[str, 1, 100] | None = None,
                         genre: str | None = None, exclude_genre: str | None = None,
                         runtime_max: app_commands.Range[int, 30, 600] | None = None,
                         min_year: app_commands.Range[int, 1870, 2100] | None = None,
                         max_year: app_commands.Range[int, 1870, 2100] | None = None,
                         certification: app_commands.Range[str, 1, 12] | None = None,
                         language: app_commands.Range[str, 2, 3] | None = None,
                         source: app_commands.Choice[str] | None = None,
                         ) -> None:
        guild = interaction.guild
        starter = interaction.user
        if guild is None or not isinstance(starter, discord.Member):
            raise app_commands.NoPrivateMessage()
        filters = tonight_filters(runtime_max, min_year, max_year, certification, language,
                                  exclude_genre)
        event = None
        if when is not None:
            event = await self.events.plan(interaction, when, voice, where, starter)
        elif where is not None:
            raise UserError(_("`where` is the event's place: give `when` too."))
        try:
            allowed, note = await self._allowed(interaction, genre, source, filters)
            await self._plan(interaction, starter, voice, members, candidates, hours, event,
                             allowed, note)
        except UserError as error:
            if not interaction.response.is_done():
                raise
            await _refuse(interaction, error.message)  # after a deferral: still only to them

    async def _plan(self, interaction: discord.Interaction, starter: discord.Member,
                    voice: discord.VoiceChannel | None, members: str | None,
                    candidates: int, hours: int | None = None,
                    event: EventPlan | None = None,
                    allowed: set[int] | None = None, note: str = "") -> None:
        guild_id = guild_id_of(interaction)
        invited = await self._invited(interaction, starter, voice, members)
        me = (starter.id, safe(starter.display_name, 40))
        nights = self.bot.app.movienight
        if await nights.ratings_hidden(guild_id):
            assert interaction.channel_id is not None
            view = JoinView(self, guild_id, me, invited, candidates, hours, event, allowed,
                            night_id=interaction.id, channel_id=interaction.channel_id,
                            note=note)
            view.message = await _post(interaction, content=view.prompt(), view=view)
            self._track(guild_id, view)
            await nights.save_join(view.stored())
            return
        if len(invited) < 2:
            raise UserError(_("A movie night needs at least two people: mention others in "
                              "`members`, or pick a voice channel with people in it."))
        await self.open_vote(interaction, me, invited, candidates, takers=frozenset({me[0]}),
                             hours=hours, event=event, allowed=allowed, note=note)

    @staticmethod
    async def _defer(interaction: discord.Interaction) -> None:
        if not interaction.response.is_done():
            await interaction.response.defer(thinking=True)

    def _track(self, guild_id: int, view: JoinView) -> None:
        self.open_joins = {v for v in self.open_joins if not v.finished}
        self.open_joins.add(view)
        self.bot.app.movienight.watch(guild_id, view)

    async def _allowed(self, interaction: discord.Interaction, genre: str | None,
                       source: app_commands.Choice[str] | None,
                       filters: Tonight) -> tuple[set[int] | None, str]:
        """The movies tonight's options leave (None: any), and what the members should know
        about them (movies whose TMDB details could not be checked: where they stream, their
        runtime, language or age rating)."""
        guild_id = guild_id_of(interaction)
        app = self.bot.app
        within = None
        note = ""
        if genre is not None and genre.strip():
            within = set((await app.catalog.genre_filter(guild_id, genre)).movie_ids)
        try:
            if source is not None and source.value == "streaming":
                await app.tonight.streaming_usable(guild_id)  # refused before any deferral
                await self._defer(interaction)  # TMDB lookups
            if source is not None and source.value != "any":
                narrowed = await app.sources.narrowed(guild_id, str(source.value), within)
                within, note = narrowed.ids, narrowed.note
            if not filters.empty:
                await app.tonight.usable(guild_id, filters)  # refused before any deferral
                if filters.needs_tmdb:
                    await self._defer(interaction)  # TMDB lookups
                found = await app.tonight.allowed(guild_id, filters, within)
                within, note = found.ids, joined_notes(note, found.note)
        except SourceUnavailable as error:
            raise UserError(safe(str(error), 1500)) from None
        return within, note

    async def _invited(self, interaction: discord.Interaction, starter: discord.Member,
                       voice: discord.VoiceChannel | None,
                       members: str | None) -> dict[int, str]:
        guild = interaction.guild
        assert guild is not None
        invited = {starter.id: safe(starter.display_name, 40)}
        if voice is None and members is None and starter.voice is not None:
            channel = starter.voice.channel
            voice = channel if isinstance(channel, discord.VoiceChannel) else None
        if voice is not None:
            if voice.guild.id != guild.id:
                raise UserError(_("Pick a voice channel of this server."))
            for present in voice.members:
                if not present.bot:
                    invited.setdefault(present.id, safe(present.display_name, 40))
        ids: list[int] = []
        if members is not None:
            ids = list(dict.fromkeys(int(i) for i in MENTION_RE.findall(members)))
            if not ids:
                raise UserError(_("Mention the members you invite in `members`, e.g. @alice "
                                  "@bob."))
        # The cap first, on what was typed: nobody is fetched for a night that cannot be.
        count = len(invited.keys() | set(ids))
        if count > MAX_ATTENDEES:
            raise UserError(_("A movie night is for at most {n} members (this one has "
                              "{count}).").format(n=MAX_ATTENDEES, count=count))
        missing = [uid for uid in ids if guild.get_member(uid) is None]
        fetched: dict[int, discord.Member | None] = {}
        if missing:
            if not interaction.response.is_done():  # fetches may take seconds
                await interaction.response.defer(thinking=True)
            found = await asyncio.gather(*(self._fetch(guild, uid) for uid in missing))
            fetched = dict(zip(missing, found, strict=True))
        for user_id in ids:
            member = guild.get_member(user_id) or fetched.get(user_id)
            if member is None:
                raise UserError(_("User {id} is not a member of this server.").format(
                    id=user_id))
            if member.bot:
                raise UserError(_("{name} is a bot; bots don't watch movies.").format(
                    name=safe(member.display_name, 60)))
            invited.setdefault(member.id, safe(member.display_name, 40))
        return invited

    @staticmethod
    async def _fetch(guild: discord.Guild, user_id: int) -> discord.Member | None:
        try:
            return await guild.fetch_member(user_id)
        except (discord.NotFound, discord.Forbidden):
            return None

    async def open_vote(self, interaction: discord.Interaction, starter: tuple[int, str],
                        attendees: dict[int, str], candidates: int, *,
                        joined: frozenset[int] = frozenset(), edit: bool = False,
                        takers: frozenset[int] = frozenset(), hours: int | None = None,
                        event: EventPlan | None = None,
                        allowed: set[int] | None = None, note: str = "") -> None:
        """Pick the candidates and post (or, after Join, turn the message into) the vote.
        `note`: what tonight's filters could not check, shown above the list.
        `takers`: who takes part already by their own action (see `Tally`). With Send Polls
        the vote is a native Discord poll sent after the list (`hours` long, default 1);
        without it, buttons (`hours`, or `vote_seconds`)."""
        guild_id = guild_id_of(interaction)
        if not interaction.response.is_done():  # the picks may wait for the model
            if edit:
                await interaction.response.defer()
            else:
                await interaction.response.defer(thinking=True)
        picks = await self.bot.app.movienight.candidates(
            guild_id, starter[0], list(attendees), n=candidates, joined=joined,
            allowed=allowed)
        if len(picks.candidates) < 2:
            text = with_prior_hint(
                first_ratings("a movie night") if not picks.guild_has_ratings else
                _("I found fewer than two movies that none of you has rated: rate more movies "
                  "with `/rate` (find titles with `/movies search`), or ask the others to."),
                picks.prior_installed)
            if note:
                text = (text + "\n" + note)[:2000]
            if edit:
                await interaction.edit_original_response(content=text, view=None,
                                                         allowed_mentions=NO_PINGS)
            else:
                await _refuse(interaction, text)
            return
        poll = interaction.app_permissions.send_polls and len(picks.candidates) <= 10
        if poll:
            poll_hours = hours or POLL_HOURS
            seconds = self.poll_seconds if self.poll_seconds is not None else poll_hours * 3600.0
        else:
            seconds = hours * 3600.0 if hours else self.vote_seconds
        assert interaction.channel_id is not None
        if event is not None and time.time() + seconds >= event.at:
            text = _("The vote would still be open when the movie starts: pick a later "
                     "`when` or fewer `hours`.")
            if edit:
                await interaction.edit_original_response(content=text, view=None,
                                                         allowed_mentions=NO_PINGS)
            else:
                await _refuse(interaction, text)
            return
        view = VoteView(self.bot, guild_id, starter, attendees, picks,
                        seconds=seconds, takers=takers, poll=poll, night_id=interaction.id,
                        channel_id=interaction.channel_id, event=event)
        self.open_votes = {v for v in self.open_votes if not v.closed}
        self.open_votes.add(view)
        self.bot.app.movienight.watch(guild_id, view)
        content = note[:2000] or None
        if edit:
            await interaction.edit_original_response(content=content, embed=view.embed(),
                                                     view=view, allowed_mentions=NO_PINGS)
            view.message = interaction.message
        else:
            view.message = await _post(interaction, content=content, embed=view.embed(),
                                       view=view)
        if poll:
            try:
                view.poll_message = await interaction.followup.send(
                    poll=view.poll(poll_hours), wait=True, allowed_mentions=NO_PINGS)
            except discord.HTTPException:  # Discord refused the poll: buttons, as without it
                log.warning("a movie-night poll was refused; voting with buttons instead "
                            "guild=%s", guild_id, exc_info=True)
                await self._to_buttons(interaction, view, hours)
                return
        await self.bot.app.movienight.save(view.stored())

    async def _to_buttons(self, interaction: discord.Interaction, view: VoteView,
                          hours: int | None) -> None:
        """Turn a vote whose poll could not be sent into a button vote on its message."""
        view.cancel()
        self.open_votes.discard(view)
        buttons = VoteView(self.bot, view.guild_id, (view.starter_id, view.starter_name),
                           view.attendees, view.picks, takers=frozenset(view.tally.takers),
                           seconds=hours * 3600.0 if hours else self.vote_seconds,
                           night_id=view.night_id, channel_id=view.channel_id,
                           event=view.event)
        buttons.message = view.message
        self.open_votes.add(buttons)
        self.bot.app.movienight.watch(view.guild_id, buttons)
        await interaction.edit_original_response(embed=buttons.embed(), view=buttons,
                                                 allowed_mentions=NO_PINGS)
        await self.bot.app.movienight.save(buttons.stored())

    # ------------------------------------------------------------------ restarts
    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """Once per start: resume the stored open votes (see `resume`)."""
        if self._resumed:
            return
        self._resumed = True
        try:
            resumed = await self.resume()
        except ShuttingDown:
            return
        except Exception:  # nobody to report to: log it
            log.exception("resuming the open movie-night votes failed")
            return
        finally:
            self.resumed.set()
        if resumed:
            log.info("resumed %s", plural(resumed, "open movie-night vote or Join message",
                                          "open movie-night votes or Join messages"))

    async def resume(self) -> int:
        """Re-attach the views of the votes and Join messages stored open (their buttons'
        custom ids are stable) and re-arm their timers; a vote whose time ran out while the
        bot was down closes now, with its result (a Join message expires). Returns how many
        were resumed."""
        nights = self.bot.app.movienight
        guild_ids = [guild.id for guild in self.bot.guilds]
        await self.events.resume(guild_ids)
        joins = await nights.joins(guild_ids)
        for stored_join in joins:
            join = JoinView.resumed(self, stored_join)
            attach(self.bot, join, stored_join)
            self._track(stored_join.guild_id, join)
        stored = await nights.resume(guild_ids)
        for night, movies in stored:
            # No interaction to speak for: the vote's own language (its starter's), or the
            # server's for a vote stored before the language was kept.
            language = night.language or (await nights.settings(night.guild_id)).language
            picks = NightPicks(tuple(Candidate(movies[c.movie_id], c.score, c.new_here)
                                     for c in night.candidates), night.personal, True)
            with speaking(language):
                starter = night.starter or NightMember(0, _("the starter"))
            view = VoteView(
                self.bot, night.guild_id, (starter.user_id, starter.name),
                {m.user_id: m.name for m in night.members}, picks,
                seconds=night.closes_at - time.time(),
                takers=frozenset(m.user_id for m in night.members if m.took_part),
                poll=night.is_poll, night_id=night.id, channel_id=night.channel_id,
                votes={m.user_id: m.vote for m in night.members if m.vote is not None},
                event=None if night.event_at is None else EventPlan(
                    night.event_at, night.event_channel_id, night.event_location),
                language=language)
            view.closes_at = night.closes_at
            channel = self.bot.get_partial_messageable(night.channel_id,
                                                       guild_id=night.guild_id)
            if night.message_id is not None:
                view.message = channel.get_partial_message(night.message_id)
                self.bot.add_view(view, message_id=night.message_id)
            if night.poll_message_id is not None:
                view.poll_message = channel.get_partial_message(night.poll_message_id)
            self.open_votes.add(view)
            nights.watch(night.guild_id, view)
        return len(stored) + len(joins)


async def setup(bot: MovieBot) -> None:
    await bot.add_cog(MovieNight(bot))
