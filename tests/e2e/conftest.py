"""Shared end-to-end fixture: the real bot (`bot.create_bot`) against the Discord emulator.

`env` gives every e2e test a fresh temporary database (on SQLite a copy of the one a first
start leaves, tests/first_start.py), an emulator world with two guilds and the running bot:

* "Film Club" (`env.guild`, the dev guild): owner, `admin` (a role with Manage Server),
  `alice`, `bob`, `carol`, `dave`, a text channel `env.channel` and a voice channel `env.voice`;
* "Other Guild" (`env.guild2`): its own owner (`env.owner2`) plus alice and bob again (same
  users, different member objects: `env.alice2`, `env.bob2`), text channel `env.channel2`.

Tests drive slash commands (`env.slash`, `env.answer`); bulk data may be seeded straight
through storage (`env.seed`, then `env.train`), the command under test still goes through the
emulator. Commands are synced to the dev guild (the bot's own setup) and globally (here), so
both guilds can run them. After each test the emulator must have seen no unknown routes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import pytest
import timeouts
from discord.enums import InteractionType
from first_start import first_start_database

from bot import create_bot
from bot.config import LimitSettings, Settings, TrainingSettings
from emulator import (
    Channel,
    DiscordEmulator,
    EmulatorTimeout,
    Guild,
    Interaction,
    Member,
    Permissions,
    Reply,
    quiet_discord_logging,
    running_bot,
)
from emulator import interactions as emu_interactions

quiet_discord_logging()

# Synthetic members used only through storage seeding (never in the emulator world).
FAN_BASE = 900_000_000_000_000_000

SCIFI = ("Star Wars", "Alien", "Superman", "Planet of the Apes", "2001: A Space Odyssey",
         "Jaws", "Goldfinger", "Enter the Dragon")
ROMANCE = ("Casablanca", "Roman Holiday", "Singin' in the Rain", "The Apartment",
           "Breakfast at Tiffany's", "Vertigo", "It Happened One Night", "City Lights")


@dataclass
class Env:
    emu: DiscordEmulator
    bot: Any
    guild: Guild
    guild2: Guild
    channel: Channel
    channel2: Channel
    voice: Channel
    owner: Member
    admin: Member
    alice: Member
    bob: Member
    carol: Member
    dave: Member
    owner2: Member
    alice2: Member
    bob2: Member
    tmp_path: Path
    _movies: dict[str, Any] = field(default_factory=dict)

    # Test modules cannot import this conftest reliably (no packages under tests/): they reach
    # the shared data through the fixture.
    SCIFI: ClassVar[tuple[str, ...]] = SCIFI
    ROMANCE: ClassVar[tuple[str, ...]] = ROMANCE
    FAN_BASE: ClassVar[int] = FAN_BASE

    @property
    def storage(self):
        return self.bot.storage

    @property
    def service(self):
        return self.bot.recommendations

    # ------------------------------------------------------------------ driving commands
    def default_channel(self, member: Member) -> Channel:
        return self.channel if member.guild is self.guild else self.channel2

    async def slash(self, member: Member, command: str, /, *, channel: Channel | None = None,
                    **options: Any) -> Interaction:
        """Run `/command` as `member` (in their guild's text channel unless told)."""
        return await self.emu.slash(member, channel or self.default_channel(member), command,
                                    **options)

    async def raw_slash(self, member: Member, command: str, options: list[dict[str, Any]],
                        *, channel: Channel | None = None) -> Interaction:
        """Send an application command with hand-made options, bypassing the emulator's
        client-side checks (min/max values, choices): what a modified client could send."""
        cmd = self.emu.find_command(command, member.guild)
        data: dict[str, Any] = {"id": cmd["id"], "name": cmd["name"], "type": 1,
                                "options": options}
        if cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        payload = emu_interactions.base_payload(
            self.emu, InteractionType.application_command, member,
            channel or self.default_channel(member), data)
        return await emu_interactions.send(self.emu, payload, f"/{command} (raw)")

    async def raw_modal(self, member: Member, custom_id: str, values: Mapping[str, str],
                        *, channel: Channel | None = None) -> Interaction:
        """Submit a modal with arbitrary field values (even empty required ones)."""
        data = {"custom_id": custom_id, "components": [
            {"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]}
            for k, v in values.items()]}
        payload = emu_interactions.base_payload(
            self.emu, InteractionType.modal_submit, member,
            channel or self.default_channel(member), data)
        return await emu_interactions.send(self.emu, payload, f"modal {custom_id} (raw)")

    async def answer(self, inter: Interaction, wait: float = 10.0) -> Reply:
        """What the member finally sees for an interaction: the reply, or after a defer the
        edited original (or the first followup, for errors raised after deferring). `wait`
        is what a quiet machine needs, scaled by the run's timeout factor."""
        wait = timeouts.scaled(wait)
        first = await inter.response(wait)
        if first.type == 6:
            # A deferred update (a button whose work outlived `cogs.ui.acks.ACK_AFTER`): what
            # the member sees next is the message's edit, or a followup.
            def edited() -> Reply | None:
                if inter.edits:
                    return inter.final() or inter.edits[-1]
                if inter.followup_replies:
                    return inter.followup_replies[0]
                return None

            return await self.emu.wait_until(edited, wait, f"the answer to {inter.label}")
        if not first.deferred:
            if first.message is not None:
                return inter.final() or first
            return first

        def done() -> Reply | None:
            final = inter.final()
            if final is not None and not final.loading:
                return final
            if inter.followup_replies:
                return inter.followup_replies[0]
            return None

        return await self.emu.wait_until(done, wait, f"the answer to {inter.label}")

    async def text(self, inter: Interaction, wait: float = 10.0) -> str:
        return (await self.answer(inter, wait)).rendered_text()

    async def run(self, member: Member, command: str, /, **options: Any) -> Reply:
        """Slash command + wait for the answer."""
        return await self.answer(await self.slash(member, command, **options))

    # ------------------------------------------------------------------ data
    def in_guild(self, member: Member, guild: Guild) -> Member:
        return guild.members[member.id]

    async def movie(self, title: str, guild: Guild | None = None):
        """A movie visible in `guild` (default: Film Club) by exact title or best search hit."""
        guild = guild or self.guild
        found = await self.storage.resolve_movie(guild.id, title)
        if found is None:
            hits = await self.storage.search_movies(guild.id, title, limit=1)
            assert hits, f"no movie {title!r} visible in {guild.name}"
            found = hits[0]
        return found

    async def seed(self, guild: Guild, ratings: Mapping[int, Mapping[Any, int]],
                   *, train: bool = True) -> None:
        """Bulk ratings straight through storage: {user_id: {title | Movie: score}}."""
        for user_id, scores in ratings.items():
            for key, score in scores.items():
                movie = key if hasattr(key, "id") else await self.movie(key, guild)
                await self.storage.upsert_rating(guild.id, user_id, movie.id, score)
            await self.service.rating_changed(guild.id, user_id)
        if train:
            await self.train(guild)

    async def train(self, guild: Guild) -> None:
        """Make sure the guild's model is fitted on everything stored so far."""
        await self.service.top(guild.id, 1)  # loads/starts the model on first use
        await self.service.wait_idle(guild.id)

    async def seed_taste_clusters(self, guild: Guild, *, fans: int = 4,
                                  favourite: Iterable[str] = SCIFI,
                                  other: Iterable[str] = ROMANCE,
                                  base: int = FAN_BASE, train: bool = True) -> list[int]:
        """`fans` members who love `favourite` and dislike `other`, and as many the other way
        round (deterministic small noise). Returns the synthetic user ids."""
        favourite, other = tuple(favourite), tuple(other)
        ratings: dict[int, dict[str, int]] = {}
        users = []
        for i in range(2 * fans):
            uid = base + i
            users.append(uid)
            loves, hates = (favourite, other) if i < fans else (other, favourite)
            row = {}
            for j, title in enumerate(loves):
                row[title] = 8 + (i + j) % 3  # 8..10
            for j, title in enumerate(hates):
                row[title] = 2 + (i * 3 + j) % 3  # 2..4
            ratings[uid] = row
        await self.seed(guild, ratings, train=train)
        return users

    async def rating(self, member: Member, title: str, guild: Guild | None = None) -> int | None:
        guild = guild or member.guild
        movie = await self.movie(title, guild)
        return await self.storage.get_rating(guild.id, member.id, movie.id)

    def set_cooldown(self, seconds: float) -> None:
        settings = self.bot.settings
        self.bot.settings = replace(settings,
            limits=LimitSettings(recommend_cooldown_seconds=seconds,
                                 guild_movie_cap=settings.limits.guild_movie_cap))


def build_world(emu: DiscordEmulator) -> dict[str, Any]:
    world = emu.world
    guild = world.create_guild("Film Club", owner="owner", channels=("general",),
                               voice_channels=("Cinema",))
    mods = guild.add_role("Moderators", Permissions.MANAGE_GUILD)
    admin = guild.add_member("admin", roles=[mods])
    alice = guild.add_member("alice")
    bob = guild.add_member("bob")
    carol = guild.add_member("carol")
    dave = guild.add_member("dave")
    guild2 = world.create_guild("Other Guild", owner="owner2", channels=("lobby",))
    alice2 = guild2.add_member(alice.user)
    bob2 = guild2.add_member(bob.user)
    return dict(guild=guild, guild2=guild2, channel=guild.channel("general"),
                channel2=guild2.channel("lobby"), voice=guild.channel("Cinema"),
                owner=guild.owner, admin=admin, alice=alice, bob=bob, carol=carol, dave=dave,
                owner2=guild2.owner, alice2=alice2, bob2=bob2)


@pytest.fixture
def e2e_database_url() -> str:
    """The bot's `[storage] url`: "" = SQLite in tmp_path; a module overrides it to run the
    same world on PostgreSQL (tests/e2e/test_e2e_postgres.py)."""
    return ""


@pytest.fixture
async def env(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory,
              request: pytest.FixtureRequest):
    try:  # folders that re-export `env` alone (tests/reliability) run on SQLite
        database_url = str(request.getfixturevalue("e2e_database_url"))
    except pytest.FixtureLookupError:
        database_url = ""
    if not database_url:  # the bot starts on a copy of a first start's database (first_start.py)
        await first_start_database(tmp_path / "bot.sqlite3", tmp_path_factory)
    try:  # a module may configure more (media servers' imitations: test_e2e_media.py)
        overrides = dict(request.getfixturevalue("e2e_settings"))
    except pytest.FixtureLookupError:
        overrides = {}
    async with DiscordEmulator() as emu:
        parts = build_world(emu)
        settings = Settings(
            database=tmp_path / "bot.sqlite3",
            database_url=database_url,
            dev_guild_id=parts["guild"].id,
            owner_ids=(parts["owner"].id,),
            training=TrainingSettings(debounce_seconds=0.0),
            # No cooldown and no per-member budgets (tests send many commands as one member);
            # the tests of those limits set their own (tests/reliability/test_rel_limits.py,
            # test_rel_floods.py).
            limits=LimitSettings(recommend_cooldown_seconds=0.0, autocomplete_burst=0,
                                 command_burst=0),
        )
        settings = replace(settings, **overrides)
        bot = create_bot(settings, guild_ready_timeout=0.1)
        async with running_bot(bot, emu) as running:
            await running.tree.sync()  # global too, so "Other Guild" has the commands
            environment = Env(emu=emu, bot=running, tmp_path=tmp_path, **parts)
            yield environment
            # Let fits started by the test finish before the bot closes.
            for guild in (environment.guild, environment.guild2):
                if running.recommendations is None:  # the test closed the bot itself
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(running.recommendations.wait_idle(guild.id), 10)
        emu.assert_no_unknown_routes()
        emu.assert_within_limits()  # no reply broke Discord's size limits
        assert not emu.errors, f"emulator errors: {emu.errors!r}"


__all__ = ["FAN_BASE", "ROMANCE", "SCIFI", "EmulatorTimeout", "Env"]
