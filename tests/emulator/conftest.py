"""Fixtures for the emulator tests: an emulator, a small world, and a tiny discord.py bot.

The bot is built here (the product bot lives elsewhere) and covers the interaction shapes
the emulator must support: options, autocomplete, subcommand groups, embeds + buttons,
defer + followups, file attachments, edits, modals, selects, resolved users/roles/channels.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from emulator import (
    Channel,
    DiscordEmulator,
    Guild,
    Member,
    Permissions,
    quiet_discord_logging,
    running_bot,
)

quiet_discord_logging()

MOVIES = ["The Matrix", "The Matrix Reloaded", "Heat", "Alien", "Aliens", "Amélie"]


@dataclass
class Scene:
    guild: Guild
    general: Channel
    cinema: Channel
    alice: Member
    mod: Member
    owner: Member


class LikeView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=60)

    @discord.ui.button(label="Like", custom_id="like", style=discord.ButtonStyle.primary)
    async def like(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        button.disabled = True
        button.label = "Liked"
        await interaction.response.edit_message(
            content=f"Liked by {interaction.user.display_name}", view=self
        )

    @discord.ui.button(label="Never", custom_id="never", disabled=True)
    async def never(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        raise AssertionError("disabled buttons cannot be clicked")


class GenreSelect(discord.ui.View):
    @discord.ui.select(
        custom_id="genre",
        placeholder="Pick genres",
        min_values=1,
        max_values=2,
        options=[discord.SelectOption(label=g, value=g.lower())
                 for g in ("Drama", "Horror", "SciFi")],
    )
    async def genre(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
        await interaction.response.send_message(f"genres: {', '.join(select.values)}",
                                                ephemeral=True)


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    text = discord.ui.TextInput(label="What did you think?", custom_id="fb_text")
    stars = discord.ui.TextInput(label="Stars", custom_id="fb_stars", required=False)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            f"thanks: {self.text.value} ({self.stars.value or 'no'} stars)", ephemeral=True
        )


class MoviesGroup(app_commands.Group):
    @app_commands.command(description="Search movies")
    async def search(self, interaction: discord.Interaction, query: str) -> None:
        hits = [m for m in MOVIES if query.lower() in m.lower()]
        await interaction.response.send_message(f"{len(hits)} hits: " + ", ".join(hits))

    admin = app_commands.Group(name="admin", description="Admin tools")

    @admin.command(description="Reset")
    async def reset(self, interaction: discord.Interaction, confirm: bool) -> None:
        perms = interaction.permissions
        if not perms.manage_guild:
            await interaction.response.send_message("no permission", ephemeral=True)
            return
        await interaction.response.send_message(f"reset confirm={confirm}")


def make_bot(guild_id: int) -> commands.Bot:
    intents = discord.Intents.default()
    intents.members = True
    bot = commands.Bot(command_prefix=commands.when_mentioned, intents=intents, help_command=None,
                       guild_ready_timeout=0.1)
    bot.seen = {"errors": [], "joined": [], "removed": [], "resumed": 0, "ready": 0}
    guild = discord.Object(guild_id)

    @bot.event
    async def on_ready() -> None:
        bot.seen["ready"] += 1

    @bot.event
    async def on_resumed() -> None:
        bot.seen["resumed"] += 1

    @bot.event
    async def on_guild_join(g: discord.Guild) -> None:
        bot.seen["joined"].append(g.id)

    @bot.event
    async def on_guild_remove(g: discord.Guild) -> None:
        bot.seen["removed"].append(g.id)

    @bot.tree.error
    async def on_tree_error(interaction: discord.Interaction, error: Exception) -> None:
        bot.seen["errors"].append(error)

    @bot.tree.command(description="Rate a movie")
    @app_commands.describe(movie="Title", score="1-10")
    async def rate(interaction: discord.Interaction, movie: str,
                   score: app_commands.Range[int, 1, 10]) -> None:
        await interaction.response.send_message(
            f"{interaction.user.mention} rated **{movie}** {score}/10",
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @rate.autocomplete("movie")
    async def rate_movie_ac(interaction: discord.Interaction, current: str):
        return [app_commands.Choice(name=m, value=m) for m in MOVIES
                if current.lower() in m.lower()][:25]

    bot.tree.add_command(MoviesGroup(name="movies", description="Movie tools"))

    @bot.tree.command(description="Show a card")
    async def card(interaction: discord.Interaction) -> None:
        embed = discord.Embed(title="Heat", description="1995 crime film", color=0x3366FF)
        embed.add_field(name="Score", value="8.3")
        embed.set_footer(text="via emulator")
        await interaction.response.send_message(embed=embed, view=LikeView())

    @bot.tree.command(description="Slow answer")
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send("first followup")
        await interaction.followup.send("secret followup", ephemeral=True)

    @bot.tree.command(description="Deferred then edited")
    async def compute(interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        await interaction.edit_original_response(content="computed 42")

    @bot.tree.command(description="Export ratings")
    async def export(interaction: discord.Interaction) -> None:
        data = b"movie,score\nHeat,9\nAlien,8\n"
        await interaction.response.send_message(
            "your export", file=discord.File(io.BytesIO(data), filename="ratings.csv"),
            ephemeral=True,
        )
        await interaction.followup.send(file=discord.File(io.BytesIO(b"x" * 10), "blob.bin"))

    @bot.tree.command(description="Progress")
    async def progress(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("working...")
        await interaction.edit_original_response(
            content="done", embed=discord.Embed(title="Result", description="all good")
        )

    @bot.tree.command(description="Who is")
    async def whois(interaction: discord.Interaction, user: discord.Member,
                    role: discord.Role | None = None,
                    channel: discord.TextChannel | None = None) -> None:
        parts = [f"user={user.name}", f"id={user.id}", f"roles={[r.name for r in user.roles]}"]
        if role is not None:
            parts.append(f"role={role.name}")
        if channel is not None:
            parts.append(f"channel={channel.name}")
        await interaction.response.send_message(" ".join(parts))

    @bot.tree.command(description="Permissions check")
    async def perms(interaction: discord.Interaction) -> None:
        p = interaction.permissions
        await interaction.response.send_message(
            f"manage_guild={p.manage_guild} admin={p.administrator} "
            f"app_send={interaction.app_permissions.send_messages}"
        )

    @bot.tree.command(description="Feedback form")
    async def feedback(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(FeedbackModal())

    @bot.tree.command(description="Pick genres")
    async def genres(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("choose", view=GenreSelect())

    @bot.tree.command(description="Who is in voice")
    async def voice(interaction: discord.Interaction) -> None:
        assert interaction.guild is not None
        lines = [f"{vc.name}: {sorted(m.name for m in vc.members)}"
                 for vc in interaction.guild.voice_channels]
        await interaction.response.send_message("; ".join(lines))

    @bot.tree.command(description="Post to the channel")
    async def announce(interaction: discord.Interaction, text: str) -> None:
        await interaction.response.send_message("posting", ephemeral=True)
        assert interaction.channel is not None
        await interaction.channel.send(f"📣 {text}")

    @bot.tree.command(description="Reply, then delete it")
    async def temp(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("now you see me")
        await interaction.delete_original_response()

    @bot.tree.command(description="Calls an unknown route")
    async def weird(interaction: discord.Interaction) -> None:
        try:
            await bot.http.request(discord.http.Route("GET", "/nonexistent/thing"))
        except discord.NotFound:
            await interaction.response.send_message("route missing")

    async def setup_hook() -> None:
        bot.tree.copy_global_to(guild=guild)
        await bot.tree.sync(guild=guild)

    bot.setup_hook = setup_hook
    return bot


@pytest.fixture
async def emu():
    async with DiscordEmulator() as emu:
        yield emu


@pytest.fixture
def scene(emu: DiscordEmulator) -> Scene:
    guild = emu.world.create_guild("Movie Club", voice_channels=("Cinema",))
    mod_role = guild.add_role("Moderator", Permissions.MANAGE_GUILD | Permissions.KICK_MEMBERS)
    alice = guild.add_member("alice")
    mod = guild.add_member("mod", roles=[mod_role])
    return Scene(guild=guild, general=guild.channel("general"), cinema=guild.channel("Cinema"),
                 alice=alice, mod=mod, owner=guild.owner)


@pytest.fixture
def bot_factory():
    """``make_bot(guild_id)``: for tests that need to start a bot themselves."""
    return make_bot


@pytest.fixture
async def bot(emu: DiscordEmulator, scene: Scene):
    async with running_bot(make_bot(scene.guild.id), emu) as running:
        yield running
