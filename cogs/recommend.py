"""/recommend (personal picks, or a movie-night pick for a group) and /similar.

Everything comes from the invoking server's own model (`bot.recommendations`); replies are
ephemeral, escape every title and genre, and never ping.

* `/recommend [count] [genre]`: the member's top picks (title, year, genres, predicted score and
  the rating that drove it), movies they rated excluded; below the guild's minimum number of
  ratings it shows the server's favourites and how many ratings unlock personal picks. The
  reply's view rates a pick from the list and shows more picks.
* `/recommend group:<mentions> | voice:<channel> [rule]`: the group mode (Discord forbids a
  command that is both invocable and a group): the requester plus the mentioned members and/or
  the members in a voice channel; nobody in the group has rated the picks; the aggregation rule
  (average or least misery) is named in the reply.
* `/similar movie`: movies close to one movie in the learned feature space.

/recommend has a per-member, per-guild cooldown (`limits.recommend_cooldown_seconds`, 0 = none).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.genres import shown_genre, shown_genres
from bot.i18n import N_, _, percent
from bot.render import CardLine
from bot.service import GROUP_STRATEGIES, Picks
from bot.service.catalog import GenreFilter
from bot.service.media import MediaProblem
from bot.service.picks import CardText, PicksPage
from bot.service.pictures import Picture
from bot.service.sources import SOURCES, SourceUnavailable, joined_notes
from bot.service.tonight import Tonight
from cogs.errors import UserError
from cogs.ui.budgets import reads_a_lot
from cogs.ui.consent import ConsentView
from cogs.ui.guild import guild_id_of
from cogs.ui.lookup import MovieParam, genre_choices
from cogs.ui.next_steps import PRIOR_HINT, first_ratings, with_prior_hint
from cogs.ui.options import InRange
from cogs.ui.picks import (
    CARRIED_BY,
    COLOUR,
    EMBED_TEXT_BUDGET,
    PERSONAL_ORDER_NOTE,
    POPULAR_ORDER_NOTE,
    STRETCH_NOTE,
    empty_picks_message,
    fit_lines,
    genres_text,
    library_mark,
    pick_lines,
    pick_reason,
    picks_title,
    reason_text,
    unlock_text,
)
from cogs.ui.pictures import picture_file, show_picture
from cogs.ui.posters import add_details
from cogs.ui.text import NEW_HERE, NO_PINGS, movie_label, safe
from cogs.ui.tonight import add_where_to_watch, tonight_filters
from cogs.ui.views import Page, RecommendationView
from cogs.watchlist import WatchlistView

__all__ = ["CARRIED_BY", "COLOUR", "EMBED_TEXT_BUDGET", "PERSONAL_ORDER_NOTE", "POPULAR_ORDER_NOTE",
           "STRETCH_NOTE", "Recommend", "empty_picks_message", "fit_lines", "library_mark",
           "pick_lines", "pick_reason", "reason_text", "unlock_text"]

if TYPE_CHECKING:
    from bot.client import MovieBot

MAX_COUNT = 25
DEFAULT_COUNT = 10
COUNT = InRange(1, MAX_COUNT, N_("The count must be a whole number from {low} to {high}."))
MAX_GROUP = 10
SIMILAR_COUNT = 10
MENTION_RE = re.compile(r"<@!?(\d{15,21})>")

RULES = {
    "average": (N_("Average"), N_("the highest mean predicted score")),
    "least_misery": (N_("Least misery"),
                     N_("the highest lowest-member score, so nobody hates the pick")),
}
PROVISIONAL_NOTE = N_("Results are provisional: the model is refreshing.")


# --------------------------------------------------------------------------- cooldown
def recommend_cooldown(interaction: discord.Interaction) -> app_commands.Cooldown | None:
    """One /recommend per `limits.recommend_cooldown_seconds` per member and guild."""
    seconds = cast("MovieBot", interaction.client).settings.limits.recommend_cooldown_seconds
    if not seconds or seconds <= 0:
        return None
    return app_commands.Cooldown(1, float(seconds))


def cooldown_key(interaction: discord.Interaction) -> tuple[int | None, int]:
    return (interaction.guild_id, interaction.user.id)


def voice_companions(member: discord.Member | discord.User) -> frozenset[int]:
    """Members (not bots) in the same voice channel as `member`: watching together."""
    voice = getattr(member, "voice", None)
    channel = voice.channel if voice is not None else None
    if channel is None:
        return frozenset()
    return frozenset(m.id for m in channel.members if not m.bot)


class Recommend(commands.Cog):
    """Recommendation commands."""

    def __init__(self, bot: MovieBot) -> None:
        self.bot = bot

    # ----------------------------------------------------------------------- /recommend
    @app_commands.command(name="recommend",
                          description="Movies picked for you, or for a group movie night")
    @app_commands.guild_only()
    @app_commands.checks.dynamic_cooldown(recommend_cooldown, key=cooldown_key)
    @reads_a_lot
    @app_commands.describe(
        count="How many picks to show (1-25, default 10)",
        genre="Only movies of this genre",
        group="Movie night: mention the members watching with you, e.g. @alice @bob",
        voice="Movie night: everyone in this voice channel watches with you",
        rule="Movie night: how the group's tastes are combined (default: average)",
        source="Where picks come from: the media server's library, your streaming services, "
               "or any movie (default)",
        runtime_max="Tonight: at most this many minutes long (TMDB)",
        min_year="Tonight: released this year or later",
        max_year="Tonight: released this year or earlier",
        certification="Tonight: this age rating in the server's region, e.g. PG-13 (TMDB)",
        language="Tonight: original language, two letters, e.g. en, fr (TMDB)",
        exclude_genre="Tonight: no movies of this genre",
    )
    @app_commands.autocomplete(genre=genre_choices, exclude_genre=genre_choices)
    @app_commands.choices(rule=[  # "average", "least misery"
        app_commands.Choice(name=app_commands.locale_str(strategy.replace("_", " ")),
                            value=strategy)
        for strategy in GROUP_STRATEGIES])
    @app_commands.choices(source=[app_commands.Choice(name=app_commands.locale_str(name),
                                                      value=name)
                                  for name in ("library", "streaming", "any")])
    async def recommend(self, interaction: discord.Interaction,
                        count: app_commands.Transform[int, COUNT] = DEFAULT_COUNT,
                        genre: str | None = None, group: str | None = None,
                        voice: discord.VoiceChannel | None = None,
                        rule: app_commands.Choice[str] | None = None,
                        source: app_commands.Choice[str] | None = None,
                        runtime_max: app_commands.Range[int, 30, 600] | None = None,
                        min_year: app_commands.Range[int, 1870, 2100] | None = None,
                        max_year: app_commands.Range[int, 1870, 2100] | None = None,
                        certification: app_commands.Range[str, 1, 12] | None = None,
                        language: app_commands.Range[str, 2, 3] | None = None,
                        exclude_genre: str | None = None) -> None:
        # count: InRange checks it; rule, source: discord.py accepts only their choices
        strategy = "average" if rule is None else str(rule.value)
        where = "any" if source is None else str(source.value)
        if where not in SOURCES:
            raise UserError(_("The source must be library, streaming or any."))
        guild_id = guild_id_of(interaction)
        chosen = (await self.bot.app.catalog.genre_filter(guild_id, genre)
                  if genre is not None and genre.strip() else None)
        filters = tonight_filters(runtime_max, min_year, max_year, certification, language,
                                  exclude_genre)
        if group is not None or voice is not None:
            members = await self._group_members(interaction, group, voice)
            limit = None
            try:
                if where == "library":  # movie night from the library only
                    limit = await self.bot.app.sources.candidates(
                        guild_id, where, set(chosen.movie_ids) if chosen is not None else None)
                # Streaming and tonight's filters: refused now if unusable, applied once the
                # reply is deferred (they may ask TMDB).
                elif where == "streaming":
                    await self.bot.app.tonight.streaming_usable(guild_id)
                await self.bot.app.tonight.usable(guild_id, filters)
            except SourceUnavailable as error:
                raise UserError(safe(str(error), 1500)) from None
            await self._movie_night(interaction, members, count, strategy, chosen, limit,
                                    filters, streaming=where == "streaming")
            return
        elif rule is not None:
            raise UserError(_("The rule is for movie nights: add `group` or `voice` too."))
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            await self._personal(interaction, count, chosen, where, filters)
        except (SourceUnavailable, MediaProblem) as error:
            raise UserError(safe(str(error), 1500)) from None

    async def _personal(self, interaction: discord.Interaction, count: int,
                        genre: GenreFilter | None, source: str = "any",
                        filters: Tonight | None = None) -> None:
        guild_id, user_id = guild_id_of(interaction), interaction.user.id
        genre_name = shown_genre(genre.name) if genre is not None else None
        card_text = self._card_text(genre_name)
        use_case = self.bot.app.picks
        found = await use_case.personal(guild_id, user_id, count=count, genre=genre,
                                        card_text=card_text, source=source, filters=filters)
        watchlisted = found.watchlisted
        shown: set[int] = set()  # every title this reply showed: "Show more" never repeats

        async def load(page: int) -> Page:
            more = await use_case.more(guild_id, user_id, count=count, genre=genre,
                                       shown=frozenset(shown), start=count * page,
                                       card_text=card_text, source=source, filters=filters)
            shown.update(p.movie_id for p in more.picks.items)
            further = self._with_card(
                self._page(more, page, count, genre_name, watchlisted), more.card)
            add_where_to_watch(further.embed, [(m, more.where.get(m.id))
                                               for m, _score in further.movies])
            return further

        first_picks = found.first.picks
        shown.update(p.movie_id for p in first_picks.items)
        first = self._page(found.first, 0, count, genre_name, watchlisted)
        if not first.movies:
            text = empty_picks_message(first_picks, genre_name)
            if found.note:
                text += "\n" + found.note
            await interaction.edit_original_response(content=text[:2000],
                                                     allowed_mentions=NO_PINGS)
            return
        # TMDB's poster and details of the top pick (with a TMDB key), fetched while the card
        # was drawn (`PicksService.personal`).
        top = first.movies[0][0]
        first = self._with_card(first, found.first.card)
        add_details(first.embed, top, found.top_details, overview_limit=300, label="#1:")
        add_where_to_watch(first.embed, [(m, found.where.get(m.id)) for m, _score in first.movies])
        if found.note:
            first.embed.add_field(name=_("Tonight's filters"), value=found.note[:1024],
                                  inline=False)
        view = RecommendationView(user_id, load, first)
        view.interaction = interaction
        await interaction.edit_original_response(
            embed=first.embed, view=view, allowed_mentions=NO_PINGS,
            attachments=[first.file] if first.file is not None else discord.utils.MISSING)

    @staticmethod
    def _with_card(page: Page, card: Picture | None) -> Page:
        """The page with its picks drawn as a picture (`bot.service.pictures.picks_card`: a
        typographic card; a poster grid once a poster source is configured)."""
        if page.movies and card is not None:  # the embed's text already lists the picks
            show_picture(page.embed, card, alt_in_description=False)
            page.file = picture_file(card)
        return page

    @staticmethod
    def _card_text(genre: str | None) -> CardText:
        """The wording of a page's picture (what `PicksService` draws)."""
        def text(picks: Picks, start: int) -> tuple[str, list[CardLine], str]:
            lines = []
            for rank, pick in enumerate(picks.items, start=start + 1):
                movie = picks.movies.get(pick.movie_id)
                if movie is None:
                    continue
                detail = shown_genres(movie.genres[:4]) or _("no genre listed")
                if pick.stretch:
                    detail += " · " + _(STRETCH_NOTE)
                reason = pick_reason(pick, picks.movies, markdown=False)
                if reason is not None:
                    detail += " · " + reason
                if pick.new_here:
                    detail += f" · {_(NEW_HERE)}"
                lines.append(CardLine(rank, movie.label, detail, pick.score))
            note = _(PERSONAL_ORDER_NOTE if picks.personal else POPULAR_ORDER_NOTE)
            return picks_title(picks.personal, genre), lines, note

        return text

    def _page(self, found: PicksPage, page: int, count: int, genre: str | None,
              watchlisted: frozenset[int] = frozenset()) -> Page:
        picks = found.picks
        lines, shown = pick_lines(picks.items, picks.movies, start=count * page,
                                  personal=picks.personal, watchlisted=watchlisted,
                                  library=found.library)
        personal = picks.personal
        title = picks_title(personal, genre)
        head = []
        if not personal and picks.ratings_needed:
            head.append(unlock_text(picks.ratings_needed))
        embed = discord.Embed(title=title, description="\n".join([*head, *lines]),
                              colour=COLOUR)
        footer = []
        if page:
            footer.append(_("Page {page}").format(page=page + 1))
        footer.append(_(PERSONAL_ORDER_NOTE if personal else POPULAR_ORDER_NOTE))
        if picks.provisional:
            footer.append(_(PROVISIONAL_NOTE))
        if footer:
            embed.set_footer(text=" · ".join(footer))
        return Page(embed, shown, has_more=picks.has_more,
                    requestable=list(found.requestable))

    # ----------------------------------------------------------------------- group mode
    async def _group_members(self, interaction: discord.Interaction, group: str | None,
                             voice: discord.VoiceChannel | None) -> list[discord.Member]:
        guild = interaction.guild
        if guild is None:
            raise app_commands.NoPrivateMessage()
        requester = interaction.user
        if not isinstance(requester, discord.Member):
            raise app_commands.NoPrivateMessage()
        members: dict[int, discord.Member] = {requester.id: requester}
        if group is not None:
            ids = list(dict.fromkeys(int(i) for i in MENTION_RE.findall(group)))
            if not ids:
                raise UserError(_("Mention the members watching with you in `group`, "
                                  "e.g. @alice @bob."))
            if len(ids) > MAX_GROUP:
                raise UserError(_("A movie night is for at most {n} members.").format(
                    n=MAX_GROUP))
            for user_id in ids:
                member = await self._member(interaction, user_id)
                if member is None:
                    raise UserError(_("User {id} is not a member of this server.").format(
                        id=user_id))
                if member.bot:
                    raise UserError(_("{name} is a bot; bots don't watch movies.").format(
                        name=safe(member.display_name, 60)))
                members.setdefault(member.id, member)
        if voice is not None:
            if getattr(voice, "guild", None) is None or voice.guild.id != guild.id:
                raise UserError(_("Pick a voice channel of this server."))
            present = [m for m in voice.members if not m.bot]
            if not present:
                raise UserError(_("Nobody is in {channel} right now.").format(
                    channel=safe(voice.name, 60)))
            for member in present:
                members.setdefault(member.id, member)
        if len(members) < 2:
            raise UserError(_("A movie night needs at least two people: mention others in "
                              "`group`, or pick a voice channel with people in it."))
        if len(members) > MAX_GROUP:
            raise UserError(_("A movie night is for at most {n} members (this group has "
                              "{size}).").format(n=MAX_GROUP, size=len(members)))
        return list(members.values())

    async def _member(self, interaction: discord.Interaction,
                      user_id: int) -> discord.Member | None:
        guild = interaction.guild
        if guild is None:
            return None
        member = guild.get_member(user_id)
        if member is not None:
            return member
        try:  # without the members intent the cache may not hold everyone
            return await guild.fetch_member(user_id)
        except (discord.NotFound, discord.Forbidden):
            return None

    async def _movie_night(self, interaction: discord.Interaction,
                           members: list[discord.Member], count: int, strategy: str,
                           genre_filter: GenreFilter | None,
                           limit: set[int] | None = None,
                           filters: Tonight | None = None, *, streaming: bool = False) -> None:
        """Group picks at once, or after the named members agreed (`bot.service.privacy`:
        while ratings are hidden, members outside the requester's voice channel consent)."""
        guild_id = guild_id_of(interaction)
        requester = interaction.user
        together = voice_companions(requester)
        pending = await self.bot.app.groups.consent_needed(
            guild_id, requester.id, [m.id for m in members], together=together)
        if not pending:
            await interaction.response.defer(ephemeral=True, thinking=True)
            await self._group(interaction, members, count, strategy, genre_filter,
                              together=together, limit=limit, filters=filters,
                              streaming=streaming)
            return

        async def on_agreed(agreed: frozenset[int]) -> None:
            await self._group(interaction, members, count, strategy, genre_filter,
                              together=together, consented=agreed, followup=True,
                              limit=limit, filters=filters, streaming=streaming)

        names = {m.id: safe(m.display_name, 40) for m in members if m.id in pending}
        view = ConsentView(safe(requester.display_name, 40), names, on_agreed)
        await interaction.response.send_message(view.prompt(), view=view,
                                                allowed_mentions=NO_PINGS)
        view.message = await interaction.original_response()

    async def _group(self, interaction: discord.Interaction, members: list[discord.Member],
                     count: int, strategy: str, genre_filter: GenreFilter | None, *,
                     together: frozenset[int] = frozenset(),
                     consented: frozenset[int] = frozenset(), followup: bool = False,
                     limit: set[int] | None = None, filters: Tonight | None = None,
                     streaming: bool = False) -> None:
        guild_id = guild_id_of(interaction)
        genre = shown_genre(genre_filter.name) if genre_filter is not None else None
        candidates = limit if limit is not None else (
            set(genre_filter.movie_ids) if genre_filter is not None else None)
        note = ""
        try:
            if streaming:
                streams = await self.bot.app.sources.narrowed(guild_id, "streaming", candidates)
                candidates, note = streams.ids, streams.note
            if filters is not None and not filters.empty:
                allowed = await self.bot.app.tonight.allowed(guild_id, filters, candidates)
                candidates, note = allowed.ids, joined_notes(note, allowed.note)
        except SourceUnavailable as error:  # the settings changed since the command
            candidates, note = set(), safe(str(error), 1000)
        picks = await self.bot.app.groups.recommend(
            guild_id, interaction.user.id, [m.id for m in members], together=together,
            consented=consented, n=count, strategy=strategy, candidates=candidates)

        async def answer(**reply: Any) -> None:
            if followup:  # after consent: only the requester sees the picks
                await interaction.followup.send(ephemeral=True, allowed_mentions=NO_PINGS,
                                                **reply)
            else:
                await interaction.edit_original_response(allowed_mentions=NO_PINGS, **reply)

        name, explanation = RULES[strategy]
        names = ", ".join(safe(m.display_name, 40) for m in members)
        # The rule ranks by the group score it shows (mean or lowest member's prediction):
        # list the picks in that order, best first.
        ranked = sorted(picks.items, key=lambda pick: pick.score, reverse=True)
        lines, _shown = pick_lines(ranked, picks.movies, start=0,
                                   personal=picks.personal, group=True)
        if not lines:
            if not picks.guild_has_ratings:
                text = with_prior_hint(first_ratings("a movie night"), picks.prior_installed)
            elif genre:
                text = _("I found no {genre} movie that none of you has rated. Try another "
                         "genre, or none.").format(genre=safe(genre, 60))
            else:
                text = with_prior_hint(
                    _("I found no movie that none of you has rated yet. Rate more movies with "
                      "`/rate` (find titles with `/movies search`), or ask the others to."),
                    picks.prior_installed)
            if note:
                text += "\n" + note
            await answer(content=text[:2000])
            return
        head = [_("For: {names}").format(names=names),
                _("Rule: **{rule}**: {explanation}.").format(rule=_(name),
                                                             explanation=_(explanation))]
        if not picks.personal:
            head.append(_("None of you has rated enough for personal picks yet, so these are "
                          "the server's favourites that none of you has rated."))
        title = _("Movie night for {n}").format(n=len(members))
        if genre:
            title += f": {safe(genre, 60)}"
        embed = discord.Embed(title=title, description="\n".join([*head, "", *lines]),
                              colour=COLOUR)
        if picks.provisional:
            embed.set_footer(text=_(PROVISIONAL_NOTE))
        shown = [picks.movies[p.movie_id] for p in ranked if p.movie_id in picks.movies]
        where = await self.bot.app.tonight.where(guild_id, shown)
        add_where_to_watch(embed, [(m, where.get(m.id)) for m in shown])
        if note:
            embed.add_field(name=_("Tonight's filters"), value=note[:1024], inline=False)
        await answer(embed=embed)

    # ----------------------------------------------------------------------- /similar
    @app_commands.command(name="similar",
                          description="Movies close to one movie, by this server's ratings")
    @app_commands.guild_only()
    @reads_a_lot
    @app_commands.describe(movie="The movie to find neighbours of (pick from the suggestions)")
    async def similar(self, interaction: discord.Interaction, movie: MovieParam) -> None:
        found = movie
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild_id = guild_id_of(interaction)
        neighbours = await self.bot.app.recommendations.similar_movies(
            guild_id, found.id, n=SIMILAR_COUNT, asker_id=interaction.user.id)
        shown = neighbours.movies
        if not shown:
            # Answered by editing the deferred reply (a followup would leave it "thinking").
            await interaction.edit_original_response(
                content=_("I can't place **{movie}** yet: it needs more ratings in this server "
                          "before I know which movies are close to it. If you've seen it, rate "
                          "it with `/rate`, and ask others who have to do the same.").format(
                    movie=movie_label(found))
                + ("" if await self.bot.app.recommendations.prior_installed()
                           else f"\n*{_(PRIOR_HINT)}*"),
                allowed_mentions=NO_PINGS)
            return

        def render(i: int, title_limit: int, other_limit: int) -> str:
            other, cosine = shown[i]
            return (f"{i + 1}. **{movie_label(other, title_limit)}** — "
                    f"{genres_text(other, other_limit)} · " + _("similarity {percent}").format(
                        percent=percent(max(0.0, cosine))))

        embed = discord.Embed(title=_("Movies like {movie}").format(
                                  movie=movie_label(found, 200))[:256],
                              description="\n".join(fit_lines(render, len(shown))),
                              colour=COLOUR)
        footer = (_("From this server's ratings and the movies' genres: few members here "
                    "have rated both yet.") if neighbours.by_genre
                  else _("From this server's ratings: people who liked one tended to like the "
                         "other."))
        if await self.bot.app.recommendations.is_provisional(guild_id):
            footer += " " + _(PROVISIONAL_NOTE)
        embed.set_footer(text=footer)
        view = WatchlistView(interaction.user.id, [other for other, _cosine in shown])
        await interaction.edit_original_response(embed=embed, view=view,
                                                 allowed_mentions=NO_PINGS)


async def setup(bot: MovieBot) -> None:
    await bot.add_cog(Recommend(bot))
