"""The movie-night vote (`/movienight`): the public message with its candidates, the native
Discord poll or the buttons that count the attendees' votes, and the close that names the
winner and puts it on the watchlists of those who took part (see `cogs.movienight` for the
rules). Vote messages survive restarts: `VoteView.stored` is what `bot.service.movienight`
keeps."""

from __future__ import annotations

import asyncio
import datetime
import logging
import time
from typing import TYPE_CHECKING, Any

import discord

from bot.domain.genres import shown_genres
from bot.domain.models import Movie
from bot.domain.movie_nights import NightCandidate, NightMember, StoredNight
from bot.domain.watch import JUSTWATCH
from bot.i18n import _, current, ngettext, number, speaking
from bot.service.gate import ShuttingDown
from bot.service.movienight import NightPicks, Tally
from cogs.errors import report_failure, send_ephemeral
from cogs.movienight_events import EventPlan, NightEvents
from cogs.ui.text import NEW_HERE, NO_PINGS, movie_label, safe, stars, strip_controls
from cogs.ui.timeouts import end_quietly

if TYPE_CHECKING:
    from bot.client import MovieBot

log = logging.getLogger("cogs.movienight")  # the vote's lines, as before the split

VOTE_SECONDS = 600.0  # a button vote closes by itself this long after it opened
POLL_HOURS = 1  # a native poll's default duration (Discord counts whole hours, 1-768)
MAX_POLL_HOURS = 768
POLL_ANSWER_MAX = 55  # Discord's limit on a poll answer's text
POLL_EXPIRED = 520001  # Discord's error code: the poll has ended already
COLOUR = discord.Colour.gold()


def attendee_names(members: dict[int, str]) -> str:
    return ", ".join(members.values()) or _("nobody yet")


def redraw_failed(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("redrawing a movie night message failed", exc_info=task.exception())


def poll_answer(movie: Movie) -> str:
    """A poll answer: the plain 'Title (Year)', cut to Discord's 55 characters."""
    label = strip_controls(movie.label)
    return label if len(label) <= POLL_ANSWER_MAX else label[:POLL_ANSWER_MAX - 1] + "…"


def result_text(picks: NightPicks, tally: Tally, winner_index: int, *,
                event: bool = False) -> str:
    """The winner with its votes; on a tie, which movies tied and that the group's score
    decided. With an `event`, the watchlists are those of the event's interested members."""
    winner = picks.candidates[winner_index].movie
    votes = tally.counts()[winner_index]
    text = "🎬 " + ngettext("Movie night pick: **{movie}** with {n} vote.",
                           "Movie night pick: **{movie}** with {n} votes.", votes).format(
        movie=movie_label(winner), n=number(votes))
    if not event:
        text += " " + _("It goes on the watchlists of those who took part.")
    tied = tally.tied()
    if len(tied) > 1:
        others = ", ".join(f"**{movie_label(picks.candidates[i].movie, 80)}**"
                           for i in tied if i != winner_index)
        text += " " + _("It tied with {others}; the group's score ({score}) broke the "
                        "tie.").format(others=others,
                                       score=stars(round(picks.candidates[winner_index].score,
                                                         1)))
    return text


class VoteButton(discord.ui.Button["VoteView"]):
    def __init__(self, index: int, label: str, night_id: int) -> None:
        super().__init__(style=discord.ButtonStyle.primary, label=label[:80], row=index // 5,
                         custom_id=f"movienight:{night_id}:{index}")
        self.index = index

    async def callback(self, interaction: discord.Interaction) -> None:
        assert self.view is not None
        await self.view.vote(interaction, self.index)


class VoteView(discord.ui.View):
    """The vote under a movie night message (see the module docstring)."""

    def __init__(self, bot: MovieBot, guild_id: int, starter: tuple[int, str],
                 attendees: dict[int, str], picks: NightPicks, *,
                 seconds: float | None = None, takers: frozenset[int] = frozenset(),
                 poll: bool = False, night_id: int, channel_id: int,
                 votes: dict[int, int] | None = None, event: EventPlan | None = None,
                 language: str | None = None) -> None:
        """`takers`: who takes part already by their own action (the starter; who joined).
        `poll`: the vote is a native Discord poll (sent after this message, `poll_message`);
        this view then only holds End vote. `night_id` makes the buttons' custom ids stable
        (a restarted bot re-attaches the view); `votes`: button votes restored; `language`:
        the public message's (default: the interaction's; a restored vote has no interaction
        and passes the one stored with it)."""
        seconds = VOTE_SECONDS if seconds is None else seconds
        super().__init__(timeout=None)
        # The public message stays in the starter's language whoever votes (a member's own
        # language is for what only they see).
        self.language = language or current()
        self.night_id = night_id
        self.channel_id = channel_id
        self.event = event  # `when:`: the winner becomes a scheduled event
        self.is_poll = poll
        self.poll_message: discord.PartialMessage | discord.Message | None = None
        self.bot = bot
        self.guild_id = guild_id
        self.starter_id, self.starter_name = starter
        self.attendees = dict(attendees)
        self.picks = picks
        self.tally = Tally(len(picks.candidates), set(attendees), takers=set(takers),
                           scores=[c.score for c in picks.candidates])
        for member_id, index in (votes or {}).items():
            if member_id in self.tally.voters and 0 <= index < len(picks.candidates):
                self.tally.votes[member_id] = index
        self.nights = bot.app.movienight  # kept: `bot.app` refuses once shutdown begins
        self._redraws: set[asyncio.Future[Any]] = set()
        self.closes_at = time.time() + seconds
        self.message: discord.PartialMessage | discord.InteractionMessage | None = None
        self.closed = False
        self.buttons = [] if poll else [VoteButton(i, "", night_id)
                                        for i in range(len(picks.candidates))]
        for button in self.buttons:
            self.add_item(button)
        with speaking(self.language):
            end_label = _("End vote")
        end: discord.ui.Button[VoteView] = discord.ui.Button(
            label=end_label, style=discord.ButtonStyle.danger, row=len(self.buttons) // 5 + 1,
            custom_id=f"movienight:{night_id}:end")
        end.callback = self.end  # type: ignore[method-assign]
        self.add_item(end)
        self._label()
        self._closing: asyncio.Task[None] | None = None
        self._timer = asyncio.get_running_loop().call_later(max(seconds, 0.0), self._fire)

    def stored(self) -> StoredNight:
        """What a restart needs to resume this vote."""
        members = tuple(
            NightMember(uid, name, starter=uid == self.starter_id,
                        took_part=uid in self.tally.takers, vote=self.tally.votes.get(uid))
            for uid, name in self.attendees.items())
        return StoredNight(
            id=self.night_id, guild_id=self.guild_id, channel_id=self.channel_id,
            message_id=self.message.id if self.message is not None else None,
            poll_message_id=self.poll_message.id if self.poll_message is not None else None,
            candidates=tuple(NightCandidate(c.movie.id, c.score, c.new_here)
                             for c in self.picks.candidates),
            personal=self.picks.personal, closes_at=self.closes_at, members=members,
            event_at=self.event.at if self.event else None,
            event_channel_id=self.event.channel_id if self.event else None,
            event_location=self.event.location if self.event else None,
            language=self.language)

    def _fire(self) -> None:
        self._closing = asyncio.ensure_future(self._expire())

    def _label(self) -> None:
        counts = self.tally.counts()
        for i, button in enumerate(self.buttons):
            title = movie_label(self.picks.candidates[i].movie, 60)
            button.label = f"{i + 1}. {title} · {counts[i]}"[:80]
            button.disabled = self.closed

    def embed(self) -> discord.Embed:
        with speaking(self.language):
            return self._embed()

    def _embed(self) -> discord.Embed:
        lines = []
        for i, c in enumerate(self.picks.candidates):
            genres = shown_genres(c.movie.genres[:3]) or _("no genre listed")
            line = f"{i + 1}. **{movie_label(c.movie, 100)}** — {safe(genres, 60)}"
            if self.picks.personal:
                line += " · " + _("group score {score}").format(score=stars(round(c.score, 1)))
            if c.new_here:
                line += f" · {_(NEW_HERE)}"
            if c.movie.id in self.picks.where:
                line += f"\n   ↳ {safe(self.picks.where[c.movie.id], 150)}"
            lines.append(line)
        if self.picks.where:
            lines.append(f"*{_(JUSTWATCH)}*")
        voted = len(self.tally.votes)
        closes = f"<t:{int(self.closes_at)}:R>"
        head = [_("Attendees: {names}").format(names=attendee_names(self.attendees)),
                _("None of you has rated these.") if self.picks.personal else
                _("None of you has rated these (the server's favourites: the group is new to "
                  "me).")]
        if not self.closed and self.is_poll:
            head.append(_("Vote in the poll below (only the attendees' votes count). Closes "
                          "{when}, or sooner if ended by {starter}.").format(
                when=closes, starter=self.starter_name))
        elif not self.closed:
            head.append(_("Vote below: one vote each, press another to change it. Closes "
                          "{when}, or sooner if ended by {starter}.").format(
                when=closes, starter=self.starter_name))
        embed = discord.Embed(title=_("Movie night with {starter}").format(
                                  starter=self.starter_name)[:256],
                              description="\n".join([*head, "", *lines])[:4000],
                              colour=COLOUR)
        if not self.is_poll or self.closed:
            embed.set_footer(text=ngettext("{voted} of {n} attendee voted",
                                           "{voted} of {n} attendees voted",
                                           len(self.attendees)).format(
                voted=number(voted), n=number(len(self.attendees))))
        return embed

    def poll(self, hours: int) -> discord.Poll:
        """The native poll of this vote: one answer per candidate, in the list's order."""
        with speaking(self.language):
            question = _("Movie night: which one do we watch?")
        poll = discord.Poll(question=question,
                            duration=datetime.timedelta(hours=hours))
        for candidate in self.picks.candidates:
            poll.add_answer(text=poll_answer(candidate.movie))
        return poll

    async def _count_poll(self) -> str:
        """End the poll (or read it, if Discord ended it) and count the attendees' votes from
        its voters; returns a note for the result ("" or why nothing was counted)."""
        if self.poll_message is None:
            return ""
        message = self.poll_message
        try:
            ended = await message.end_poll()
        except discord.NotFound:
            return " " + _("(the poll message was deleted)")
        except discord.HTTPException as error:
            if error.code != POLL_EXPIRED:
                raise
            ended = await message.fetch()  # Discord ended it at its expiry
        if ended.poll is None:
            return ""
        others = 0
        for answer in ended.poll.answers:
            index = answer.id - 1
            async for voter in answer.voters():
                if voter.id in self.tally.voters and 0 <= index < self.tally.candidates:
                    self.tally.vote(voter.id, index)
                else:
                    others += 1
        return (" " + ngettext("{n} vote from members who are not attendees did not count.",
                               "{n} votes from members who are not attendees did not count.",
                               others).format(n=number(others)) if others else "")

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if self.closed:
            await send_ephemeral(interaction, _("This vote is closed."))
            return False
        return True

    async def vote(self, interaction: discord.Interaction, index: int) -> None:
        if interaction.user.id not in self.attendees:
            await send_ephemeral(interaction, _("This vote is for the movie night's attendees: "
                                                "{names}.").format(
                names=attendee_names(self.attendees)))
            return
        self.tally.vote(interaction.user.id, index)
        await self.nights.record_vote(self.guild_id, self.night_id, interaction.user.id, index)
        self._label()
        await interaction.response.edit_message(embed=self.embed(), view=self,
                                                allowed_mentions=NO_PINGS)

    async def end(self, interaction: discord.Interaction) -> None:
        if interaction.user.id != self.starter_id:
            await send_ephemeral(interaction, _("Only {starter}, who started this movie night, "
                                                "can end the vote.").format(
                starter=self.starter_name))
            return
        await self.close(interaction)

    async def _expire(self) -> None:
        if not self.closed:
            try:
                await self.close(None)
            except ShuttingDown:  # the bot is stopping: the vote ends without a result
                log.info("a movie night vote was open at shutdown guild=%s", self.guild_id)
            except Exception:  # a timer has nobody to report to: log it
                log.exception("closing a movie night vote failed")

    def cancel(self) -> None:
        """Stop the timer (the cog is unloading): the vote stays as it is."""
        self._timer.cancel()
        self.stop()
        self.nights.unwatch(self.guild_id, self)

    def forget(self, member_id: int) -> None:
        """/forgetme: the member's vote and place go; the message shows the vote without
        them."""
        if self.closed or not self.tally.forget(member_id):
            return
        self.attendees.pop(member_id, None)
        self._label()
        message = self.message
        if message is not None:
            task = asyncio.ensure_future(end_quietly(self.bot, lambda: message.edit(
                embed=self.embed(), view=self, allowed_mentions=NO_PINGS)))
            self._redraws.add(task)
            task.add_done_callback(self._redraws.discard)
            task.add_done_callback(redraw_failed)

    async def close(self, interaction: discord.Interaction | None) -> None:
        """Close the vote, announce the winner and add it to the attendees' watchlists (in the
        starter's language, like the vote's message)."""
        with speaking(self.language):
            await self._close(interaction)

    async def _close(self, interaction: discord.Interaction | None) -> None:
        if self.closed:
            return
        self.closed = True
        self._timer.cancel()
        self.stop()
        self.nights.unwatch(self.guild_id, self)
        self._label()
        for item in self.children:
            if isinstance(item, discord.ui.Button):
                item.disabled = True
        # Discord (and TMDB: the event's details, where to watch the winner) calls first
        slow = self.is_poll or self.event is not None or self.nights.looks_up
        if interaction is not None and slow:
            await interaction.response.defer()
        note = await self._count_poll() if self.is_poll else ""
        winner_index = self.tally.winner()
        embed = self.embed()
        if winner_index is None:
            result = _("The vote closed without votes, so there is no winner this time.")
        elif self.event is not None:
            winner = self.picks.candidates[winner_index].movie
            result = result_text(self.picks, self.tally, winner_index, event=True)
            events = getattr(self.bot.get_cog("MovieNight"), "events", None)
            if isinstance(events, NightEvents):
                result += await events.create(self.guild_id, self.channel_id, winner,
                                              self.event)
        else:
            winner = self.picks.candidates[winner_index].movie
            # Only those who took part; how many watchlists gained it is nobody else's
            # business (one already on it would tell), so the message does not say.
            await self.nights.finish(self.guild_id, self.tally, winner)
            result = result_text(self.picks, self.tally, winner_index)
        if winner_index is not None:
            winner = self.picks.candidates[winner_index].movie
            where = (await self.nights.where(self.guild_id, [winner])).get(winner.id)
            if where:
                note += "\n" + _("Where to watch it: {where}.").format(
                    where=safe(where, 300)) + f" {_(JUSTWATCH)}"
        result = (result + note)[:2000]
        await self.nights.closed(self.guild_id, self.night_id)
        embed.title = _("Movie night with {starter}: closed").format(
            starter=self.starter_name)[:256]
        if interaction is not None and slow:
            await interaction.edit_original_response(content=result, embed=embed, view=self,
                                                     allowed_mentions=NO_PINGS)
        elif interaction is not None:
            await interaction.response.edit_message(content=result, embed=embed, view=self,
                                                    allowed_mentions=NO_PINGS)
        elif self.message is not None:
            message = self.message
            await end_quietly(self.bot, lambda: message.edit(
                content=result, embed=embed, view=self, allowed_mentions=NO_PINGS))

    async def on_error(self, interaction: discord.Interaction, error: Exception,
                       item: discord.ui.Item[Any]) -> None:
        await report_failure(interaction, error)
