"""What tests read back: recorded requests, bot replies and per-interaction records.

A :class:`Reply` is one thing the bot said (an interaction callback, a followup, an edit, or a
channel message) as Discord would render it. An :class:`Interaction` is the record of one
interaction the emulator sent, and lets a test await the bot's answers to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from discord.enums import ComponentType, InteractionResponseType

from .messages import EPHEMERAL, LOADING, StoredAttachment
from .render import rendered_text

if TYPE_CHECKING:
    from .server import DiscordEmulator

T = TypeVar("T")

# Interaction callback types come from discord.py's InteractionResponseType (one source of
# truth, maintained upstream); replies carry them as the ints Discord sends.
_DEFERRED = (InteractionResponseType.deferred_channel_message.value,
             InteractionResponseType.deferred_message_update.value)


class EmulatorTimeout(AssertionError):
    """The bot did not do what a test waited for in time."""


@dataclass
class RecordedRequest:
    """One HTTP request the client made. Iterates as ``(method, path, json, status)``."""

    method: str
    path: str
    json: Any
    status: int
    query: dict[str, str] = field(default_factory=dict)
    files: list[Any] = field(default_factory=list)
    fault: str | None = None
    unknown_route: bool = False
    received_at: float = 0.0  # time.monotonic() when the request reached the emulator

    def __iter__(self):
        return iter((self.method, self.path, self.json, self.status))

    def __repr__(self) -> str:
        extra = f" fault={self.fault}" if self.fault else ""
        return f"<{self.method} {self.path} -> {self.status}{extra}>"


@dataclass
class Reply:
    """A bot message / callback as the user would see it.

    ``type`` is the interaction callback type (4 message, 5 deferred, 6 deferred update,
    7 update, 8 autocomplete, 9 modal) or ``None`` for followups, edits and channel messages.
    """

    type: int | None = None
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    flags: int = 0
    allowed_mentions: dict[str, Any] | None = None
    attachments: list[StoredAttachment] = field(default_factory=list)
    choices: list[dict[str, Any]] | None = None
    message: dict[str, Any] | None = None
    modal: dict[str, Any] | None = None
    tts: bool = False

    @property
    def id(self) -> int | None:
        return int(self.message["id"]) if self.message else None

    @property
    def channel_id(self) -> int | None:
        return int(self.message["channel_id"]) if self.message else None

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def deferred(self) -> bool:
        return self.type in _DEFERRED

    @property
    def loading(self) -> bool:
        return bool(self.flags & LOADING)

    @property
    def mentions(self) -> list[int]:
        """User ids the message actually pings (after allowed_mentions filtering)."""
        return [int(u["id"]) for u in (self.message or {}).get("mentions", [])]

    @property
    def embed(self) -> dict[str, Any] | None:
        return self.embeds[0] if self.embeds else None

    @property
    def poll(self) -> dict[str, Any] | None:
        """The message's native poll (``emulator.polls``), or None."""
        return (self.message or {}).get("poll")

    @property
    def poll_answers(self) -> list[str]:
        """The poll's answer texts, in order (answer ids are 1-based positions)."""
        return [a["poll_media"]["text"] for a in (self.poll or {}).get("answers", [])]

    @property
    def choice_names(self) -> list[str]:
        return [c["name"] for c in self.choices or []]

    def walk_components(self) -> list[dict[str, Any]]:
        """Every component, depth first (rows, containers, sections, accessories)."""
        out: list[dict[str, Any]] = []

        def visit(items: list[dict[str, Any]]) -> None:
            for c in items:
                out.append(c)
                visit(c.get("components", []))
                if "accessory" in c:
                    visit([c["accessory"]])
                if "component" in c:
                    visit([c["component"]])

        visit(self.components)
        return out

    @property
    def buttons(self) -> list[dict[str, Any]]:
        return [c for c in self.walk_components()
                if c.get("type") == ComponentType.button.value]

    def component(self, custom_id: str) -> dict[str, Any]:
        for c in self.walk_components():
            if c.get("custom_id") == custom_id:
                return c
        raise KeyError(f"no component with custom_id {custom_id!r}")

    def attachment(self, filename: str) -> StoredAttachment:
        for a in self.attachments:
            if a.filename == filename:
                return a
        names = [a.filename for a in self.attachments]
        raise KeyError(f"no attachment {filename!r}; have {names}")

    def rendered_text(self) -> str:
        if self.type == InteractionResponseType.autocomplete_result.value:
            return "\n".join(f"- {c['name']}" for c in self.choices or [])
        if self.type == InteractionResponseType.modal.value and self.modal:
            return rendered_text({"content": f"# {self.modal.get('title', '')}",
                                  "components": self.modal.get("components", [])})
        if self.message is not None:
            return rendered_text(self.message)
        return rendered_text(self)

    @classmethod
    def from_message(
        cls,
        message: dict[str, Any],
        store: Any,
        *,
        type: int | None = None,
        allowed_mentions: dict[str, Any] | None = None,
    ) -> Reply:
        atts = [a for a in (store.attachment_bytes(x) for x in message["attachments"]) if a]
        return cls(
            type=type,
            content=message.get("content", ""),
            embeds=list(message.get("embeds", [])),
            components=list(message.get("components", [])),
            flags=int(message.get("flags", 0)),
            allowed_mentions=allowed_mentions,
            attachments=atts,
            message=message,
            tts=bool(message.get("tts")),
        )


class Interaction:
    """Record of one interaction sent to the bot, and the bot's answers to it."""

    def __init__(self, emulator: DiscordEmulator, payload: dict[str, Any], label: str) -> None:
        self.emulator = emulator
        self.payload = payload
        self.label = label
        self.id = int(payload["id"])
        self.token: str = payload["token"]
        self.type: int = payload["type"]
        self.channel_id = int(payload["channel_id"]) if payload.get("channel_id") else None
        self.guild_id = int(payload["guild_id"]) if payload.get("guild_id") else None
        self.callback: Reply | None = None
        self.original_message_id: int | None = None
        self.followup_replies: list[Reply] = []
        self.edits: list[Reply] = []
        self.followup_edits: list[Reply] = []
        self.deleted = False
        self._event = asyncio.Event()
        # time.monotonic() just before INTERACTION_CREATE goes out (the record is built right
        # before dispatch) and when the bot's callback request arrived (latency benchmarks).
        self.sent_at: float = time.monotonic()
        self.callback_received_at: float | None = None

    def __repr__(self) -> str:
        return f"<Interaction {self.label!r} id={self.id} responded={self.responded}>"

    @property
    def responded(self) -> bool:
        return self.callback is not None

    def _notify(self) -> None:
        self._event.set()

    async def _wait(self, check: Callable[[], T | None], timeout: float, what: str) -> T:  # noqa: ASYNC109
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = check()
            if result is not None:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise EmulatorTimeout(
                    f"{self.label}: timed out after {timeout}s waiting for {what}\n"
                    + self.emulator.diagnostics()
                )
            self._event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), remaining)

    async def response(self, timeout: float = 5.0) -> Reply:  # noqa: ASYNC109
        """The bot's initial callback (reply, defer, update, autocomplete or modal)."""
        return await self._wait(lambda: self.callback, timeout, "the interaction callback")

    async def wait_reply(self, timeout: float = 5.0) -> Reply:  # noqa: ASYNC109
        return await self.response(timeout)

    async def followups(self, n: int = 1, timeout: float = 5.0) -> list[Reply]:  # noqa: ASYNC109
        """Wait until at least ``n`` followup messages exist, return all of them."""
        return await self._wait(
            lambda: list(self.followup_replies) if len(self.followup_replies) >= n else None,
            timeout,
            f"{n} followup(s)",
        )

    async def wait_edits(self, n: int = 1, timeout: float = 5.0) -> list[Reply]:  # noqa: ASYNC109
        """Wait until the original response was edited at least ``n`` times."""
        return await self._wait(
            lambda: list(self.edits) if len(self.edits) >= n else None,
            timeout,
            f"{n} edit(s) of the original response",
        )

    async def wait_final(self, timeout: float = 5.0) -> Reply:  # noqa: ASYNC109
        """Wait until the original message is no longer 'thinking', then return it."""

        def check() -> Reply | None:
            final = self.final()
            if final is None or final.loading:
                return None
            return final

        return await self._wait(check, timeout, "a non-loading original response")

    def final(self) -> Reply | None:
        """The original response message as currently rendered (after edits), or None."""
        if self.original_message_id is None:
            return None
        store = self.emulator.messages
        msg = store.get(self.original_message_id)
        if msg is None:
            return None
        return Reply.from_message(
            msg, store, allowed_mentions=store.allowed_mentions.get(self.original_message_id)
        )
