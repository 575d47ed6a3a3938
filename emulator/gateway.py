"""The gateway websocket: HELLO, heartbeats, IDENTIFY -> READY + GUILD_CREATE, RESUME.

Frames are plain JSON text (discord.py only inflates binary frames, so no zlib is needed).
Each IDENTIFY opens a :class:`Session` with its own sequence counter and event log; when a
connection drops, dispatches are buffered in the session and replayed on RESUME. Sharded
clients (``shard: [id, count]``) only get their guilds' events (a guild's shard is
``(guild_id >> 22) % count``; events without a guild go to shard 0). Several connections may be
open at once.

Sharding as Discord answers it: ``GET /gateway/bot`` reports ``recommended_shards`` and
``max_concurrency``; an IDENTIFY with a shard outside ``[0, count)`` is closed with 4010 (invalid
shard), one whose shard would hold more than ``max_guilds_per_shard`` guilds with 4011
(sharding required). With ``enforce_identify_rate`` on, each bucket ``shard_id %
max_concurrency`` takes one IDENTIFY per ``identify_window`` seconds (Discord: 5 s); another
one in the window gets op 9 INVALID_SESSION (``d: false``) and no session. Every IDENTIFY
lands in ``identify_log``, every refusal in ``identify_refusals``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .payloads import client_user_payload, guild_create_payload, member_payload

if TYPE_CHECKING:
    from .server import DiscordEmulator

log = logging.getLogger(__name__)

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE_UPDATE, VOICE_STATE_UPDATE = 0, 1, 2, 3, 4
RESUME, RECONNECT, REQUEST_GUILD_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = (
    6, 7, 8, 9, 10, 11,
)


@dataclass(eq=False)
class Connection:
    ws: web.WebSocketResponse
    request: web.Request
    session: Session | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    heartbeats: int = 0
    close_code: int | None = None


@dataclass(eq=False)
class Session:
    id: str
    token: str
    intents: int
    shard: tuple[int, int] = (0, 1)
    seq: int = 0
    log: list[dict[str, Any]] = field(default_factory=list)
    conn: Connection | None = None
    resumes: int = 0
    invalid: bool = False

    def wants_guild(self, guild_id: int | None) -> bool:
        if guild_id is None:
            return self.shard[0] == 0
        return (guild_id >> 22) % self.shard[1] == self.shard[0]


class GatewayHub:
    """Websocket endpoint plus fan-out of dispatch events to identified sessions."""

    def __init__(self, emulator: DiscordEmulator, heartbeat_interval_ms: int = 41250) -> None:
        self.emu = emulator
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.connections: set[Connection] = set()
        self.sessions: dict[str, Session] = {}
        self.identifies: list[dict[str, Any]] = []
        self.resumes: list[dict[str, Any]] = []
        self.received: list[dict[str, Any]] = []
        self.connect_count = 0
        self._changed = asyncio.Condition()
        # Sharding (see the module docstring); DiscordEmulator.configure_sharding sets these.
        self.recommended_shards = 1
        self.max_concurrency = 1
        self.max_guilds_per_shard = 2500
        self.enforce_identify_rate = False
        self.identify_window = 5.0
        self.session_start_total = 1000
        self.session_starts = 0
        # (monotonic time, shard id, shard count) of each IDENTIFY that opened a session.
        self.identify_log: list[tuple[float, int, int]] = []
        # (monotonic time, shard id, reason: "rate" | "invalid shard" | "sharding required").
        self.identify_refusals: list[tuple[float, int, str]] = []
        self._bucket_last: dict[int, float] = {}

    # -- public --------------------------------------------------------------
    def gateway_bot(self) -> dict[str, Any]:
        """The body of ``GET /gateway/bot``."""
        return {
            "url": self.emu.gateway_url,
            "shards": self.recommended_shards,
            "session_start_limit": {
                "total": self.session_start_total,
                "remaining": max(0, self.session_start_total - self.session_starts),
                "reset_after": 86_400_000, "max_concurrency": self.max_concurrency,
            },
        }

    @property
    def live_sessions(self) -> list[Session]:
        return [s for s in self.sessions.values() if not s.invalid]

    @property
    def connected_sessions(self) -> list[Session]:
        return [s for s in self.live_sessions if s.conn is not None]

    async def dispatch(self, event: str, data: dict[str, Any], *, guild_id: int | None = None):
        """Send a DISPATCH to every live session that owns ``guild_id``.

        Sessions whose socket is down buffer the event for RESUME. Returns the number of
        sessions that got (or will get) it.
        """
        n = 0
        for session in self.live_sessions:
            if not session.wants_guild(guild_id):
                continue
            await self._send_dispatch(session, event, data)
            n += 1
        return n

    async def wait_connected(self, timeout: float = 5.0, *, after: int = 0) -> Session:  # noqa: ASYNC109
        """Wait until a session is live and connected (and ``connect_count > after``)."""
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(
                    lambda: self.connect_count > after and bool(self.connected_sessions)
                ),
                timeout,
            )
        return self.connected_sessions[0]

    async def drop(self, code: int = 4000, *, abrupt: bool = False) -> int:
        """Close every open socket (the client reconnects and RESUMEs). Returns how many."""
        conns = list(self.connections)
        for conn in conns:
            if conn.session is not None:
                conn.session.conn = None
            if abrupt and conn.request.transport is not None:
                conn.request.transport.abort()
            else:
                with contextlib.suppress(Exception):
                    await conn.ws.close(code=code, message=b"emulator dropped the connection")
        return len(conns)

    async def send_reconnect(self) -> None:
        """Send op 7 RECONNECT on every socket (the client closes and RESUMEs)."""
        for conn in list(self.connections):
            await self._send(conn, {"op": RECONNECT, "d": None})

    async def invalidate_sessions(self, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION on every socket."""
        for conn in list(self.connections):
            if conn.session is not None and not resumable:
                conn.session.invalid = True
            await self._send(conn, {"op": INVALID_SESSION, "d": resumable})

    async def close_all(self) -> None:
        for conn in list(self.connections):
            with contextlib.suppress(Exception):
                await conn.ws.close(code=1001, message=b"emulator shutting down")

    # -- internals -----------------------------------------------------------
    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _send(self, conn: Connection, payload: dict[str, Any]) -> None:
        if conn.ws.closed:
            return
        with contextlib.suppress(ConnectionError, RuntimeError):
            await conn.ws.send_str(json.dumps(payload))

    async def _send_dispatch(self, session: Session, event: str, data: dict[str, Any]) -> None:
        conn = session.conn
        if conn is None:
            session.seq += 1
            session.log.append({"op": DISPATCH, "t": event, "s": session.seq, "d": data})
            return
        async with conn.lock:
            session.seq += 1
            payload = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
            session.log.append(payload)
            await self._send(conn, payload)

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        conn = Connection(ws=ws, request=request)
        self.connections.add(conn)
        try:
            await self._send(conn, {"op": HELLO, "d": {"heartbeat_interval":
                                                       self.heartbeat_interval_ms}})
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                try:
                    payload = json.loads(msg.data)
                except ValueError:
                    await ws.close(code=4002, message=b"Error while decoding payload.")
                    break
                self.received.append(payload)
                await self._on_message(conn, payload)
        finally:
            conn.close_code = ws.close_code
            self.connections.discard(conn)
            session = conn.session
            if session is not None and session.conn is conn:
                session.conn = None
                if ws.close_code in (1000, 1001) and not session.invalid:
                    # A clean client close ends the session, as on Discord.
                    session.invalid = True
            await self._notify()
        return ws

    async def _on_message(self, conn: Connection, payload: dict[str, Any]) -> None:
        op = payload.get("op")
        data = payload.get("d")
        if op == HEARTBEAT:
            conn.heartbeats += 1
            await self._send(conn, {"op": HEARTBEAT_ACK})
        elif op == IDENTIFY:
            await self._identify(conn, data)
        elif op == RESUME:
            await self._resume(conn, data)
        elif op == REQUEST_GUILD_MEMBERS:
            await self._members_chunk(conn, data)
        elif op in (PRESENCE_UPDATE, VOICE_STATE_UPDATE):
            pass
        else:
            log.debug("emulator gateway: ignoring op %s", op)

    async def _identify(self, conn: Connection, data: dict[str, Any]) -> None:
        self.identifies.append(data)
        token = data.get("token", "")
        if not self.emu.token_ok(token):
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        shard = tuple(data.get("shard") or (0, 1))
        if not await self._identify_allowed(conn, (int(shard[0]), int(shard[1]))):
            return
        session = Session(
            id=f"{self.emu.world.ids():x}",
            token=token,
            intents=int(data.get("intents", 0)),
            shard=(int(shard[0]), int(shard[1])),
        )
        self.sessions[session.id] = session
        world = self.emu.world
        guilds = [g for g in world.guilds.values() if session.wants_guild(g.id)]
        async with conn.lock:
            conn.session = session
            session.conn = conn
            session.seq += 1
            ready = {
                "v": 10,
                "user": client_user_payload(world.bot_user),
                "user_settings": {},
                "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
                "session_id": session.id,
                "session_type": "normal",
                "resume_gateway_url": self.emu.gateway_url,
                "shard": list(session.shard),
                "application": {"id": str(world.application_id), "flags": 0},
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "guild_join_requests": [],
                "geo_ordered_rtc_regions": ["local"],
                "auth": {},
                "_trace": ["[\"emulator\"]"],
            }
            payload = {"op": DISPATCH, "t": "READY", "s": session.seq, "d": ready}
            session.log.append(payload)
            await self._send(conn, payload)
        for guild in guilds:
            await self._send_dispatch(session, "GUILD_CREATE", guild_create_payload(guild))
        self.connect_count += 1
        await self._notify()

    async def _identify_allowed(self, conn: Connection, shard: tuple[int, int]) -> bool:
        """Discord's checks of an IDENTIFY's shard and rate; answers a refused one."""
        shard_id, count = shard
        now = time.monotonic()
        if count < 1 or not 0 <= shard_id < count:
            self.identify_refusals.append((now, shard_id, "invalid shard"))
            await conn.ws.close(code=4010, message=b"Invalid shard.")
            return False
        guilds = sum(1 for g in self.emu.world.guilds.values()
                     if (g.id >> 22) % count == shard_id)
        if guilds > self.max_guilds_per_shard:
            self.identify_refusals.append((now, shard_id, "sharding required"))
            await conn.ws.close(code=4011, message=b"Sharding required.")
            return False
        if self.enforce_identify_rate:
            bucket = shard_id % max(1, self.max_concurrency)
            last = self._bucket_last.get(bucket)
            if last is not None and now - last < self.identify_window:
                self.identify_refusals.append((now, shard_id, "rate"))
                await self._send(conn, {"op": INVALID_SESSION, "d": False})
                return False
            self._bucket_last[bucket] = now
        self.session_starts += 1
        self.identify_log.append((now, shard_id, count))
        return True

    async def _resume(self, conn: Connection, data: dict[str, Any]) -> None:
        self.resumes.append(data)
        session = self.sessions.get(str(data.get("session_id")))
        refuse = self.emu.faults.refuse_next_resume
        self.emu.faults.refuse_next_resume = False
        if session is None or session.invalid or refuse or session.token != data.get("token"):
            if session is not None:
                session.invalid = True
            await asyncio.sleep(0.05)
            await self._send(conn, {"op": INVALID_SESSION, "d": False})
            return
        old = session.conn
        if old is not None and old is not conn:
            old.session = None
            with contextlib.suppress(Exception):
                await old.ws.close(code=4000)
        last_seq = int(data.get("seq") or 0)
        async with conn.lock:
            conn.session = session
            session.conn = conn
            session.resumes += 1
            for payload in session.log:
                if payload["s"] > last_seq:
                    await self._send(conn, payload)
            session.seq += 1
            resumed = {"op": DISPATCH, "t": "RESUMED", "s": session.seq, "d": {"_trace": []}}
            session.log.append(resumed)
            await self._send(conn, resumed)
        self.connect_count += 1
        await self._notify()

    async def _members_chunk(self, conn: Connection, data: dict[str, Any]) -> None:
        session = conn.session
        if session is None:
            return
        guild_ids = data.get("guild_id")
        if not isinstance(guild_ids, list):
            guild_ids = [guild_ids]
        for gid in guild_ids:
            guild = self.emu.world.guilds.get(int(gid))
            if guild is None:
                continue
            members = list(guild.members.values())
            if data.get("user_ids"):
                wanted = {int(u) for u in data["user_ids"]}
                members = [m for m in members if m.id in wanted]
            elif data.get("query"):
                q = data["query"].lower()
                members = [m for m in members if m.user.username.lower().startswith(q)]
            chunk = {
                "guild_id": str(guild.id),
                "members": [member_payload(m) for m in members],
                "chunk_index": 0,
                "chunk_count": 1,
                "not_found": [],
            }
            if data.get("nonce") is not None:
                chunk["nonce"] = data["nonce"]
            await self._send_dispatch(session, "GUILD_MEMBERS_CHUNK", chunk)
