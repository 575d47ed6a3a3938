"""Message store: creates, edits and deletes messages the way Discord renders them.

Every message object returned to the client is complete (id, channel_id, type, content,
embeds, components, author, timestamp, edited_timestamp, flags, mentions, mention_roles,
attachments, pinned, tts, mention_everyone, ...). Uploaded files are kept byte-exact and are
downloadable from the emulator at their attachment ``url``.
"""

from __future__ import annotations

import contextlib
import copy
import re
from dataclasses import dataclass
from typing import Any

from .bodies import UploadedFile
from .payloads import user_payload
from .polls import poll_payload
from .world import User, World, iso

EPHEMERAL = 1 << 6
SUPPRESS_EMBEDS = 1 << 2
LOADING = 1 << 7
SUPPRESS_NOTIFICATIONS = 1 << 12
IS_COMPONENTS_V2 = 1 << 15

_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


@dataclass
class StoredAttachment:
    id: int
    filename: str
    data: bytes
    content_type: str | None
    description: str | None = None
    url: str = ""

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")

    @property
    def size(self) -> int:
        return len(self.data)

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": self.size,
            "url": self.url,
            "proxy_url": self.url,
            "content_type": self.content_type,
        }
        if self.description is not None:
            data["description"] = self.description
        return data


def _guess_content_type(filename: str, given: str | None) -> str | None:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    known = {
        "csv": "text/csv; charset=utf-8",
        "txt": "text/plain; charset=utf-8",
        "json": "application/json; charset=utf-8",
        "png": "image/png",
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
        "gif": "image/gif",
    }
    if ext in known:
        return known[ext]
    if given and given != "application/octet-stream":
        return given
    return given


class MessageStore:
    """All messages the bot has created, by id, plus attachment bytes."""

    def __init__(self, world: World, base_url: str = "") -> None:
        self.world = world
        self.base_url = base_url
        self.messages: dict[int, dict[str, Any]] = {}
        self.deleted: dict[int, dict[str, Any]] = {}
        self.attachments: dict[int, StoredAttachment] = {}
        self.allowed_mentions: dict[int, Any] = {}

    # -- helpers -----------------------------------------------------------
    def _store_files(
        self, channel_id: int, declared: list[dict[str, Any]] | None, files: list[UploadedFile]
    ) -> tuple[list[dict[str, Any]], set[int]]:
        """New attachments for uploaded files; returns (payloads, kept existing ids)."""
        by_index = {str(f.index): f for f in files if f.index is not None}
        keep: set[int] = set()
        created: list[dict[str, Any]] = []
        used: set[str] = set()
        for entry in declared or []:
            key = str(entry.get("id"))
            upload = by_index.get(key)
            if upload is None:
                with contextlib.suppress(ValueError):
                    keep.add(int(key))
                continue
            used.add(key)
            created.append(self._attach(channel_id, upload, entry.get("description"),
                                        entry.get("filename") or upload.filename))
        for f in files:
            if str(f.index) not in used:
                created.append(self._attach(channel_id, f, None, f.filename))
        return created, keep

    def _attach(
        self, channel_id: int, upload: UploadedFile, description: str | None, filename: str
    ) -> dict[str, Any]:
        aid = self.world.ids()
        att = StoredAttachment(
            id=aid,
            filename=filename,
            data=upload.data,
            content_type=_guess_content_type(filename, upload.content_type),
            description=description,
            url=f"{self.base_url}/attachments/{channel_id}/{aid}/{filename}",
        )
        self.attachments[aid] = att
        return att.payload()

    def _mentions(
        self, content: str, allowed: dict[str, Any] | None
    ) -> tuple[list[dict[str, Any]], list[str], bool]:
        parse = None if allowed is None else set(allowed.get("parse", []))
        allowed_users = set() if allowed is None else {str(u) for u in allowed.get("users", [])}
        allowed_roles = set() if allowed is None else {str(r) for r in allowed.get("roles", [])}
        users: list[dict[str, Any]] = []
        seen: set[str] = set()
        for uid in _USER_MENTION.findall(content or ""):
            if uid in seen:
                continue
            seen.add(uid)
            user = self.world.users.get(int(uid))
            if user is None:
                continue
            if parse is None or "users" in parse or uid in allowed_users:
                users.append(user_payload(user))
        roles = [
            rid
            for rid in dict.fromkeys(_ROLE_MENTION.findall(content or ""))
            if parse is None or "roles" in parse or rid in allowed_roles
        ]
        everyone = ("@everyone" in (content or "") or "@here" in (content or "")) and (
            parse is None or "everyone" in parse
        )
        return users, roles, everyone

    # -- public --------------------------------------------------------------
    def create(
        self,
        *,
        channel_id: int,
        guild_id: int | None,
        body: dict[str, Any],
        files: list[UploadedFile] = (),  # type: ignore[assignment]
        author: User | None = None,
        type: int = 0,
        flags: int = 0,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        mid = self.world.ids()
        author = author or self.world.bot_user
        allowed = body.get("allowed_mentions")
        content = body.get("content") or ""
        users, roles, everyone = self._mentions(content, allowed)
        attachments, _ = self._store_files(channel_id, body.get("attachments"), list(files))
        flags |= int(body.get("flags") or 0)
        msg: dict[str, Any] = {
            "id": str(mid),
            "channel_id": str(channel_id),
            "type": type,
            "content": content,
            "embeds": [self._embed(e) for e in body.get("embeds") or []],
            "components": copy.deepcopy(body.get("components") or []),
            "author": user_payload(author),
            "timestamp": iso(),
            "edited_timestamp": None,
            "flags": flags,
            "mentions": users,
            "mention_roles": roles,
            "mention_channels": [],
            "mention_everyone": everyone,
            "attachments": attachments,
            "pinned": False,
            "tts": bool(body.get("tts", False)),
            "reactions": [],
            "stickers": [],
            "sticker_items": [],
        }
        if guild_id is not None:
            msg["guild_id"] = str(guild_id)
        if body.get("nonce") is not None:
            msg["nonce"] = body["nonce"]
        if body.get("poll"):
            msg["poll"] = poll_payload(body["poll"])
        if extra:
            msg.update(extra)
        self.messages[mid] = msg
        self.allowed_mentions[mid] = allowed
        return msg

    def update(
        self, message_id: int, body: dict[str, Any], files: list[UploadedFile] = (),  # type: ignore[assignment]
        *, mark_edited: bool = True,
    ) -> dict[str, Any]:
        msg = self.messages[message_id]
        channel_id = int(msg["channel_id"])
        if "content" in body:
            msg["content"] = body["content"] or ""
        if "embeds" in body:
            msg["embeds"] = [self._embed(e) for e in body["embeds"] or []]
        if "components" in body:
            msg["components"] = copy.deepcopy(body["components"] or [])
        if "allowed_mentions" in body:
            self.allowed_mentions[message_id] = body["allowed_mentions"]
        if "flags" in body and body["flags"] is not None:
            keep = msg["flags"] & (EPHEMERAL | SUPPRESS_NOTIFICATIONS)
            msg["flags"] = keep | int(body["flags"])
        if "attachments" in body or files:
            declared = body.get("attachments")
            created, keep = self._store_files(channel_id, declared, list(files))
            if declared is None:
                kept = msg["attachments"]
            else:
                kept = [a for a in msg["attachments"] if int(a["id"]) in keep]
            msg["attachments"] = kept + created
        users, roles, everyone = self._mentions(msg["content"], self.allowed_mentions[message_id])
        msg.update(mentions=users, mention_roles=roles, mention_everyone=everyone)
        was_loading = bool(msg["flags"] & LOADING)
        msg["flags"] &= ~LOADING
        if mark_edited and not was_loading:
            msg["edited_timestamp"] = iso()
        return msg

    def delete(self, message_id: int) -> dict[str, Any] | None:
        msg = self.messages.pop(message_id, None)
        if msg is not None:
            self.deleted[message_id] = msg
        return msg

    def get(self, message_id: int) -> dict[str, Any] | None:
        return self.messages.get(message_id)

    def in_channel(self, channel_id: int) -> list[dict[str, Any]]:
        return [m for m in self.messages.values() if m["channel_id"] == str(channel_id)]

    def attachment_bytes(self, attachment: dict[str, Any]) -> StoredAttachment | None:
        return self.attachments.get(int(attachment["id"]))

    @staticmethod
    def _embed(embed: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(embed)
        out.setdefault("type", "rich")
        for f in out.get("fields", []):
            f.setdefault("inline", False)
        return out
