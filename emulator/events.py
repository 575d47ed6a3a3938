"""Guild scheduled events: the REST routes, Discord's rules for them, and members' RSVPs.

* ``POST /guilds/{g}/scheduled-events``: a voice or stage event needs ``channel_id`` (a voice
  or stage channel of the guild); an external one needs ``entity_metadata.location`` and
  ``scheduled_end_time`` and no channel. The start must lie ahead and the end after it; name
  1-100, description up to 1,000 (400/50035 as every limit). The bot needs Manage Events or
  Create Events (in the event's channel for a voice event, with View Channel and Connect),
  else 403 with code 50013. ``image`` (a data URI, the cover) is kept under a hash.
* ``GET``/``PATCH``/``DELETE`` one event, ``GET`` the guild's list (``with_user_count``),
  ``GET .../users`` (``limit``, ``before``/``after``, ``with_member``), by user id.
* ``interested``/``not_interested`` stand for a member pressing "Interested" (and taking it
  back): ``GUILD_SCHEDULED_EVENT_USER_ADD``/``_REMOVE``; creates, edits and deletes send
  ``GUILD_SCHEDULED_EVENT_CREATE``/``UPDATE``/``DELETE``. All need the Guild Scheduled Events
  intent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .faults import json_response
from .limits import INVALID_FORM_BODY, FormErrors, event_errors
from .payloads import member_payload, scheduled_event_payload, user_payload
from .world import Channel, EventStatus, Guild, Member, Permissions, ScheduledEvent

if TYPE_CHECKING:
    from .rest import Req
    from .server import DiscordEmulator

INTENT_GUILD_SCHEDULED_EVENTS = 1 << 16
STAGE, VOICE, EXTERNAL = 1, 2, 3
UNKNOWN_EVENT = 10070


def _error(status: int, code: int, message: str) -> web.Response:
    return json_response({"message": message, "code": code}, status)


def _invalid(emu: DiscordEmulator, req: Req, errors: dict[str, Any]) -> web.Response:
    emu.rejections.append({"method": req.method, "path": req.path, "errors": errors})
    return json_response({"message": "Invalid Form Body", "code": INVALID_FORM_BODY,
                          "errors": errors}, 400)


def _guild(emu: DiscordEmulator, req: Req) -> Guild | web.Response:
    guild = emu.world.guilds.get(int(req.match["guild_id"]))
    if guild is None:
        return _error(404, 10004, "Unknown Guild")
    return guild


def _event(emu: DiscordEmulator, req: Req) -> ScheduledEvent | web.Response:
    guild = _guild(emu, req)
    if isinstance(guild, web.Response):
        return guild
    event = guild.scheduled_events.get(int(req.match["event_id"]))
    if event is None:
        return _error(404, UNKNOWN_EVENT, "Unknown Guild Scheduled Event")
    return event


def _bot_may(guild: Guild, channel: Channel | None, *, own: bool) -> bool:
    """Manage Events (any event), or Create Events for the bot's own ones; a channel event
    also needs View Channel and Connect there."""
    me = guild.me
    perms = guild.permissions_for(me, channel)
    if perms & Permissions.ADMINISTRATOR:
        return True
    wanted = Permissions.MANAGE_EVENTS | (Permissions.CREATE_EVENTS if own else 0)
    if not perms & wanted:
        return False
    if channel is not None:
        need = Permissions.VIEW_CHANNEL | Permissions.CONNECT
        return (perms & need) == need
    return True


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _image(emu: DiscordEmulator, value: Any) -> str | None:
    """A data URI's hash (the bytes kept in ``emu.event_images``); None for none/invalid."""
    if not isinstance(value, str) or not value.startswith("data:") or "," not in value:
        return None
    try:
        data = base64.b64decode(value.split(",", 1)[1], validate=True)
    except (binascii.Error, ValueError):
        return None
    digest = hashlib.md5(data, usedforsecurity=False).hexdigest()
    emu.event_images[digest] = data
    return digest


def _check(guild: Guild, body: dict[str, Any], *, partial: bool,
           current: ScheduledEvent | None = None) -> dict[str, Any] | None:
    """Discord's rules for an event body beyond lengths: entity, channel, times."""
    errors = FormErrors()
    kind = int(body.get("entity_type", current.entity_type if current else 0) or 0)
    if kind not in (STAGE, VOICE, EXTERNAL):
        errors.add(("entity_type",), "BASE_TYPE_CHOICES", "Value must be one of (1, 2, 3).")
        return errors.tree
    channel_id = body.get("channel_id", current.channel_id if current else None)
    location = (body.get("entity_metadata") or {}).get("location",
                                                       current.location if current else None)
    start = _time(body.get("scheduled_start_time", current.start if current else None))
    end = _time(body.get("scheduled_end_time", current.end if current else None))
    if kind == EXTERNAL:
        if channel_id:
            errors.add(("channel_id",), "GUILD_SCHEDULED_EVENT_CHANNEL_INVALID",
                       "An external event cannot have a channel.")
        if not location:
            errors.add(("entity_metadata", "location"), "BASE_TYPE_REQUIRED",
                       "This field is required")
        if end is None:
            errors.add(("scheduled_end_time",), "BASE_TYPE_REQUIRED", "This field is required")
    else:
        channel = guild.channels.get(int(channel_id)) if channel_id else None
        wanted = 13 if kind == STAGE else 2
        if channel is None or channel.type != wanted:
            errors.add(("channel_id",), "GUILD_SCHEDULED_EVENT_CHANNEL_INVALID",
                       "A voice or stage channel of this server is required.")
    if start is None:
        errors.add(("scheduled_start_time",), "BASE_TYPE_REQUIRED", "This field is required")
    elif not partial and start <= datetime.now(UTC):
        errors.add(("scheduled_start_time",), "GUILD_SCHEDULED_EVENT_SCHEDULED_START_TIME_IN_PAST",
                   "Cannot schedule event in the past.")
    if start is not None and end is not None and end <= start:
        errors.add(("scheduled_end_time",), "GUILD_SCHEDULED_EVENT_END_BEFORE_START",
                   "The end time must be after the start time.")
    if int(body.get("privacy_level", 2)) != 2:
        errors.add(("privacy_level",), "BASE_TYPE_CHOICES", "Value must be one of (2,).")
    return errors.tree or None


async def create_event(emu: DiscordEmulator, req: Req) -> web.Response:
    guild = _guild(emu, req)
    if isinstance(guild, web.Response):
        return guild
    body = req.json or {}
    channel = guild.channels.get(int(body["channel_id"])) if body.get("channel_id") else None
    if not _bot_may(guild, channel, own=True):
        return _error(403, 50013, "Missing Permissions")
    errors = {**(event_errors(body) or {}), **(_check(guild, body, partial=False) or {})}
    if errors:
        return _invalid(emu, req, errors)
    kind = int(body["entity_type"])
    event = ScheduledEvent(
        id=emu.world.ids(), guild=guild, name=body["name"], start=body["scheduled_start_time"],
        end=body.get("scheduled_end_time"), entity_type=kind,
        creator_id=emu.world.bot_user.id,
        channel_id=int(body["channel_id"]) if kind != EXTERNAL else None,
        location=(body.get("entity_metadata") or {}).get("location") if kind == EXTERNAL
        else None,
        description=body.get("description"), image=_image(emu, body.get("image")))
    guild.scheduled_events[event.id] = event
    data = scheduled_event_payload(event)
    await emu._dispatch_intent("GUILD_SCHEDULED_EVENT_CREATE", data, guild.id,
                               INTENT_GUILD_SCHEDULED_EVENTS)
    return json_response(data)


async def list_events(emu: DiscordEmulator, req: Req) -> web.Response:
    guild = _guild(emu, req)
    if isinstance(guild, web.Response):
        return guild
    counts = req.query.get("with_user_count", "0").lower() in ("1", "true")
    return json_response([scheduled_event_payload(e, with_user_count=counts)
                          for e in guild.scheduled_events.values()])


async def one_event(emu: DiscordEmulator, req: Req) -> web.Response:
    event = _event(emu, req)
    if isinstance(event, web.Response):
        return event
    guild = event.guild
    if req.method == "GET":
        counts = req.query.get("with_user_count", "0").lower() in ("1", "true")
        return json_response(scheduled_event_payload(event, with_user_count=counts))
    channel = guild.channels.get(event.channel_id) if event.channel_id else None
    if not _bot_may(guild, channel, own=event.creator_id == emu.world.bot_user.id):
        return _error(403, 50013, "Missing Permissions")
    if req.method == "DELETE":
        guild.scheduled_events.pop(event.id, None)
        await emu._dispatch_intent("GUILD_SCHEDULED_EVENT_DELETE",
                                   scheduled_event_payload(event), guild.id,
                                   INTENT_GUILD_SCHEDULED_EVENTS)
        return web.Response(status=204)
    body = req.json or {}
    if event.status in (EventStatus.COMPLETED, EventStatus.CANCELED):
        return _error(400, 180000, "Cannot update a finished event")
    errors = {**(event_errors(body, partial=True) or {}),
              **(_check(guild, body, partial=True, current=event) or {})}
    if errors:
        return _invalid(emu, req, errors)
    for key, attr in (("name", "name"), ("description", "description"),
                      ("scheduled_start_time", "start"), ("scheduled_end_time", "end")):
        if key in body:
            setattr(event, attr, body[key])
    if "entity_type" in body:
        event.entity_type = int(body["entity_type"])
    if "channel_id" in body:
        event.channel_id = int(body["channel_id"]) if body["channel_id"] else None
    if "entity_metadata" in body:
        event.location = (body["entity_metadata"] or {}).get("location")
    if "status" in body:
        event.status = EventStatus(int(body["status"]))
    if "image" in body:
        event.image = _image(emu, body["image"])
    data = scheduled_event_payload(event)
    await emu._dispatch_intent("GUILD_SCHEDULED_EVENT_UPDATE", data, guild.id,
                               INTENT_GUILD_SCHEDULED_EVENTS)
    return json_response(data)


async def event_users(emu: DiscordEmulator, req: Req) -> web.Response:
    event = _event(emu, req)
    if isinstance(event, web.Response):
        return event
    limit = max(1, min(int(req.query.get("limit", 100)), 100))
    with_member = req.query.get("with_member", "0").lower() in ("1", "true")
    ids = sorted(event.interested)
    if "after" in req.query:
        ids = [i for i in ids if i > int(req.query["after"])][:limit]
    elif "before" in req.query:
        ids = [i for i in ids if i < int(req.query["before"])][-limit:]
    else:
        ids = ids[:limit]
    out = []
    for uid in ids:
        user = emu.world.users.get(uid)
        if user is None:
            continue
        row: dict[str, Any] = {"guild_scheduled_event_id": str(event.id),
                               "user": user_payload(user)}
        member = event.guild.members.get(uid)
        if with_member and member is not None:
            row["member"] = member_payload(member)
        out.append(row)
    return json_response(out)


# -- members ---------------------------------------------------------------------------
async def interested(emu: DiscordEmulator, member: Member, event: ScheduledEvent) -> None:
    """``member`` presses "Interested" (USER_ADD)."""
    if member.id in event.interested:
        return
    event.interested[member.id] = None
    await _user_event(emu, "GUILD_SCHEDULED_EVENT_USER_ADD", member, event)


async def not_interested(emu: DiscordEmulator, member: Member, event: ScheduledEvent) -> None:
    """``member`` takes "Interested" back (USER_REMOVE)."""
    if member.id not in event.interested:
        return
    del event.interested[member.id]
    await _user_event(emu, "GUILD_SCHEDULED_EVENT_USER_REMOVE", member, event)


async def _user_event(emu: DiscordEmulator, name: str, member: Member,
                      event: ScheduledEvent) -> None:
    data = {"guild_scheduled_event_id": str(event.id), "user_id": str(member.id),
            "guild_id": str(event.guild.id)}
    await emu._dispatch_intent(name, data, event.guild.id, INTENT_GUILD_SCHEDULED_EVENTS)
    emu._notify()


async def set_status(emu: DiscordEmulator, event: ScheduledEvent, status: EventStatus) -> None:
    """Discord (or a moderator) starts, ends or cancels the event (UPDATE)."""
    event.status = status
    await emu._dispatch_intent("GUILD_SCHEDULED_EVENT_UPDATE", scheduled_event_payload(event),
                               event.guild.id, INTENT_GUILD_SCHEDULED_EVENTS)
