"""The emulator's world model: users, guilds, channels, roles, members, voice states.

Plain dataclasses plus a snowflake generator and permission arithmetic. The JSON shapes Discord
sends for these objects live in :mod:`emulator.payloads`; this module only holds state.
"""

from __future__ import annotations

import enum
import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from discord.enums import ChannelType

DISCORD_EPOCH_MS = 1420070400000
# Channel types are discord.py's ChannelType (one source of truth, maintained upstream); a
# Channel stores the int Discord sends.
_TEXT, _VOICE = ChannelType.text.value, ChannelType.voice.value
_VOICE_TYPES = (_VOICE, ChannelType.stage_voice.value)


class Permissions(enum.IntFlag):
    """Discord permission bits (same values as ``discord.Permissions``)."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_AUDIT_LOG = 1 << 7
    PRIORITY_SPEAKER = 1 << 8
    STREAM = 1 << 9
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    SEND_TTS_MESSAGES = 1 << 12
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    VIEW_GUILD_INSIGHTS = 1 << 19
    CONNECT = 1 << 20
    SPEAK = 1 << 21
    MUTE_MEMBERS = 1 << 22
    DEAFEN_MEMBERS = 1 << 23
    MOVE_MEMBERS = 1 << 24
    USE_VAD = 1 << 25
    CHANGE_NICKNAME = 1 << 26
    MANAGE_NICKNAMES = 1 << 27
    MANAGE_ROLES = 1 << 28
    MANAGE_WEBHOOKS = 1 << 29
    MANAGE_GUILD_EXPRESSIONS = 1 << 30
    USE_APPLICATION_COMMANDS = 1 << 31
    REQUEST_TO_SPEAK = 1 << 32
    MANAGE_EVENTS = 1 << 33
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    USE_EXTERNAL_STICKERS = 1 << 37
    SEND_MESSAGES_IN_THREADS = 1 << 38
    USE_EMBEDDED_ACTIVITIES = 1 << 39
    MODERATE_MEMBERS = 1 << 40
    VIEW_CREATOR_MONETIZATION_ANALYTICS = 1 << 41
    USE_SOUNDBOARD = 1 << 42
    CREATE_GUILD_EXPRESSIONS = 1 << 43
    CREATE_EVENTS = 1 << 44
    USE_EXTERNAL_SOUNDS = 1 << 45
    SEND_VOICE_MESSAGES = 1 << 46
    SET_VOICE_CHANNEL_STATUS = 1 << 48
    SEND_POLLS = 1 << 49
    USE_EXTERNAL_APPS = 1 << 50
    PIN_MESSAGES = 1 << 51
    BYPASS_SLOWMODE = 1 << 52


ALL_PERMISSIONS = 0
for _perm in Permissions:
    ALL_PERMISSIONS |= int(_perm)

#: What a fresh guild's @everyone role allows (roughly Discord's default).
DEFAULT_EVERYONE_PERMISSIONS = int(
    Permissions.CREATE_INSTANT_INVITE
    | Permissions.ADD_REACTIONS
    | Permissions.STREAM
    | Permissions.VIEW_CHANNEL
    | Permissions.SEND_MESSAGES
    | Permissions.EMBED_LINKS
    | Permissions.ATTACH_FILES
    | Permissions.READ_MESSAGE_HISTORY
    | Permissions.USE_EXTERNAL_EMOJIS
    | Permissions.CONNECT
    | Permissions.SPEAK
    | Permissions.USE_VAD
    | Permissions.CHANGE_NICKNAME
    | Permissions.USE_APPLICATION_COMMANDS
    | Permissions.SEND_MESSAGES_IN_THREADS
    | Permissions.CREATE_PUBLIC_THREADS
    | Permissions.SEND_POLLS
)

#: Extra permissions given to the bot's managed role when it joins a guild.
DEFAULT_BOT_PERMISSIONS = DEFAULT_EVERYONE_PERMISSIONS | int(
    Permissions.MANAGE_MESSAGES | Permissions.SEND_TTS_MESSAGES | Permissions.MENTION_EVERYONE
)


class SnowflakeGenerator:
    """Generates increasing Discord snowflakes (timestamp << 22 | worker | increment)."""

    def __init__(self, worker: int = 1) -> None:
        self._worker = worker & 0x1F
        self._counter = itertools.count()
        self._last = 0

    def next(self) -> int:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        value = (ms << 22) | (self._worker << 17) | (next(self._counter) & 0xFFF)
        if value <= self._last:
            value = self._last + 1
        self._last = value
        return value

    def on_shard(self, shard_id: int, shard_count: int) -> int:
        """A new snowflake whose shard (``(id >> 22) % shard_count``) is ``shard_id``: its
        timestamp is moved at most ``shard_count - 1`` ms on; later ids stay above it."""
        value = self.next()
        ms = value >> 22
        value = ((ms + (shard_id - ms) % shard_count) << 22) | (value & ((1 << 22) - 1))
        self._last = max(self._last, value)
        return value

    __call__ = next


def snowflake_time(snowflake: int) -> datetime:
    """The creation time encoded in a snowflake."""
    return datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, tz=UTC)


def iso(dt: datetime | None = None) -> str:
    """ISO 8601 timestamp with timezone as Discord formats them (default: now)."""
    return (dt or datetime.now(UTC)).isoformat()


@dataclass(eq=False)
class User:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    locale: str = "en-US"

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


@dataclass(eq=False)
class Role:
    id: int
    guild: Guild
    name: str
    permissions: int = 0
    position: int = 0
    color: int = 0
    hoist: bool = False
    mentionable: bool = False
    managed: bool = False
    bot_id: int | None = None

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"


@dataclass
class Overwrite:
    """A channel permission overwrite for a role (type 0) or a member (type 1)."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0


@dataclass(eq=False)
class Channel:
    id: int
    guild: Guild | None
    name: str
    type: int = _TEXT
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    nsfw: bool = False
    overwrites: list[Overwrite] = field(default_factory=list)
    bitrate: int = 64000
    user_limit: int = 0

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    @property
    def is_voice(self) -> bool:
        return self.type in _VOICE_TYPES

    def set_overwrite(self, target: Role | Member, *, allow: int = 0, deny: int = 0
                      ) -> Overwrite:
        """Allow and deny permissions for a role (or @everyone) or a member in this channel,
        replacing an earlier overwrite for it, as Edit Channel > Permissions does. Later
        interactions carry the result (``member.permissions``, ``app_permissions``)."""
        kind = 1 if isinstance(target, Member) else 0
        overwrite = Overwrite(target.id, kind, allow=int(allow), deny=int(deny))
        self.overwrites = [ow for ow in self.overwrites
                           if not (ow.id == target.id and ow.type == kind)]
        self.overwrites.append(overwrite)
        return overwrite


@dataclass(eq=False)
class Member:
    user: User
    guild: Guild
    roles: list[Role] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=iso)
    deaf: bool = False
    mute: bool = False

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def mention(self) -> str:
        return f"<@{self.user.id}>"

    @property
    def display_name(self) -> str:
        return self.nick or self.user.global_name or self.user.username

    @property
    def is_owner(self) -> bool:
        return self.guild.owner_id == self.user.id

    def permissions(self, channel: Channel | None = None) -> int:
        """Computed permission integer (guild level, or in ``channel`` with overwrites)."""
        return self.guild.permissions_for(self, channel)

    def has(self, permission: int) -> bool:
        perms = self.permissions()
        return bool(perms & Permissions.ADMINISTRATOR) or (perms & permission) == permission


@dataclass
class VoiceState:
    member: Member
    channel: Channel
    session_id: str
    self_mute: bool = False
    self_deaf: bool = False


class EventStatus(enum.IntEnum):
    """A scheduled event's status (Discord's numbers)."""

    SCHEDULED = 1
    ACTIVE = 2
    COMPLETED = 3
    CANCELED = 4


@dataclass(eq=False)
class ScheduledEvent:
    """A guild scheduled event: voice/stage (``channel_id``) or external (``location``, with an
    end time); ``interested`` are the members who pressed "Interested", in that order."""

    id: int
    guild: Guild
    name: str
    start: str
    entity_type: int
    creator_id: int
    end: str | None = None
    channel_id: int | None = None
    location: str | None = None
    description: str | None = None
    image: str | None = None
    status: int = EventStatus.SCHEDULED
    privacy_level: int = 2
    interested: dict[int, None] = field(default_factory=dict)


@dataclass(eq=False)
class Guild:
    id: int
    name: str
    world: World
    owner_id: int = 0
    preferred_locale: str = "en-US"
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    voice_states: dict[int, VoiceState] = field(default_factory=dict)
    joined_at: str = field(default_factory=iso)
    scheduled_events: dict[int, ScheduledEvent] = field(default_factory=dict)

    # -- lookups ---------------------------------------------------------
    @property
    def everyone(self) -> Role:
        return self.roles[self.id]

    @property
    def owner(self) -> Member:
        return self.members[self.owner_id]

    @property
    def me(self) -> Member:
        """The bot's own member in this guild."""
        return self.members[self.world.bot_user.id]

    @property
    def bot_role(self) -> Role:
        """The bot's managed role (made when it joined, with ``World.bot_permissions``):
        change its ``permissions`` to give or take what the bot may do in this guild."""
        for role in self.me.roles:
            if role.managed and role.bot_id == self.world.bot_user.id:
                return role
        raise KeyError(f"the bot has no managed role in guild {self.name!r}")

    @property
    def text_channels(self) -> list[Channel]:
        return [c for c in self.channels.values() if c.type == _TEXT]

    @property
    def voice_channels(self) -> list[Channel]:
        return [c for c in self.channels.values() if c.is_voice]

    def channel(self, name: str) -> Channel:
        for ch in self.channels.values():
            if ch.name == name:
                return ch
        raise KeyError(f"no channel named {name!r} in guild {self.name!r}")

    def role(self, name: str) -> Role:
        for role in self.roles.values():
            if role.name == name:
                return role
        raise KeyError(f"no role named {name!r} in guild {self.name!r}")

    def member(self, name_or_id: str | int) -> Member:
        for m in self.members.values():
            if name_or_id in (m.user.id, m.user.username, m.nick):
                return m
        raise KeyError(f"no member {name_or_id!r} in guild {self.name!r}")

    # -- mutation --------------------------------------------------------
    def add_role(
        self,
        name: str,
        permissions: int = 0,
        *,
        color: int = 0,
        hoist: bool = False,
        mentionable: bool = False,
    ) -> Role:
        role = Role(
            id=self.world.ids(),
            guild=self,
            name=name,
            permissions=int(permissions),
            position=len(self.roles),
            color=color,
            hoist=hoist,
            mentionable=mentionable,
        )
        self.roles[role.id] = role
        return role

    def add_channel(
        self,
        name: str,
        type: ChannelType | int = _TEXT,
        *,
        topic: str | None = None,
        parent: Channel | None = None,
        overwrites: list[Overwrite] | None = None,
    ) -> Channel:
        ch = Channel(
            id=self.world.ids(),
            guild=self,
            name=name,
            type=type.value if isinstance(type, ChannelType) else int(type),
            position=len(self.channels),
            topic=topic,
            parent_id=parent.id if parent else None,
            overwrites=list(overwrites or []),
        )
        self.channels[ch.id] = ch
        return ch

    def add_text_channel(self, name: str, **kwargs) -> Channel:
        return self.add_channel(name, ChannelType.text, **kwargs)

    def add_voice_channel(self, name: str, **kwargs) -> Channel:
        return self.add_channel(name, ChannelType.voice, **kwargs)

    def add_member(
        self,
        user: User | str,
        *,
        roles: list[Role] | tuple[Role, ...] = (),
        nick: str | None = None,
    ) -> Member:
        if isinstance(user, str):
            user = self.world.create_user(user)
        member = Member(user=user, guild=self, roles=list(roles), nick=nick)
        self.members[user.id] = member
        return member

    def remove_member(self, member: Member) -> None:
        self.members.pop(member.id, None)
        self.voice_states.pop(member.id, None)

    def join_voice(
        self, member: Member, channel: Channel, *, self_mute: bool = False, self_deaf: bool = False
    ) -> VoiceState:
        """Put ``member`` in voice ``channel`` (moving them if already connected)."""
        if not channel.is_voice:
            raise ValueError(f"{channel.name!r} is not a voice channel")
        state = VoiceState(
            member=member,
            channel=channel,
            session_id=f"{self.world.ids():x}",
            self_mute=self_mute,
            self_deaf=self_deaf,
        )
        self.voice_states[member.id] = state
        return state

    def leave_voice(self, member: Member) -> VoiceState | None:
        return self.voice_states.pop(member.id, None)

    def event(self, name_or_id: str | int) -> ScheduledEvent:
        for event in self.scheduled_events.values():
            if name_or_id in (event.id, event.name):
                return event
        raise KeyError(f"no scheduled event {name_or_id!r} in guild {self.name!r}")

    def voice_members(self, channel: Channel) -> list[Member]:
        return [vs.member for vs in self.voice_states.values() if vs.channel is channel]

    # -- permissions -----------------------------------------------------
    def permissions_for(self, member: Member, channel: Channel | None = None) -> int:
        """Discord's permission algorithm: base role permissions, then channel overwrites."""
        if member.user.id == self.owner_id:
            return ALL_PERMISSIONS
        perms = self.everyone.permissions
        for role in member.roles:
            perms |= role.permissions
        if perms & Permissions.ADMINISTRATOR:
            return ALL_PERMISSIONS
        if channel is None or not channel.overwrites:
            return perms
        by_id = {ow.id: ow for ow in channel.overwrites}
        everyone = by_id.get(self.id)
        if everyone:
            perms = (perms & ~everyone.deny) | everyone.allow
        allow = deny = 0
        for role in member.roles:
            ow = by_id.get(role.id)
            if ow and ow.type == 0:
                allow |= ow.allow
                deny |= ow.deny
        perms = (perms & ~deny) | allow
        mine = by_id.get(member.id)
        if mine and mine.type == 1:
            perms = (perms & ~mine.deny) | mine.allow
        return perms


@dataclass
class World:
    """Everything the emulated Discord knows about.

    ``bot_user`` is the bot account clients log in as; its id doubles as the application id,
    as on real Discord for bots created after 2020.
    """

    ids: SnowflakeGenerator = field(default_factory=SnowflakeGenerator)
    users: dict[int, User] = field(default_factory=dict)
    guilds: dict[int, Guild] = field(default_factory=dict)
    bot_user: User = None  # type: ignore[assignment]
    app_owner: User = None  # type: ignore[assignment]
    application_name: str = "Emulated Bot"
    bot_permissions: int = DEFAULT_BOT_PERMISSIONS
    # Direct messages: the bot's DM channel with each user (POST /users/@me/channels), and
    # the users who closed their DMs (a message to them fails with 403, code 50007).
    dm_channels: dict[int, Channel] = field(default_factory=dict)  # user id -> channel
    closed_dms: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.bot_user is None:
            self.bot_user = self.create_user("emulated-bot", bot=True)
        if self.app_owner is None:
            self.app_owner = self.create_user("app-owner")

    @property
    def application_id(self) -> int:
        return self.bot_user.id

    def create_user(
        self, username: str, *, bot: bool = False, global_name: str | None = None
    ) -> User:
        user = User(id=self.ids(), username=username, global_name=global_name, bot=bot)
        self.users[user.id] = user
        return user

    def create_guild(
        self,
        name: str = "Test Guild",
        *,
        owner: User | str | None = None,
        channels: tuple[str, ...] = ("general",),
        voice_channels: tuple[str, ...] = (),
        everyone_permissions: int = DEFAULT_EVERYONE_PERMISSIONS,
        with_bot: bool = True,
        shard: tuple[int, int] | None = None,
    ) -> Guild:
        """Create a guild with an @everyone role, an owner member and some channels.

        ``shard=(shard_id, shard_count)`` picks an id on that shard (Discord's rule
        ``(guild_id >> 22) % shard_count``), to spread guilds over a sharded bot.

        The bot is a member (with a managed role carrying ``bot_permissions``) unless
        ``with_bot`` is false. Creating a guild does not notify connected clients; use
        ``DiscordEmulator.add_guild`` for that.
        """
        gid = self.ids() if shard is None else self.ids.on_shard(*shard)
        guild = Guild(id=gid, name=name, world=self)
        guild.roles[gid] = Role(
            id=gid, guild=guild, name="@everyone", permissions=int(everyone_permissions)
        )
        if owner is None:
            owner = f"{name.lower().replace(' ', '-')}-owner"
        if isinstance(owner, str):
            owner = self.create_user(owner)
        guild.owner_id = owner.id
        guild.add_member(owner)
        for ch in channels:
            guild.add_text_channel(ch)
        for ch in voice_channels:
            guild.add_voice_channel(ch)
        if with_bot:
            self.add_bot_to(guild)
        self.guilds[gid] = guild
        return guild

    def add_bot_to(self, guild: Guild) -> Member:
        role = guild.add_role(self.application_name, self.bot_permissions)
        role.managed = True
        role.bot_id = self.bot_user.id
        return guild.add_member(self.bot_user, roles=[role])

    def guild(self, name_or_id: str | int) -> Guild:
        for g in self.guilds.values():
            if name_or_id in (g.id, g.name):
                return g
        raise KeyError(f"no guild {name_or_id!r}")

    def channel(self, channel_id: int) -> Channel | None:
        for g in self.guilds.values():
            ch = g.channels.get(channel_id)
            if ch is not None:
                return ch
        return next((ch for ch in self.dm_channels.values() if ch.id == channel_id), None)

    def dm_channel(self, user: User) -> Channel:
        """The bot's DM channel with `user` (made on first use, as Discord does)."""
        channel = self.dm_channels.get(user.id)
        if channel is None:
            channel = Channel(id=self.ids(), guild=None, name="", type=ChannelType.private.value)
            self.dm_channels[user.id] = channel
        return channel

    def dm_recipient(self, channel: Channel) -> int | None:
        """The user a DM channel is with (None for a guild channel)."""
        return next((uid for uid, ch in self.dm_channels.items() if ch is channel), None)
