"""REST API under ``/api/v10``: the routes a discord.py bot uses, plus a 404 recorder.

Routing is a small regex table (``ROUTES``). A middleware parses the body (JSON or multipart),
applies fault switches, calls the handler and records the request in ``emu.requests``.
Anything unmatched answers 404 and lands in ``emu.unknown_routes``.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web
from discord.enums import (
    AppCommandType,
    ChannelType,
    InteractionResponseType,
    InteractionType,
    MessageReferenceType,
    MessageType,
    try_enum,
)

from . import events as _events
from .bodies import ParsedBody, UploadedFile, parse_body
from .faults import json_response
from .limits import (
    ATTACHMENT_SIZE_LIMIT,
    INVALID_FORM_BODY,
    REQUEST_TOO_LARGE,
    attachments_errors,
    choices_errors,
    command_errors,
    message_errors,
    modal_errors,
    nest,
    oversized_files,
)
from .messages import EPHEMERAL, LOADING
from .payloads import (
    application_payload,
    channel_payload,
    client_user_payload,
    guild_create_payload,
    member_payload,
    role_payload,
    user_payload,
)
from .polls import EDIT_POLL, NOT_A_POLL, POLL_EXPIRED
from .replies import Interaction, RecordedRequest, Reply
from .world import Permissions

if TYPE_CHECKING:
    from .server import DiscordEmulator

API_PREFIX = "/api/v10"
# Discord's numbers come from discord.py's enums: one source of truth, maintained upstream.
_COMMAND = InteractionType.application_command.value
_CHAT_INPUT = AppCommandType.chat_input.value


@dataclass
class Req:
    method: str
    path: str
    match: dict[str, str]
    query: dict[str, str]
    headers: Any
    body: ParsedBody
    received_at: float = 0.0  # time.monotonic() when the request arrived

    @property
    def json(self) -> Any:
        return self.body.json

    @property
    def files(self) -> list[UploadedFile]:
        return self.body.files


Handler = Callable[["DiscordEmulator", Req], Awaitable[web.Response]]


def error(status: int, code: int, message: str) -> web.Response:
    return json_response({"message": message, "code": code}, status)


def no_content() -> web.Response:
    return web.Response(status=204)


def invalid_form(emu: DiscordEmulator, req: Req, errors: dict[str, Any]) -> web.Response:
    """Discord's answer to a body over its limits (see `limits`); recorded in
    `emu.rejections` so a test can say which reply broke which limit."""
    emu.rejections.append({"method": req.method, "path": req.path, "errors": errors})
    return json_response({"message": "Invalid Form Body", "code": INVALID_FORM_BODY,
                          "errors": errors}, 400)


def upload_refusal(emu: DiscordEmulator, req: Req,
                   errors: dict[str, Any] | None = None) -> web.Response | None:
    """Discord's answer to a message's uploads over its limits, or None: a file over
    `emu.attachment_size_limit` is 413/40005; more than 10 files, 400/50035 (merged with the
    body's other `errors`). Recorded in `emu.rejections` like every refusal."""
    limit = getattr(emu, "attachment_size_limit", ATTACHMENT_SIZE_LIMIT)
    too_big = oversized_files(req.files, limit)
    if too_big:
        emu.rejections.append({"method": req.method, "path": req.path, "code": REQUEST_TOO_LARGE,
                               "errors": {"files": {name: {"_errors": [{
                                   "code": "REQUEST_TOO_LARGE",
                                   "message": f"Must be {limit} bytes or fewer."}]}
                                   for name in too_big}}})
        return json_response({"message": "Request entity too large",
                              "code": REQUEST_TOO_LARGE}, 413)
    count = attachments_errors(req.files)
    if count or errors:
        return invalid_form(emu, req, {**(errors or {}), **(count or {})})
    return None


def poll_refusal(emu: DiscordEmulator, body: dict[str, Any] | None, channel_id: int | None,
                 *, editing: bool = False) -> web.Response | None:
    """A poll needs Send Polls in the channel (403/50013); a poll is never edited (520003)."""
    if not body or not body.get("poll"):
        return None
    if editing:
        return error(400, EDIT_POLL, "Cannot edit a poll message")
    ch = emu.world.channel(channel_id) if channel_id is not None else None
    if ch is not None and not _bot_can(emu, ch, Permissions.SEND_POLLS):
        return error(403, 50013, "Missing Permissions")
    return None


# -- identity -------------------------------------------------------------------
async def get_me(emu: DiscordEmulator, req: Req) -> web.Response:
    return json_response(client_user_payload(emu.world.bot_user))


async def get_application(emu: DiscordEmulator, req: Req) -> web.Response:
    return json_response(application_payload(emu.world))


async def get_gateway(emu: DiscordEmulator, req: Req) -> web.Response:
    return json_response({"url": emu.gateway_url})


async def get_gateway_bot(emu: DiscordEmulator, req: Req) -> web.Response:
    return json_response(emu.gateway.gateway_bot())


async def get_user(emu: DiscordEmulator, req: Req) -> web.Response:
    user = emu.world.users.get(int(req.match["user_id"]))
    if user is None:
        return error(404, 10013, "Unknown User")
    return json_response(user_payload(user))


# -- application commands -----------------------------------------------------------
def _command_key(emu: DiscordEmulator, req: Req) -> int | web.Response | None:
    if int(req.match["app_id"]) != emu.world.application_id:
        return error(403, 50035, "Invalid Form Body: application_id")
    gid = req.match.get("guild_id")
    if gid is None:
        return None
    if int(gid) not in emu.world.guilds:
        return error(403, 50001, "Missing Access")
    return int(gid)


def _store_command(
    emu: DiscordEmulator, guild_id: int | None, data: dict[str, Any], old: dict[str, Any] | None
) -> dict[str, Any]:
    cmd = copy.deepcopy(data)
    cmd["id"] = old["id"] if old else str(emu.world.ids())
    cmd["application_id"] = str(emu.world.application_id)
    cmd["version"] = str(emu.world.ids())
    cmd.setdefault("type", _CHAT_INPUT)
    cmd.setdefault("description", "")
    cmd.setdefault("options", [])
    cmd.setdefault("default_member_permissions", None)
    cmd.setdefault("dm_permission", True)
    cmd.setdefault("nsfw", False)
    cmd.setdefault("contexts", None)
    cmd.setdefault("integration_types", [0])
    if guild_id is not None:
        cmd["guild_id"] = str(guild_id)
    return cmd


async def put_commands(emu: DiscordEmulator, req: Req) -> web.Response:
    key = _command_key(emu, req)
    if isinstance(key, web.Response):
        return key
    old = {(c["name"], c["type"]): c for c in emu.commands.get(key, [])}
    errors: dict[str, Any] = {}
    for n, definition in enumerate(req.json or []):
        errors.update(command_errors(definition, path=(n,)) or {})
    if errors:
        return invalid_form(emu, req, errors)
    new = [
        _store_command(emu, key, d, old.get((d["name"], d.get("type", _CHAT_INPUT))))
        for d in req.json or []
    ]
    emu.commands[key] = new
    emu.command_syncs.append((key, new))
    return json_response(new)


async def get_commands(emu: DiscordEmulator, req: Req) -> web.Response:
    key = _command_key(emu, req)
    if isinstance(key, web.Response):
        return key
    return json_response(emu.commands.get(key, []))


async def post_command(emu: DiscordEmulator, req: Req) -> web.Response:
    key = _command_key(emu, req)
    if isinstance(key, web.Response):
        return key
    cmds = emu.commands.setdefault(key, [])
    data = req.json or {}
    errors = command_errors(data)
    if errors:
        return invalid_form(emu, req, errors)
    old = next((c for c in cmds if c["name"] == data.get("name")), None)
    cmd = _store_command(emu, key, data, old)
    if old:
        cmds[cmds.index(old)] = cmd
        return json_response(cmd)
    cmds.append(cmd)
    return json_response(cmd, 201)


async def one_command(emu: DiscordEmulator, req: Req) -> web.Response:
    key = _command_key(emu, req)
    if isinstance(key, web.Response):
        return key
    cmds = emu.commands.setdefault(key, [])
    cmd = next((c for c in cmds if c["id"] == req.match["command_id"]), None)
    if cmd is None:
        return error(404, 10063, "Unknown application command")
    if req.method == "GET":
        return json_response(cmd)
    if req.method == "DELETE":
        cmds.remove(cmd)
        return no_content()
    errors = command_errors({**cmd, **(req.json or {})})
    if errors:
        return invalid_form(emu, req, errors)
    updated = _store_command(emu, key, {**cmd, **(req.json or {})}, cmd)
    cmds[cmds.index(cmd)] = updated
    return json_response(updated)


async def get_command_permissions(emu: DiscordEmulator, req: Req) -> web.Response:
    return json_response([])


# -- interactions -------------------------------------------------------------------
def _interaction_user(inter: Interaction) -> dict[str, Any]:
    p = inter.payload
    return (p.get("member") or {}).get("user") or p.get("user") or {}


def _metadata(inter: Interaction) -> dict[str, Any]:
    p = inter.payload
    data: dict[str, Any] = {
        "id": p["id"],
        "type": p["type"],
        "user": _interaction_user(inter),
        "authorizing_integration_owners": p.get("authorizing_integration_owners", {}),
    }
    if p["type"] == _COMMAND:
        data["name"] = p["data"]["name"]
        data["command_type"] = p["data"].get("type", _CHAT_INPUT)
    if p["type"] == InteractionType.component.value and p.get("message"):
        data["interacted_message_id"] = p["message"]["id"]
    return data


def _interaction_extra(emu: DiscordEmulator, inter: Interaction) -> dict[str, Any]:
    p = inter.payload
    extra: dict[str, Any] = {
        "webhook_id": str(emu.world.application_id),
        "application_id": str(emu.world.application_id),
        "interaction_metadata": _metadata(inter),
    }
    if p["type"] == _COMMAND:
        extra["interaction"] = {
            "id": p["id"], "type": _COMMAND, "name": p["data"]["name"],
            "user": _interaction_user(inter),
        }
    return extra


def _message_type(inter: Interaction) -> int:
    if inter.type == _COMMAND:
        chat_input = inter.payload["data"].get("type", _CHAT_INPUT) == _CHAT_INPUT
        kind = MessageType.chat_input_command if chat_input else MessageType.context_menu_command
        return kind.value
    return MessageType.default.value


def _component_message_id(inter: Interaction) -> int | None:
    msg = inter.payload.get("message")
    return int(msg["id"]) if msg else None


def _snapshot(emu: DiscordEmulator, msg: dict[str, Any], type: int | None) -> Reply:
    mid = int(msg["id"])
    return Reply.from_message(
        copy.deepcopy(msg), emu.messages, type=type,
        allowed_mentions=emu.messages.allowed_mentions.get(mid),
    )


async def interaction_callback(emu: DiscordEmulator, req: Req) -> web.Response:
    inter = emu.interactions.get(req.match["token"])
    if inter is None or inter.id != int(req.match["interaction_id"]):
        return error(404, 10062, "Unknown interaction")
    if inter.responded:
        return error(400, 40060, "Interaction has already been acknowledged.")
    inter.callback_received_at = req.received_at
    body = req.json or {}
    ctype = int(body.get("type", 0))
    callback = try_enum(InteractionResponseType, ctype)
    data = body.get("data") or {}
    flags = int(data.get("flags") or 0)
    message: dict[str, Any] | None = None
    reply: Reply
    if callback in (InteractionResponseType.channel_message,
                    InteractionResponseType.message_update):
        errors = nest("data", message_errors(data))
    elif callback is InteractionResponseType.modal:
        errors = nest("data", modal_errors(data))
    elif callback is InteractionResponseType.autocomplete_result:
        errors = nest("data", choices_errors(list(data.get("choices") or [])))
    else:
        errors = None
    refused = upload_refusal(emu, req, errors) or poll_refusal(
        emu, data, inter.channel_id,
        editing=callback is InteractionResponseType.message_update)
    if refused is not None:
        return refused
    if callback is InteractionResponseType.channel_message:
        message = emu.messages.create(
            channel_id=inter.channel_id, guild_id=inter.guild_id, body=data, files=req.files,
            type=_message_type(inter), extra=_interaction_extra(emu, inter),
        )
        reply = _snapshot(emu, message, ctype)
        await emu.dispatch_message("MESSAGE_CREATE", message)
    elif callback is InteractionResponseType.deferred_channel_message:
        message = emu.messages.create(
            channel_id=inter.channel_id, guild_id=inter.guild_id, body={"flags": flags},
            type=_message_type(inter), flags=LOADING, extra=_interaction_extra(emu, inter),
        )
        reply = _snapshot(emu, message, ctype)
        await emu.dispatch_message("MESSAGE_CREATE", message)
    elif callback in (InteractionResponseType.deferred_message_update,
                      InteractionResponseType.message_update):
        mid = _component_message_id(inter)
        if mid is None or emu.messages.get(mid) is None:
            return error(400, 50035, "Invalid Form Body: interaction has no message to update")
        if callback is InteractionResponseType.message_update:
            message = emu.messages.update(mid, data, req.files)
            await emu.dispatch_message("MESSAGE_UPDATE", message)
        else:
            message = emu.messages.get(mid)
        assert message is not None
        reply = _snapshot(emu, message, ctype)
    elif callback is InteractionResponseType.autocomplete_result:
        if inter.type != InteractionType.autocomplete.value:
            return error(400, 50035, "Invalid Form Body: not an autocomplete interaction")
        choices = list(data.get("choices") or [])
        reply = Reply(type=ctype, choices=choices)
    elif callback is InteractionResponseType.modal:
        if inter.type == InteractionType.modal_submit.value:
            return error(400, 50035, "Invalid Form Body: cannot respond to a modal with a modal")
        reply = Reply(type=ctype, modal=copy.deepcopy(data))
        emu.modals[data.get("custom_id", "")] = (copy.deepcopy(data), inter)
    else:
        return error(400, 50035, f"Invalid Form Body: unsupported callback type {ctype}")
    if message is not None:
        inter.original_message_id = int(message["id"])
    if callback in (InteractionResponseType.channel_message,
                    InteractionResponseType.deferred_channel_message,
                    InteractionResponseType.message_update):
        reply.allowed_mentions = data.get("allowed_mentions")
    inter.callback = reply
    inter._notify()
    emu._notify()
    interaction: dict[str, Any] = {
        "id": str(inter.id),
        "type": inter.type,
        "response_message_loading": callback is InteractionResponseType.deferred_channel_message,
        "response_message_ephemeral": bool(
            (message["flags"] if message else flags) & EPHEMERAL
        ),
    }
    out: dict[str, Any] = {"interaction": interaction}
    if message is not None:
        interaction["response_message_id"] = message["id"]
        out["resource"] = {"type": ctype, "message": message}
    return json_response(out)


def _webhook_interaction(emu: DiscordEmulator, req: Req) -> Interaction | web.Response:
    inter = emu.interactions.get(req.match["token"])
    if inter is None or int(req.match["app_id"]) != emu.world.application_id:
        return error(404, 10015, "Unknown Webhook")
    if not inter.responded:
        return error(404, 10015, "Unknown Webhook")
    return inter


async def post_followup(emu: DiscordEmulator, req: Req) -> web.Response:
    inter = _webhook_interaction(emu, req)
    if isinstance(inter, web.Response):
        return inter
    body = req.json or {}
    refused = upload_refusal(emu, req, message_errors(body)) or poll_refusal(
        emu, body, inter.channel_id)
    if refused is not None:
        return refused
    message = emu.messages.create(
        channel_id=inter.channel_id, guild_id=inter.guild_id, body=body, files=req.files,
        type=_message_type(inter), extra=_interaction_extra(emu, inter),
    )
    inter.followup_replies.append(_snapshot(emu, message, None))
    inter._notify()
    emu._notify()
    await emu.dispatch_message("MESSAGE_CREATE", message)
    if req.query.get("wait", "").lower() in ("1", "true"):
        return json_response(message)
    return no_content()


def _webhook_message_id(inter: Interaction, raw: str) -> int | None:
    if raw == "@original":
        return inter.original_message_id
    mid = int(raw)
    ours = {r.id for r in inter.followup_replies} | {inter.original_message_id}
    return mid if mid in ours else None


async def webhook_message(emu: DiscordEmulator, req: Req) -> web.Response:
    inter = _webhook_interaction(emu, req)
    if isinstance(inter, web.Response):
        return inter
    mid = _webhook_message_id(inter, req.match["message_id"])
    msg = emu.messages.get(mid) if mid is not None else None
    if mid is None or msg is None:
        return error(404, 10008, "Unknown Message")
    if req.method == "GET":
        return json_response(msg)
    if req.method == "DELETE":
        emu.messages.delete(mid)
        if mid == inter.original_message_id:
            inter.deleted = True
        inter._notify()
        emu._notify()
        await emu.dispatch_message("MESSAGE_DELETE", msg)
        return no_content()
    refused = upload_refusal(emu, req, message_errors(req.json)) or poll_refusal(
        emu, req.json, None, editing=True)
    if refused is not None:
        return refused
    msg = emu.messages.update(mid, req.json or {}, req.files)
    snap = _snapshot(emu, msg, None)
    if req.json and "allowed_mentions" in req.json:
        snap.allowed_mentions = req.json["allowed_mentions"]
    if mid == inter.original_message_id:
        inter.edits.append(snap)
    else:
        inter.followup_edits.append(snap)
    inter._notify()
    emu._notify()
    await emu.dispatch_message("MESSAGE_UPDATE", msg)
    return json_response(msg)


# -- channels & guilds --------------------------------------------------------------
def _channel(emu: DiscordEmulator, req: Req):
    ch = emu.world.channel(int(req.match["channel_id"]))
    if ch is None:
        return error(404, 10003, "Unknown Channel")
    return ch


def _bot_can(emu: DiscordEmulator, ch, perm: int) -> bool:
    if ch.guild is None:
        return True
    me = ch.guild.members.get(emu.world.bot_user.id)
    if me is None:
        return False
    perms = ch.guild.permissions_for(me, ch)
    return (perms & perm) == perm


def _dm_payload(emu: DiscordEmulator, ch) -> dict[str, Any]:
    user = emu.world.users[emu.world.dm_recipient(ch)]
    return {"id": str(ch.id), "type": ChannelType.private.value, "last_message_id": None,
            "flags": 0, "recipients": [user_payload(user)]}


async def create_dm(emu: DiscordEmulator, req: Req) -> web.Response:
    """POST /users/@me/channels {recipient_id}: the bot's DM channel with a user (made even
    when the user closed their DMs: Discord refuses the message, not the channel)."""
    raw = (req.json or {}).get("recipient_id")
    user = emu.world.users.get(int(raw)) if str(raw or "").isdigit() else None
    if user is None:
        return error(400, 50035, "Invalid Form Body")
    return json_response(_dm_payload(emu, emu.world.dm_channel(user)))


async def get_channel(emu: DiscordEmulator, req: Req) -> web.Response:
    ch = _channel(emu, req)
    if isinstance(ch, web.Response):
        return ch
    return json_response(channel_payload(ch))


async def post_channel_message(emu: DiscordEmulator, req: Req) -> web.Response:
    ch = _channel(emu, req)
    if isinstance(ch, web.Response):
        return ch
    if ch.guild is None and emu.world.dm_recipient(ch) in emu.world.closed_dms:
        return error(403, 50007, "Cannot send messages to this user")
    if not _bot_can(emu, ch, Permissions.VIEW_CHANNEL):
        return error(403, 50001, "Missing Access")
    if not _bot_can(emu, ch, Permissions.SEND_MESSAGES):
        return error(403, 50013, "Missing Permissions")
    body = req.json or {}
    if not (body.get("content") or body.get("embeds") or body.get("components") or req.files
            or body.get("sticker_ids") or body.get("poll")):
        return error(400, 50006, "Cannot send an empty message")
    refused = upload_refusal(emu, req, message_errors(body)) or poll_refusal(emu, body, ch.id)
    if refused is not None:
        return refused
    extra: dict[str, Any] = {}
    mtype = MessageType.default.value
    ref = body.get("message_reference")
    if ref and ref.get("message_id"):
        referenced = emu.messages.get(int(ref["message_id"]))
        mtype = MessageType.reply.value
        extra["message_reference"] = {
            "type": MessageReferenceType.default.value, "message_id": str(ref["message_id"]),
            "channel_id": str(ch.id),
            "guild_id": str(ch.guild.id) if ch.guild else None,
        }
        extra["referenced_message"] = referenced
    message = emu.messages.create(
        channel_id=ch.id, guild_id=ch.guild.id if ch.guild else None, body=body,
        files=req.files, type=mtype, extra=extra,
    )
    emu.sent_messages.append(_snapshot(emu, message, None))
    emu._notify()
    await emu.dispatch_message("MESSAGE_CREATE", message)
    return json_response(message)


async def get_channel_messages(emu: DiscordEmulator, req: Req) -> web.Response:
    ch = _channel(emu, req)
    if isinstance(ch, web.Response):
        return ch
    limit = int(req.query.get("limit", 50))
    msgs = sorted(emu.messages.in_channel(ch.id), key=lambda m: int(m["id"]), reverse=True)
    msgs = [m for m in msgs if not m["flags"] & EPHEMERAL]
    if "before" in req.query:
        msgs = [m for m in msgs if int(m["id"]) < int(req.query["before"])]
    if "after" in req.query:
        msgs = [m for m in msgs if int(m["id"]) > int(req.query["after"])]
    return json_response(msgs[:limit])


async def channel_message(emu: DiscordEmulator, req: Req) -> web.Response:
    ch = _channel(emu, req)
    if isinstance(ch, web.Response):
        return ch
    mid = int(req.match["message_id"])
    msg = emu.messages.get(mid)
    if msg is None or msg["channel_id"] != str(ch.id):
        return error(404, 10008, "Unknown Message")
    if req.method == "GET":
        return json_response(msg)
    if req.method == "DELETE":
        emu.messages.delete(mid)
        emu._notify()
        await emu.dispatch_message("MESSAGE_DELETE", msg)
        return no_content()
    if msg["author"]["id"] != str(emu.world.bot_user.id):
        return error(403, 50005, "Cannot edit a message authored by another user")
    refused = upload_refusal(emu, req, message_errors(req.json)) or poll_refusal(
        emu, req.json, None, editing=True)
    if refused is not None:
        return refused
    msg = emu.messages.update(mid, req.json or {}, req.files)
    emu._notify()
    await emu.dispatch_message("MESSAGE_UPDATE", msg)
    return json_response(msg)


def _poll_message(emu: DiscordEmulator, req: Req) -> dict[str, Any] | web.Response:
    ch = _channel(emu, req)
    if isinstance(ch, web.Response):
        return ch
    msg = emu.messages.get(int(req.match["message_id"]))
    if msg is None or msg["channel_id"] != str(ch.id):
        return error(404, 10008, "Unknown Message")
    if not msg.get("poll"):
        return error(400, NOT_A_POLL, "Cannot expire a non-poll message")
    return msg


async def expire_poll(emu: DiscordEmulator, req: Req) -> web.Response:
    """End a poll now (only its author may); answers the poll's message with final results."""
    msg = _poll_message(emu, req)
    if isinstance(msg, web.Response):
        return msg
    if msg["author"]["id"] != str(emu.world.bot_user.id):
        return error(403, 50013, "Missing Permissions")
    if msg["poll"]["results"]["is_finalized"]:
        return error(400, POLL_EXPIRED, "Poll expired")
    return json_response(await emu.polls.end(msg))


async def poll_answer_voters(emu: DiscordEmulator, req: Req) -> web.Response:
    msg = _poll_message(emu, req)
    if isinstance(msg, web.Response):
        return msg
    answer = int(req.match["answer_id"])
    if answer not in {a["answer_id"] for a in msg["poll"]["answers"]}:
        return error(404, 10008, "Unknown Message")  # Discord: no such answer
    limit = max(1, min(int(req.query.get("limit", 25)), 100))
    users = emu.polls.voters(int(msg["id"]), answer, after=int(req.query.get("after", 0)),
                             limit=limit)
    return json_response({"users": users})


async def typing(emu: DiscordEmulator, req: Req) -> web.Response:
    ch = _channel(emu, req)
    if isinstance(ch, web.Response):
        return ch
    return no_content()


def _guild(emu: DiscordEmulator, req: Req):
    g = emu.world.guilds.get(int(req.match["guild_id"]))
    if g is None:
        return error(404, 10004, "Unknown Guild")
    return g


async def get_guild(emu: DiscordEmulator, req: Req) -> web.Response:
    g = _guild(emu, req)
    if isinstance(g, web.Response):
        return g
    data = guild_create_payload(g)
    for key in ("members", "channels", "voice_states", "threads", "presences", "joined_at"):
        data.pop(key, None)
    data["approximate_member_count"] = len(g.members)
    return json_response(data)


async def get_guild_channels(emu: DiscordEmulator, req: Req) -> web.Response:
    g = _guild(emu, req)
    if isinstance(g, web.Response):
        return g
    return json_response([channel_payload(c) for c in g.channels.values()])


async def get_guild_roles(emu: DiscordEmulator, req: Req) -> web.Response:
    g = _guild(emu, req)
    if isinstance(g, web.Response):
        return g
    return json_response([role_payload(r) for r in g.roles.values()])


async def get_guild_member(emu: DiscordEmulator, req: Req) -> web.Response:
    g = _guild(emu, req)
    if isinstance(g, web.Response):
        return g
    m = g.members.get(int(req.match["user_id"]))
    if m is None:
        return error(404, 10007, "Unknown Member")
    return json_response(member_payload(m))


async def get_guild_members(emu: DiscordEmulator, req: Req) -> web.Response:
    g = _guild(emu, req)
    if isinstance(g, web.Response):
        return g
    limit = int(req.query.get("limit", 1))
    return json_response([member_payload(m) for m in list(g.members.values())[:limit]])


_S = r"(?P<{}>\d+)"
_TOKEN = r"(?P<token>[^/]+)"
ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", r"/gateway", get_gateway),
    ("GET", r"/gateway/bot", get_gateway_bot),
    ("GET", r"/users/@me", get_me),
    ("GET", r"/oauth2/applications/@me", get_application),
    ("GET", r"/applications/@me", get_application),
    ("GET", r"/users/" + _S.format("user_id"), get_user),
    ("POST", r"/users/@me/channels", create_dm),
    ("GET", r"/applications/{a}/commands", get_commands),
    ("PUT", r"/applications/{a}/commands", put_commands),
    ("POST", r"/applications/{a}/commands", post_command),
    ("GET|PATCH|DELETE", r"/applications/{a}/commands/{c}", one_command),
    ("GET", r"/applications/{a}/guilds/{g}/commands", get_commands),
    ("PUT", r"/applications/{a}/guilds/{g}/commands", put_commands),
    ("POST", r"/applications/{a}/guilds/{g}/commands", post_command),
    ("GET", r"/applications/{a}/guilds/{g}/commands/permissions", get_command_permissions),
    ("GET|PATCH|DELETE", r"/applications/{a}/guilds/{g}/commands/{c}", one_command),
    ("POST", r"/interactions/{i}/{t}/callback", interaction_callback),
    ("POST", r"/webhooks/{a}/{t}", post_followup),
    ("GET|PATCH|DELETE", r"/webhooks/{a}/{t}/messages/(?P<message_id>@original|\d+)",
     webhook_message),
    ("GET", r"/channels/{ch}", get_channel),
    ("POST", r"/channels/{ch}/messages", post_channel_message),
    ("GET", r"/channels/{ch}/messages", get_channel_messages),
    ("GET|PATCH|DELETE", r"/channels/{ch}/messages/{m}", channel_message),
    ("POST", r"/channels/{ch}/typing", typing),
    ("POST", r"/channels/{ch}/polls/{m}/expire", expire_poll),
    ("GET", r"/channels/{ch}/polls/{m}/answers/" + _S.format("answer_id"), poll_answer_voters),
    ("GET", r"/guilds/{g}/scheduled-events", _events.list_events),
    ("POST", r"/guilds/{g}/scheduled-events", _events.create_event),
    ("GET|PATCH|DELETE", r"/guilds/{g}/scheduled-events/{e}", _events.one_event),
    ("GET", r"/guilds/{g}/scheduled-events/{e}/users", _events.event_users),
    ("GET", r"/guilds/{g}", get_guild),
    ("GET", r"/guilds/{g}/channels", get_guild_channels),
    ("GET", r"/guilds/{g}/roles", get_guild_roles),
    ("GET", r"/guilds/{g}/members", get_guild_members),
    ("GET", r"/guilds/{g}/members/" + _S.format("user_id"), get_guild_member),
]

_PLACEHOLDERS = {
    "{a}": _S.format("app_id"),
    "{g}": _S.format("guild_id"),
    "{c}": _S.format("command_id"),
    "{i}": _S.format("interaction_id"),
    "{t}": _TOKEN,
    "{ch}": _S.format("channel_id"),
    "{m}": _S.format("message_id"),
    "{e}": _S.format("event_id"),
}


def _compile(pattern: str) -> re.Pattern[str]:
    for k, v in _PLACEHOLDERS.items():
        pattern = pattern.replace(k, v)
    return re.compile(pattern + r"/?")


COMPILED = [(set(m.split("|")), _compile(p), h) for m, p, h in ROUTES]

# Routes that identify with the interaction token, not the bot token.
_NO_AUTH = re.compile(r"^/(interactions|webhooks)/")


def resolve(method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
    for methods, regex, handler in COMPILED:
        m = regex.fullmatch(path)
        if m and method in methods:
            return handler, m.groupdict()
    return None


def make_api_handler(emu: DiscordEmulator):
    async def handle(request: web.Request) -> web.StreamResponse:
        received_at = time.monotonic()
        path = "/" + request.match_info.get("tail", "")
        method = request.method
        raw = await request.read()
        body = parse_body(request.headers.get("Content-Type"), raw)
        record = RecordedRequest(
            method=method, path=path, json=body.json, status=0, query=dict(request.query),
            files=body.files, received_at=received_at,
        )
        emu.requests.append(record)
        try:
            response, fault = await emu.faults.apply(method, path)
            record.fault = fault
            if response is None:
                response = await _route(emu, request, record, body)
        except Exception as exc:  # pragma: no cover - emulator bug, surface it loudly
            emu.errors.append(exc)
            response = error(500, 0, f"emulator error: {exc!r}")
        record.status = response.status
        emu._notify()
        return response

    return handle


async def _route(
    emu: DiscordEmulator, request: web.Request, record: RecordedRequest, body: ParsedBody
) -> web.Response:
    method, path = record.method, record.path
    found = resolve(method, path)
    if found is None:
        record.unknown_route = True
        emu.unknown_routes.append(record)
        return error(404, 0, f"404: Not Found (emulator has no route {method} {path})")
    handler, match = found
    if not _NO_AUTH.match(path):
        auth = request.headers.get("Authorization", "")
        token = auth[4:] if auth.startswith("Bot ") else auth
        if not emu.token_ok(token):
            return error(401, 0, "401: Unauthorized")
    req = Req(method, path, match, dict(request.query), request.headers, body,
              record.received_at)
    return await handler(emu, req)


async def get_attachment(emu: DiscordEmulator, request: web.Request) -> web.Response:
    att = emu.messages.attachments.get(int(request.match_info["attachment_id"]))
    if att is None:
        return web.Response(status=404, text="Not Found")
    return web.Response(body=att.data, headers={"Content-Type": att.content_type or
                                                "application/octet-stream"})
