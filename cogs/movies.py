"""/movies search | info | top | add: browse the catalog and this server's own titles.

Every movie parameter autocompletes ("Title (Year)", value "#<id>") and is re-resolved in the
invoking guild, so another server's titles never show up. Who may add a movie
(`add_movie_permission`, Manage Server by default) and `limits.guild_movie_cap` are the catalog
service's rules.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.genres import shown_genre, shown_genres
from bot.domain.titles import MAX_ADDED_TITLE_LENGTH
from bot.domain.years import MAX_YEAR, MIN_YEAR
from bot.i18n import N_, _, ngettext, number
from bot.service.privacy import MIN_RATERS
from cogs.errors import UserError
from cogs.ui.budgets import reads_a_lot
from cogs.ui.guild import guild_id_of
from cogs.ui.lookup import MovieParam, genre_choices
from cogs.ui.paginator import Paginator
from cogs.ui.pictures import picture_embed, picture_file, show_picture, soon_or_thinking
from cogs.ui.posters import add_details
from cogs.ui.text import NO_PINGS, movie_label, safe, stars, strip_controls

if TYPE_CHECKING:
    from bot.client import MovieBot

PAGE_SIZE = 10
PAGE_TIMEOUT = 180.0  # seconds the page buttons stay live
SEARCH_LIMIT = 50  # results shown by /movies search (5 pages)
TOP_COUNT = 10
SERVER_SCORE_NOTE = N_("the average rating, pulled toward this server's average while few "
                       "rated it")


# Also when nobody rated it: while ratings are hidden, "no ratings yet" would tell the
# difference between 0 and 1-2 other raters (`bot.service.privacy`).
HIDDEN_AGGREGATE = N_("Hidden: this server keeps ratings private, and fewer than {n} other "
                      "members rated it")  # n: MIN_RATERS


def ratings_text(mean: float | None, count: int) -> str:
    if not count or mean is None:
        return _("No ratings here yet")
    return ngettext("{score} from {n} rating", "{score} from {n} ratings", count).format(
        score=stars(mean), n=number(count))


class Movies(commands.Cog):
    movies = app_commands.Group(
        name="movies", description="Find, inspect and add movies", guild_only=True,
        allowed_contexts=app_commands.AppCommandContext(guild=True))

    def __init__(self, bot: MovieBot) -> None:
        self.bot = bot

    # ------------------------------------------------------------------ search
    @movies.command(name="search", description="Search the movies known in this server")
    @reads_a_lot
    @app_commands.describe(query="Part of a title, e.g. 'matrix' or 'dune 1984'")
    async def search(self, interaction: discord.Interaction,
                     query: app_commands.Range[str, 1, 200]) -> None:
        text = strip_controls(query).strip()
        if not text:
            raise UserError(_("Type part of a movie title to search for."))
        guild_id = guild_id_of(interaction)
        results = await self.bot.app.catalog.search(guild_id, text,
                                                    limit=SEARCH_LIMIT)
        if not results:
            raise UserError(_("No movies match “{query}”. Check the spelling, or ask a "
                              "moderator to add it with `/movies add`.").format(
                query=safe(text, 80)))
        pages = math.ceil(len(results) / PAGE_SIZE)
        heading = _("Movies matching “{query}”").format(query=safe(text, 80))

        async def render(page: int) -> discord.Embed:
            chunk = results[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
            lines = []
            for rank, movie in enumerate(chunk, start=page * PAGE_SIZE + 1):
                genres = shown_genres(movie.genres[:3])
                extra = f" · {safe(genres, 60)}" if genres else ""
                lines.append(f"{rank}. {movie_label(movie)}{extra}")
            return discord.Embed(title=heading[:256], description="\n".join(lines),
                                 colour=discord.Colour.blurple())

        paginator = Paginator(interaction.user.id, render, pages, timeout=PAGE_TIMEOUT)
        await paginator.send(interaction, ephemeral=True)

    # -------------------------------------------------------------------- info
    @movies.command(name="info", description="Details, this server's ratings and your "
                                             "predicted rating for a movie")
    @reads_a_lot
    @app_commands.describe(movie="The movie (pick one from the suggestions)")
    async def info(self, interaction: discord.Interaction, movie: MovieParam) -> None:
        guild_id = guild_id_of(interaction)
        use_case = self.bot.app.movie_pages
        if use_case.looks_up_tmdb:  # TMDB may take a moment: answer "thinking" first
            await interaction.response.defer(ephemeral=True, thinking=True)
        # The server's score distribution with the member's own score marked (none while the
        # hidden-ratings rule withholds the aggregate) is drawn while TMDB is asked: each has
        # its own short budget, and the reply waits for neither past it.
        info = await soon_or_thinking(interaction, use_case.info(
            guild_id, interaction.user.id, movie), ephemeral=True)
        details, from_tmdb, chart = info.ratings, info.tmdb, info.chart
        found, mean, count = movie, details.mean, details.count
        mine, predicted = details.mine, details.predicted
        embed = discord.Embed(title=movie_label(found, 256), colour=discord.Colour.blurple())
        embed.add_field(name=_("Year"), value=str(found.year) if found.year else _("Unknown"))
        embed.add_field(name=_("Genres"),
                        value=safe(shown_genres(found.genres), 1000) if found.genres else "—")
        if details.aggregate_hidden:
            embed.add_field(name=_("Server rating"),
                            value=_(HIDDEN_AGGREGATE).format(n=MIN_RATERS), inline=False)
        else:
            embed.add_field(name=_("Server rating"), value=ratings_text(mean, count),
                            inline=False)
        if details.score is not None:  # the number /movies top ranks by
            embed.add_field(name=_("Server score"), value=f"{stars(round(details.score, 1))} "
                            f"({_(SERVER_SCORE_NOTE)})", inline=False)
        embed.add_field(name=_("Your rating"),
                        value=stars(mine) if mine is not None
                        else _("Not rated yet — use `/rate`"))
        if predicted is not None:
            embed.add_field(name=_("Predicted for you"), value=stars(round(predicted, 1)))
        add_details(embed, found, from_tmdb)
        if found.guild_id is not None:
            embed.set_footer(text=_("Added by this server"))
        files = []
        if chart is not None:
            show_picture(embed, chart)
            files.append(picture_file(chart))
        # Ephemeral: the reply carries the member's own rating and prediction.
        if interaction.response.is_done():
            await interaction.edit_original_response(embed=embed, attachments=files,
                                                     allowed_mentions=NO_PINGS)
            return
        await interaction.response.send_message(embed=embed, ephemeral=True,
                                                allowed_mentions=NO_PINGS, files=files)

    # --------------------------------------------------------------------- top
    @movies.command(name="top", description="This server's best-rated movies")
    @reads_a_lot
    @app_commands.describe(genre="Only movies of this genre")
    @app_commands.autocomplete(genre=genre_choices)
    async def top(self, interaction: discord.Interaction,
                  genre: app_commands.Range[str, 1, 100] | None = None) -> None:
        guild_id = guild_id_of(interaction)
        catalog = self.bot.app.catalog
        chosen = await catalog.genre_filter(guild_id, genre) if genre is not None else None
        genre_name = shown_genre(chosen.name) if chosen is not None else None
        if chosen is not None and not chosen.movie_ids:
            raise UserError(_("No {genre} movies are known in this server yet.").format(
                genre=safe(shown_genre(chosen.name))))
        await interaction.response.defer(thinking=True)
        # Only the member sees the chart (it marks their own ratings of these movies); drawn
        # before the list is sent so that it follows the list at once.
        top = await self.bot.app.movie_pages.top(
            guild_id, TOP_COUNT, chosen, asker_id=interaction.user.id,
            chart_title=lambda n: ngettext("Scores of the {n} movie above",
                                           "Scores of the {n} movies above", n).format(n=n))
        entries, chart = top.entries, top.chart
        lines = [f"{i}. {movie_label(e.movie)} — {stars(round(e.score, 1))} (" + ngettext(
                     "average {score} from {n} rating", "average {score} from {n} ratings",
                     e.count).format(score=stars(round(e.mean, 1)), n=number(e.count)) + ")"
                 for i, e in enumerate(entries, start=1)]
        title = (_("Top {genre} movies here").format(genre=safe(genre_name)) if genre_name
                 else _("Top movies here"))
        if not lines:
            await interaction.followup.send(
                _("Not enough ratings yet for {genre} movies: rate some movies with `/rate` "
                  "and ask again.").format(genre=safe(genre_name)) if genre_name
                else _("Not enough ratings yet: rate some movies with `/rate` and ask again."),
                allowed_mentions=NO_PINGS)
            return
        embed = discord.Embed(title=title, description="\n".join(lines),
                              colour=discord.Colour.gold())
        embed.set_footer(text=_("Ranked by server score: {note} (as in /movies info)").format(
            note=_(SERVER_SCORE_NOTE)))
        await interaction.followup.send(embed=embed, allowed_mentions=NO_PINGS)
        if chart is not None:
            await interaction.followup.send(embed=picture_embed(_("How these were rated"), chart),
                                            file=picture_file(chart), ephemeral=True,
                                            allowed_mentions=NO_PINGS)

    # --------------------------------------------------------------------- add
    @movies.command(name="add", description="Add a movie to this server's list")
    @app_commands.describe(
        title="The movie's title (up to 200 characters)",
        year=f"Release year ({MIN_YEAR}-{MAX_YEAR})",
        genres="Optional genres, separated by commas, e.g. 'Comedy, Drama'",
    )
    async def add(self, interaction: discord.Interaction,
                  title: app_commands.Range[str, 1, MAX_ADDED_TITLE_LENGTH],
                  year: app_commands.Range[int, MIN_YEAR, MAX_YEAR],
                  genres: app_commands.Range[str, 1, 300] | None = None) -> None:
        guild_id = guild_id_of(interaction)
        movie = await self.bot.app.catalog.add_movie(
            guild_id, title, year, genres,
            can_manage_guild=interaction.permissions.manage_guild)
        genres_note = f" ({safe(shown_genres(movie.genres))})" if movie.genres else ""
        text = _("Added **{movie}**{genres} to this server's movies. Members can now rate it "
                 "with `/rate`.").format(movie=movie_label(movie), genres=genres_note)
        tmdb = self.bot.app.details
        if not tmdb.enabled:
            await interaction.response.send_message(text, allowed_mentions=NO_PINGS)
            return
        await interaction.response.defer(thinking=True)  # TMDB may take a moment
        found = await tmdb.get(movie)  # with a key: linked to TMDB (ids, poster, details)
        embeds = []
        if found is not None:
            card = discord.Embed(title=movie_label(movie, 256), colour=discord.Colour.blurple())
            add_details(card, movie, found, overview_limit=300)
            card.set_footer(text=_("Details from TMDB"))
            embeds.append(card)
        await interaction.edit_original_response(content=text, embeds=embeds,
                                                 allowed_mentions=NO_PINGS)


async def setup(bot: MovieBot) -> None:
    await bot.add_cog(Movies(bot))
