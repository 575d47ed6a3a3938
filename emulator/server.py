"""``DiscordEmulator``: the aiohttp server tying world, gateway, REST, faults and records together.

Binds 127.0.0.1 on an ephemeral port. ``point_discord_py_here()`` patches discord.py's
``Route.BASE`` and ``DiscordWebSocket.DEFAULT_GATEWAY`` (process-wide class attributes, so one
emulator per process at a time is pointed at); ``stop()`` restores them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, TypeVar

import yarl
from aiohttp import web
from discord.enums import AppCommandType

from . import events as _events
from . import interactions as _ix
from .faults import FaultPlan
from .gateway import GatewayHub
from .messages import EPHEMERAL, MessageStore
from .payloads import guild_create_payload, member_payload, voice_state_payload
from .polls import PollBox
from .replies import EmulatorTimeout, Interaction, RecordedRequest, Reply
from .rest import API_PREFIX, get_attachment, make_api_handler
from .world import Channel, EventStatus, Guild, Member, Role, ScheduledEvent, User, World

T = TypeVar("T")

# Gateway intent bits the emulator honours when dispatching.
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_VOICE_STATES = 1 << 7
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_MESSAGE_CONTENT = 1 << 15


class DiscordEmulator:
    """A local Discord: REST under ``/api/v10`` plus a gateway websocket.

    ``token``: if set, REST calls and IDENTIFY must use it (else any token is accepted).
    """

    def __init__(
        self,
        world: World | None = None,
        *,
        token: str | None = None,
        heartbeat_interval_ms: int = 41250,
        host: str = "127.0.0.1",
    ) -> None:
        self.world = world or World()
        self.token = token
        self.host = host
        self.port: int | None = None
        self.faults = FaultPlan()
        self.gateway = GatewayHub(self, heartbeat_interval_ms)
        self.messages = MessageStore(self.world)
        self.requests: list[RecordedRequest] = []
        self.unknown_routes: list[RecordedRequest] = []
        self.errors: list[BaseException] = []
        # Bodies refused for breaking Discord's limits: {"method", "path", "errors"} (limits.py).
        self.rejections: list[dict[str, Any]] = []
        self.interactions: dict[str, Interaction] = {}
        self.interaction_log: list[Interaction] = []
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        self.command_syncs: list[tuple[int | None, list[dict[str, Any]]]] = []
        self.modals: dict[str, tuple[dict[str, Any], Interaction]] = {}
        self.sent_messages: list[Reply] = []
        self.polls = PollBox(self)  # native polls' votes (emulator.polls)
        self.poll_results: list[dict[str, Any]] = []  # Discord's poll_result messages
        self.event_images: dict[str, bytes] = {}  # scheduled events' covers by hash
        self._runner: web.AppRunner | None = None
        self._saved: tuple[Any, Any] | None = None
        self._event = asyncio.Event()

    # -- lifecycle -------------------------------------------------------------
    def _app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}",
                           self._attachment)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", make_api_handler(self))
        app.router.add_route("*", "/{tail:.*}", self._outside_api)
        return app

    async def _attachment(self, request: web.Request) -> web.Response:
        return await get_attachment(self, request)

    async def _outside_api(self, request: web.Request) -> web.Response:
        rec = RecordedRequest(request.method, request.path, None, 404, unknown_route=True)
        self.requests.append(rec)
        self.unknown_routes.append(rec)
        return web.Response(status=404, text="404: Not Found")

    async def start(self) -> DiscordEmulator:
        self._event = asyncio.Event()
        self._runner = web.AppRunner(self._app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        self.port = server.sockets[0].getsockname()[1]
        self.messages.base_url = self.base_url
        return self

    async def stop(self) -> None:
        self.restore_discord_py()
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> DiscordEmulator:
        await self.start()
        self.point_discord_py_here()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("emulator not started")
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway"

    def point_discord_py_here(self) -> None:
        """Make every discord.py client in this process talk to this emulator."""
        import discord.gateway
        import discord.http

        if self._saved is None:
            ws_cls = discord.gateway.DiscordWebSocket
            self._saved = (discord.http.Route.BASE, ws_cls.DEFAULT_GATEWAY)
        discord.http.Route.BASE = self.api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)

    def restore_discord_py(self) -> None:
        import discord.gateway
        import discord.http

        if self._saved is not None:
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self._saved
            self._saved = None

    def token_ok(self, token: str | None) -> bool:
        return self.token is None or token == self.token

    # -- sharding ----------------------------------------------------------------
    def configure_sharding(self, shards: int = 1, *, max_concurrency: int = 1,
                           enforce_identify_rate: bool = True, identify_window: float = 5.0,
                           max_guilds_per_shard: int = 2500) -> None:
        """What ``GET /gateway/bot`` recommends, and how strictly IDENTIFYs are checked
        (see ``emulator.gateway``): one per ``identify_window`` s per bucket."""
        gateway = self.gateway
        gateway.recommended_shards = shards
        gateway.max_concurrency = max_concurrency
        gateway.enforce_identify_rate = enforce_identify_rate
        gateway.identify_window = identify_window
        gateway.max_guilds_per_shard = max_guilds_per_shard

    def create_sharded_guilds(self, count: int, shard_count: int, name: str = "Guild",
                              **kwargs: Any) -> list[Guild]:
        """``count`` guilds spread round-robin over ``shard_count`` shards (guild i on shard
        ``i % shard_count``), named "<name> <i>"; not announced (as ``World.create_guild``)."""
        return [self.world.create_guild(f"{name} {i}", shard=(i % shard_count, shard_count),
                                        **kwargs) for i in range(count)]

    def sessions_by_shard(self) -> dict[int, list[Any]]:
        """Live sessions by shard id."""
        found: dict[int, list[Any]] = {}
        for session in self.gateway.live_sessions:
            found.setdefault(session.shard[0], []).append(session)
        return found

    # -- waiting -----------------------------------------------------------------
    def _notify(self) -> None:
        self._event.set()

    async def wait_until(self, check: Callable[[], T | None], timeout: float = 5.0,  # noqa: ASYNC109
                         what: str = "condition") -> T:
        """Wait until ``check()`` returns something truthy; return it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = check()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise EmulatorTimeout(f"timed out after {timeout}s waiting for {what}\n"
                                      + self.diagnostics())
            self._event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), min(remaining, 0.01))

    async def wait_for_request(self, pattern: str, timeout: float = 5.0, *,  # noqa: ASYNC109
                               after: int = 0) -> RecordedRequest:
        """First recorded request (index >= ``after``) matching a fault-style pattern."""
        from .faults import Fault

        probe = Fault(pattern, "probe", None)

        def check() -> RecordedRequest | None:
            for rec in self.requests[after:]:
                if rec.status and probe.matches(rec.method, rec.path):
                    return rec
            return None

        return await self.wait_until(check, timeout, f"a request matching {pattern!r}")

    async def wait_for_message(
        self, channel: Channel | None = None, timeout: float = 5.0, *, after: int = 0,  # noqa: ASYNC109
        check: Callable[[Reply], bool] | None = None,
    ) -> Reply:
        """A message the bot posted with ``POST /channels/{id}/messages``."""

        def find() -> Reply | None:
            for r in self.sent_messages[after:]:
                if channel is not None and r.channel_id != channel.id:
                    continue
                if check is None or check(r):
                    return r
            return None

        return await self.wait_until(find, timeout, "a channel message from the bot")

    def diagnostics(self, last: int = 15) -> str:
        lines = ["recent requests:"]
        lines += [f"  {r!r}" for r in self.requests[-last:]] or ["  (none)"]
        if self.unknown_routes:
            lines.append(f"unknown routes: {self.unknown_routes}")
        if self.errors:
            lines.append(f"emulator errors: {self.errors!r}")
        if self.rejections:
            lines.append(f"refused over Discord's limits: {self.limit_violations()}")
        sessions = [(s.id, s.conn is not None, s.invalid) for s in self.gateway.sessions.values()]
        lines.append(f"gateway sessions (id, connected, invalid): {sessions}")
        return "\n".join(lines)

    def assert_no_unknown_routes(self) -> None:
        assert not self.unknown_routes, (
            "the client called routes the emulator does not know: "
            + ", ".join(f"{r.method} {r.path}" for r in self.unknown_routes)
        )

    def limit_violations(self) -> list[str]:
        """One line per limit broken by a refused body: "METHOD path: embeds.0.title: ..."."""
        from .limits import flatten

        return [f"{r['method']} {r['path']}: {line}" for r in self.rejections
                for line in flatten(r["errors"])]

    def assert_within_limits(self) -> None:
        """Every body the client sent kept to Discord's limits (nothing refused with 50035)."""
        assert not self.rejections, (
            "the client sent bodies Discord would refuse (400, code 50035):\n"
            + "\n".join(self.limit_violations()))

    def requests_matching(self, pattern: str) -> list[RecordedRequest]:
        from .faults import Fault

        probe = Fault(pattern, "probe", None)
        return [r for r in self.requests if probe.matches(r.method, r.path)]

    # -- commands ----------------------------------------------------------------
    def registered_commands(self, guild: Guild | None = None) -> list[dict[str, Any]]:
        """Commands synced globally (``guild=None``) or to ``guild``."""
        return list(self.commands.get(guild.id if guild else None, []))

    def find_command(self, name: str, guild: Guild | None = None,
                     locale: str | None = None) -> dict[str, Any]:
        """A registered chat-input command, guild commands first, then global. With `locale`
        (a member's client language), also by the name that client shows
        (`name_localizations`), as a member types it."""
        scopes = ([guild.id] if guild else []) + [None]
        for key in scopes:
            for cmd in self.commands.get(key, []):
                chat_input = AppCommandType.chat_input.value
                if cmd.get("type", chat_input) == chat_input and name in (
                        cmd["name"], _ix.localized_name(cmd, locale)):
                    return cmd
        known = sorted({c["name"] for k in scopes for c in self.commands.get(k, [])})
        raise LookupError(f"command {name!r} is not registered (registered: {known}); "
                          "did the bot sync its tree?")

    # -- interactions ------------------------------------------------------------
    async def slash(self, member: Member, channel: Channel | None, command: str, /,
                    options: dict[str, Any] | None = None, **kwargs: Any) -> Interaction:
        """Run ``/command [sub ...]`` as ``member`` in ``channel``; kwargs are options."""
        return await _ix.slash(self, member, channel, command, options, **kwargs)

    async def autocomplete(self, member: Member, channel: Channel | None, command: str, /,
                           focused: str, options: dict[str, Any] | None = None,
                           **kwargs: Any) -> Interaction:
        """Autocomplete request while typing option ``focused``."""
        return await _ix.autocomplete(self, member, channel, command, focused, options, **kwargs)

    async def click(self, member: Member, message: Any, custom_id: str) -> Interaction:
        """Click a button on a message (Reply, message dict or id)."""
        return await _ix.click(self, member, message, custom_id)

    async def select(self, member: Member, message: Any, custom_id: str,
                     values: list[Any]) -> Interaction:
        """Choose ``values`` in a select menu on a message."""
        return await _ix.select(self, member, message, custom_id, values)

    async def submit_modal(self, member: Member, channel: Channel | None, custom_id: str,
                           values: dict[str, Any]) -> Interaction:
        """Submit a modal the bot opened (or an ad-hoc one) with ``{field_id: value}``."""
        return await _ix.submit_modal(self, member, channel, custom_id, values)

    def message(self, message_id: int) -> Reply | None:
        msg = self.messages.get(message_id)
        if msg is None:
            return None
        return Reply.from_message(msg, self.messages,
                                  allowed_mentions=self.messages.allowed_mentions.get(message_id))

    def channel_messages(self, channel: Channel) -> list[Reply]:
        """Every live message in ``channel`` (oldest first), as currently rendered."""
        msgs = sorted(self.messages.in_channel(channel.id), key=lambda m: int(m["id"]))
        return [r for r in (self.message(int(m["id"])) for m in msgs) if r is not None]

    # -- gateway-side world changes ---------------------------------------------------
    async def _dispatch_intent(self, event: str, data: dict[str, Any], guild_id: int | None,
                               intent: int) -> None:
        for session in self.gateway.live_sessions:
            if session.intents & intent and session.wants_guild(guild_id):
                await self.gateway._send_dispatch(session, event, data)

    async def dispatch_message(self, event: str, message: dict[str, Any]) -> None:
        """MESSAGE_CREATE/UPDATE/DELETE for non-ephemeral guild messages (needs the intent)."""
        if message["flags"] & EPHEMERAL or "guild_id" not in message:
            return
        guild_id = int(message["guild_id"])
        if event == "MESSAGE_DELETE":
            data = {"id": message["id"], "channel_id": message["channel_id"],
                    "guild_id": message["guild_id"]}
        else:
            data = dict(message)
            guild = self.world.guilds.get(guild_id)
            author = guild.members.get(int(message["author"]["id"])) if guild else None
            if author is not None:
                data["member"] = member_payload(author, with_user=False)
        await self._dispatch_intent(event, data, guild_id, INTENT_GUILD_MESSAGES)

    async def add_guild(self, name: str = "New Guild", **kwargs: Any) -> Guild:
        """Create a guild with the bot in it and send GUILD_CREATE (-> on_guild_join)."""
        guild = self.world.create_guild(name, **kwargs)
        data = guild_create_payload(guild)
        # A join carries no ``unavailable`` key; ``unavailable: false`` means "outage over".
        data.pop("unavailable")
        await self._dispatch_intent("GUILD_CREATE", data, guild.id, INTENT_GUILDS)
        return guild

    async def remove_guild(self, guild: Guild) -> None:
        """Kick the bot: GUILD_DELETE without ``unavailable`` (-> on_guild_remove)."""
        self.world.guilds.pop(guild.id, None)
        await self._dispatch_intent("GUILD_DELETE", {"id": str(guild.id)}, guild.id,
                                    INTENT_GUILDS)

    async def add_member(self, guild: Guild, user: User | str, *, roles: tuple[Role, ...] = (),
                         nick: str | None = None) -> Member:
        """Add a member at runtime (GUILD_MEMBER_ADD, needs the members intent)."""
        member = guild.add_member(user, roles=list(roles), nick=nick)
        data = {**member_payload(member), "guild_id": str(guild.id)}
        await self._dispatch_intent("GUILD_MEMBER_ADD", data, guild.id, INTENT_GUILD_MEMBERS)
        return member

    async def join_voice(self, member: Member, channel: Channel, **kwargs: Any) -> None:
        """Put ``member`` in a voice channel (VOICE_STATE_UPDATE at runtime)."""
        state = member.guild.join_voice(member, channel, **kwargs)
        await self._dispatch_intent("VOICE_STATE_UPDATE",
                                    voice_state_payload(state, with_member=True),
                                    member.guild.id, INTENT_GUILD_VOICE_STATES)

    async def leave_voice(self, member: Member) -> None:
        state = member.guild.leave_voice(member)
        if state is None:
            return
        data = voice_state_payload(state, with_member=True)
        data["channel_id"] = None
        await self._dispatch_intent("VOICE_STATE_UPDATE", data, member.guild.id,
                                    INTENT_GUILD_VOICE_STATES)

    async def send_message(self, member: Member, channel: Channel, content: str) -> dict[str, Any]:
        """A user posts a message (MESSAGE_CREATE; content hidden without the intent)."""
        msg = self.messages.create(channel_id=channel.id, guild_id=member.guild.id,
                                   body={"content": content}, author=member.user)
        data = {**msg, "member": member_payload(member, with_user=False)}
        bot_id = str(self.world.bot_user.id)
        for session in self.gateway.live_sessions:
            if not (session.intents & INTENT_GUILD_MESSAGES and
                    session.wants_guild(member.guild.id)):
                continue
            visible = dict(data)
            if not session.intents & INTENT_MESSAGE_CONTENT and bot_id not in content:
                visible.update(content="", embeds=[], attachments=[], components=[])
            await self.gateway._send_dispatch(session, "MESSAGE_CREATE", visible)
        return msg

    # -- polls and scheduled events (members' side) -----------------------------------------
    async def poll_vote(self, member: Member, message: Any, answer_id: int) -> None:
        """``member`` votes ``answer_id`` (1-based) in a message's poll (MESSAGE_POLL_VOTE_ADD)."""
        await self.polls.vote(member, message, answer_id)

    async def poll_unvote(self, member: Member, message: Any, answer_id: int) -> None:
        await self.polls.unvote(member, message, answer_id)

    async def end_poll(self, message: Any) -> dict[str, Any]:
        """Discord's timer ends a poll: final results plus a poll_result message."""
        return await self.polls.end(message)

    async def event_interested(self, member: Member, event: ScheduledEvent) -> None:
        """``member`` presses "Interested" on a scheduled event (USER_ADD)."""
        await _events.interested(self, member, event)

    async def event_not_interested(self, member: Member, event: ScheduledEvent) -> None:
        await _events.not_interested(self, member, event)

    async def set_event_status(self, event: ScheduledEvent, status: EventStatus) -> None:
        await _events.set_status(self, event, status)

    async def drop_websocket(self, code: int = 4000, *, abrupt: bool = False,
                             wait_reconnect: bool = True, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Close the gateway socket(s); by default wait until the client is back (RESUME)."""
        before = self.gateway.connect_count
        await self.gateway.drop(code, abrupt=abrupt)
        if wait_reconnect:
            await self.gateway.wait_connected(timeout, after=before)
