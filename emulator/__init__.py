"""A local Discord emulator that a real, unmodified discord.py client logs into.

Real HTTP (REST under ``/api/v10``) and a real gateway websocket on 127.0.0.1, a small world
model (guilds, channels, members, roles, voice), helpers that send interactions exactly as
Discord does, request recording, and fault switches. See ``emulator.server.DiscordEmulator``.

Usage::

    async with DiscordEmulator() as emu:               # binds 127.0.0.1:0, patches discord.py
        guild = emu.world.create_guild("Club", voice_channels=("Cinema",))
        alice = guild.add_member("alice")
        bot = make_my_bot(guild_ready_timeout=0.1)      # setup_hook syncs the command tree
        async with running_bot(bot, emu):
            inter = await emu.slash(alice, guild.channel("general"), "rate", movie="Heat", score=8)
            reply = await inter.response()              # Reply: content, embeds, ephemeral...
            assert reply.ephemeral and "8/10" in reply.content
        emu.assert_no_unknown_routes()
"""

from .faults import Fault, FaultPlan
from .render import rendered_text
from .replies import EmulatorTimeout, Interaction, RecordedRequest, Reply
from .server import DiscordEmulator
from .testing import fast_retries, quiet_discord_logging, running_bot
from .world import (
    ALL_PERMISSIONS,
    Channel,
    ChannelType,
    EventStatus,
    Guild,
    Member,
    Overwrite,
    Permissions,
    Role,
    ScheduledEvent,
    User,
    World,
)

__all__ = [
    "ALL_PERMISSIONS",
    "Channel",
    "ChannelType",
    "DiscordEmulator",
    "EmulatorTimeout",
    "EventStatus",
    "Fault",
    "FaultPlan",
    "Guild",
    "Interaction",
    "Member",
    "Overwrite",
    "Permissions",
    "RecordedRequest",
    "Reply",
    "Role",
    "ScheduledEvent",
    "User",
    "World",
    "fast_retries",
    "quiet_discord_logging",
    "rendered_text",
    "running_bot",
]
