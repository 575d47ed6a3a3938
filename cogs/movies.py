"""/movies search | info | top | add: browse the catalog and this server's own titles.

Every movie parameter autocompletes ("Title (Year)", value "#<id>") and is re-resolved in the
invoking guild, so another server's titles never show up. Adding a movie is limited by the
guild's `add_movie_permission` setting (Manage Server by default, checked here in the bot) and
by `limits.guild_movie_cap`.
"""

from __future__ import annotations

import datetime as dt
import math
import re

import discord
from discord import app_commands
from discord.ext import commands

from bot.storage import DuplicateMovieError
from cogs.errors import UserError
from cogs.lookup import genre_choices, movie_choices, resolve_movie
from cogs.paginator import Paginator
from cogs.settings import require_manage_guild
from cogs.text import NO_PINGS, movie_label, safe, stars, strip_controls

PAGE_SIZE = 10
PAGE_TIMEOUT = 180.0  # seconds the page buttons stay live
SEARCH_LIMIT = 50  # results shown by /movies search (5 pages)
TOP_COUNT = 10
MAX_TITLE = 200
MIN_YEAR = 1870
MAX_YEAR = dt.date.today().year + 5
MAX_GENRES = 10

# The MovieLens genre vocabulary; a guild may also use any genre already in its catalog.
MOVIELENS_GENRES = (
    "Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "IMAX", "Musical", "Mystery", "Romance", "Sci-Fi",
    "Thriller", "War", "Western",
)
_GENRE_SPLIT = re.compile(r"[,|]")


async def known_genres(storage, guild_id: int) -> dict[str, str]:
    """casefolded genre -> its canonical spelling (MovieLens list plus the guild's catalog)."""
    vocabulary = {g.casefold(): g for g in await storage.genres(guild_id)}
    vocabulary.update({g.casefold(): g for g in MOVIELENS_GENRES})
    return vocabulary


async def parse_genres(storage, guild_id: int, text: str | None) -> tuple[str, ...]:
    """Comma- or pipe-separated genres, each from the known vocabulary (else a UserError)."""
    if text is None:
        return ()
    vocabulary = await known_genres(storage, guild_id)
    found: list[str] = []
    unknown: list[str] = []
    for part in _GENRE_SPLIT.split(strip_controls(text)):
        name = " ".join(part.split())
        if not name:
            continue
        canonical = vocabulary.get(name.casefold())
        if canonical is None:
            unknown.append(name)
        elif canonical not in found:
            found.append(canonical)
    if unknown:
        valid = ", ".join(sorted(vocabulary.values(), key=str.casefold))
        raise UserError(f"Unknown genre: {safe(', '.join(unknown), 100)}. "
                        f"Valid genres: {safe(valid, 1500)}.")
    if not found:
        raise UserError("The genres are empty: leave the option out, or type genres like "
                        "'Comedy, Drama'.")
    if len(found) > MAX_GENRES:
        raise UserError(f"At most {MAX_GENRES} genres per movie.")
    return tuple(found)


def ratings_text(mean: float | None, count: int) -> str:
    if not count or mean is None:
        return "No ratings here yet"
    return f"{stars(mean)} from {count} rating{'s' if count != 1 else ''}"


class Movies(commands.Cog):
    movies = app_commands.Group(
        name="movies", description="Find, inspect and add movies", guild_only=True,
        allowed_contexts=app_commands.AppCommandContext(guild=True))

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    # ------------------------------------------------------------------ search
    @movies.command(name="search", description="Search the movies known in this server")
    @app_commands.describe(query="Part of a title, e.g. 'matrix' or 'dune 1984'")
    async def search(self, interaction: discord.Interaction,
                     query: app_commands.Range[str, 1, 200]) -> None:
        text = strip_controls(query).strip()
        if not text:
            raise UserError("Type part of a movie title to search for.")
        storage = self.bot.storage
        results = await storage.search_movies(interaction.guild_id, text, limit=SEARCH_LIMIT)
        if not results:
            raise UserError(f"No movies match “{safe(text, 80)}”. Check the spelling, or ask "
                            "a moderator to add it with `/movies add`.")
        pages = math.ceil(len(results) / PAGE_SIZE)
        heading = f"Movies matching “{safe(text, 80)}”"

        async def render(page: int) -> discord.Embed:
            chunk = results[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
            lines = []
            for number, movie in enumerate(chunk, start=page * PAGE_SIZE + 1):
                genres = ", ".join(movie.genres[:3])
                extra = f" · {safe(genres, 60)}" if genres else ""
                lines.append(f"{number}. {movie_label(movie)}{extra}")
            return discord.Embed(title=heading[:256], description="\n".join(lines),
                                 colour=discord.Colour.blurple())

        paginator = Paginator(interaction.user.id, render, pages, timeout=PAGE_TIMEOUT)
        await paginator.send(interaction, ephemeral=True)

    # -------------------------------------------------------------------- info
    @movies.command(name="info", description="Details, this server's ratings and your "
                                             "predicted rating for a movie")
    @app_commands.describe(movie="The movie (pick one from the suggestions)")
    @app_commands.autocomplete(movie=movie_choices)
    async def info(self, interaction: discord.Interaction, movie: str) -> None:
        found = await resolve_movie(interaction, movie)
        guild_id, user_id = interaction.guild_id, interaction.user.id
        storage = self.bot.storage
        mean, count = await storage.movie_stats(guild_id, found.id)
        mine = await storage.get_rating(guild_id, user_id, found.id)
        predicted = await self.bot.recommendations.predict(guild_id, user_id, found.id)
        embed = discord.Embed(title=movie_label(found, 250), colour=discord.Colour.blurple())
        embed.add_field(name="Year", value=str(found.year) if found.year else "Unknown")
        embed.add_field(name="Genres",
                        value=safe(", ".join(found.genres), 1000) if found.genres else "—")
        embed.add_field(name="Server rating", value=ratings_text(mean, count), inline=False)
        embed.add_field(name="Your rating",
                        value=stars(mine) if mine is not None else "Not rated yet — use `/rate`")
        if predicted is not None:
            embed.add_field(name="Predicted for you", value=stars(round(predicted, 1)))
        if found.guild_id is not None:
            embed.set_footer(text="Added by this server")
        await interaction.response.send_message(embed=embed, allowed_mentions=NO_PINGS)

    # --------------------------------------------------------------------- top
    @movies.command(name="top", description="This server's best-rated movies")
    @app_commands.describe(genre="Only movies of this genre")
    @app_commands.autocomplete(genre=genre_choices)
    async def top(self, interaction: discord.Interaction,
                  genre: app_commands.Range[str, 1, 100] | None = None) -> None:
        storage = self.bot.storage
        guild_id = interaction.guild_id
        candidates = None
        genre_name = None
        if genre is not None:
            vocabulary = await known_genres(storage, guild_id)
            genre_name = vocabulary.get(" ".join(strip_controls(genre).split()).casefold())
            if genre_name is None:
                raise UserError(f"Unknown genre “{safe(genre, 60)}”. Pick one from the "
                                "suggestions while typing.")
            candidates = await storage.movie_ids_with_genre(guild_id, genre_name)
            if not candidates:
                raise UserError(f"No {safe(genre_name)} movies are known in this server yet.")
        await interaction.response.defer(thinking=True)
        picks = await self.bot.recommendations.top(guild_id, n=TOP_COUNT, candidates=candidates)
        movies = await storage.get_movies(guild_id, [p.movie_id for p in picks])
        lines = []
        for pick in picks:
            movie = movies.get(pick.movie_id)
            if movie is None:
                continue
            _mean, count = await storage.movie_stats(guild_id, movie.id)
            lines.append(f"{len(lines) + 1}. {movie_label(movie)} — {stars(round(pick.score, 1))}"
                         f" ({count} rating{'s' if count != 1 else ''})")
        title = f"Top {safe(genre_name)} movies here" if genre_name else "Top movies here"
        if not lines:
            await interaction.followup.send(
                "Not enough ratings yet" + (f" for {safe(genre_name)} movies" if genre_name
                                            else "") +
                ": rate some movies with `/rate` and ask again.", allowed_mentions=NO_PINGS)
            return
        embed = discord.Embed(title=title, description="\n".join(lines),
                              colour=discord.Colour.gold())
        embed.set_footer(text="Ranked by average rating, weighted by how many members rated")
        await interaction.followup.send(embed=embed, allowed_mentions=NO_PINGS)

    # --------------------------------------------------------------------- add
    @movies.command(name="add", description="Add a movie to this server's list")
    @app_commands.describe(
        title="The movie's title (up to 200 characters)",
        year=f"Release year ({MIN_YEAR}-{MAX_YEAR})",
        genres="Optional genres, separated by commas, e.g. 'Comedy, Drama'",
    )
    async def add(self, interaction: discord.Interaction,
                  title: app_commands.Range[str, 1, MAX_TITLE],
                  year: app_commands.Range[int, MIN_YEAR, MAX_YEAR],
                  genres: app_commands.Range[str, 1, 300] | None = None) -> None:
        storage = self.bot.storage
        guild_id = interaction.guild_id
        settings = await storage.get_guild_settings(guild_id)
        if settings.add_movie_permission != "everyone":
            require_manage_guild(interaction, "add movies in this server")
        clean = " ".join(strip_controls(title).split())
        if not clean:
            raise UserError("The title is empty: type the movie's title.")
        if len(clean) > MAX_TITLE:
            raise UserError(f"That title is too long (at most {MAX_TITLE} characters).")
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise UserError(f"The year must be between {MIN_YEAR} and {MAX_YEAR}.")
        genre_tuple = await parse_genres(storage, guild_id, genres)
        cap = self.bot.settings.limits.guild_movie_cap
        if await storage.count_guild_movies(guild_id) >= cap:
            raise UserError(f"This server has reached its limit of {cap} added movies, so no "
                            "more can be added. Ask the bot's host if you need more.")
        try:
            movie = await storage.add_movie(clean, year, genre_tuple, guild_id=guild_id)
        except DuplicateMovieError as error:
            raise UserError(f"That movie is already in the catalog as "
                            f"{movie_label(error.existing)}.") from error
        except ValueError as error:
            raise UserError("A title needs letters or digits (at most "
                            f"{MAX_TITLE} characters).") from error
        genres_note = f" ({safe(', '.join(movie.genres))})" if movie.genres else ""
        await interaction.response.send_message(
            f"Added **{movie_label(movie)}**{genres_note} to this server's movies. "
            "Members can now rate it with `/rate`.", allowed_mentions=NO_PINGS)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Movies(bot))
