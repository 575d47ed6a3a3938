"""Building the interactions a user triggers, exactly as Discord sends them.

Slash commands (with subcommands), autocomplete, button clicks, select menus and modal
submits become complete INTERACTION_CREATE payloads. Option ``type`` fields and command ids
come from the commands the bot registered (PUT .../commands), and user/role/channel options
carry ``data.resolved``. Every helper dispatches the payload and returns an
:class:`~emulator.replies.Interaction` to await the bot's answer.
"""

from __future__ import annotations

import copy
import secrets
from typing import TYPE_CHECKING, Any

from discord.enums import (
    AppCommandOptionType,
    AppCommandType,
    ComponentType,
    InteractionType,
    try_enum,
)

from . import limits as _LIMITS
from .bodies import UploadedFile
from .payloads import member_payload, resolved_channel_payload, role_payload, user_payload
from .replies import Interaction, Reply
from .world import Channel, Member, Role, User

if TYPE_CHECKING:
    from .server import DiscordEmulator

# Discord's numbers come from discord.py's enums: one source of truth, maintained upstream.
_SUBCOMMANDS = (AppCommandOptionType.subcommand.value,
                AppCommandOptionType.subcommand_group.value)
_SELECTS = tuple(kind.value for kind in (
    ComponentType.select, ComponentType.user_select, ComponentType.role_select,
    ComponentType.mentionable_select, ComponentType.channel_select))
# Components v2 (modal labels, text displays) are in discord.py's ComponentType only from 2.6;
# pyproject still allows 2.5, so these two keep Discord's documented numbers.
_LABEL, _TEXT_DISPLAY = 18, 10
ATTACHMENT_SIZE_LIMIT = _LIMITS.ATTACHMENT_SIZE_LIMIT  # the default of emu.attachment_size_limit


def _resolve_user(resolved: dict[str, Any], value: Member | User, channel: Channel) -> str:
    if isinstance(value, Member):
        resolved.setdefault("users", {})[str(value.id)] = user_payload(value.user)
        resolved.setdefault("members", {})[str(value.id)] = member_payload(
            value, with_user=False, channel=channel, with_permissions=True
        )
        return str(value.id)
    if isinstance(value, User):
        resolved.setdefault("users", {})[str(value.id)] = user_payload(value)
        return str(value.id)
    raise TypeError(f"expected a Member or User, got {value!r}")


def _resolve_value(
    emu: DiscordEmulator, opt: dict[str, Any], value: Any, resolved: dict[str, Any],
    member: Member, channel: Channel,
) -> Any:
    otype, name = try_enum(AppCommandOptionType, opt["type"]), opt["name"]
    if otype is AppCommandOptionType.string:
        value = str(value)
        if "min_length" in opt and len(value) < opt["min_length"]:
            raise ValueError(f"option {name!r}: shorter than min_length {opt['min_length']}")
        if "max_length" in opt and len(value) > opt["max_length"]:
            raise ValueError(f"option {name!r}: longer than max_length {opt['max_length']}")
    elif otype is AppCommandOptionType.integer:
        value = int(value)
    elif otype is AppCommandOptionType.number:
        value = float(value)
    elif otype is AppCommandOptionType.boolean:
        value = bool(value)
    elif otype is AppCommandOptionType.user:
        return _resolve_user(resolved, value, channel)
    elif otype is AppCommandOptionType.channel:
        if not isinstance(value, Channel):
            raise TypeError(f"option {name!r} wants a Channel, got {value!r}")
        types = opt.get("channel_types")
        if types and value.type not in types:
            raise ValueError(f"option {name!r}: channel type {value.type} not in {types}")
        resolved.setdefault("channels", {})[str(value.id)] = resolved_channel_payload(value, member)
        return str(value.id)
    elif otype is AppCommandOptionType.role:
        if not isinstance(value, Role):
            raise TypeError(f"option {name!r} wants a Role, got {value!r}")
        resolved.setdefault("roles", {})[str(value.id)] = role_payload(value)
        return str(value.id)
    elif otype is AppCommandOptionType.mentionable:
        if isinstance(value, Role):
            resolved.setdefault("roles", {})[str(value.id)] = role_payload(value)
            return str(value.id)
        return _resolve_user(resolved, value, channel)
    elif otype is AppCommandOptionType.attachment:
        filename, data = value if isinstance(value, tuple) else (value["filename"], value["data"])
        stored = emu.messages._attach(channel.id, UploadedFile("files[0]", filename, data), None,
                                      filename)
        resolved.setdefault("attachments", {})[stored["id"]] = {**stored, "ephemeral": True}
        return stored["id"]
    if otype in (AppCommandOptionType.integer, AppCommandOptionType.number):
        if "min_value" in opt and value < opt["min_value"]:
            raise ValueError(f"option {name!r}: {value} < min_value {opt['min_value']}")
        if "max_value" in opt and value > opt["max_value"]:
            raise ValueError(f"option {name!r}: {value} > max_value {opt['max_value']}")
    if opt.get("choices") and value not in [c["value"] for c in opt["choices"]]:
        allowed = [c["value"] for c in opt["choices"]]
        raise ValueError(f"option {name!r}: {value!r} is not one of the choices {allowed}")
    return value


def localized_name(item: dict[str, Any], locale: str | None) -> str | None:
    """The name a client in `locale` shows for a command or option (None: the name itself)."""
    return (item.get("name_localizations") or {}).get(locale) if locale else None


def _canonical(defs: list[dict[str, Any]], key: str, locale: str | None) -> str:
    """The option name (as the bot registered it) a member typed as `key`, which may be the
    name their client language shows."""
    for d in defs:
        if key == localized_name(d, locale):
            return str(d["name"])
    return key


def build_options(
    emu: DiscordEmulator,
    defs: list[dict[str, Any]],
    path: list[str],
    values: dict[str, Any],
    resolved: dict[str, Any],
    member: Member,
    channel: Channel,
    focused: str | None = None,
) -> list[dict[str, Any]]:
    """The ``data.options`` tree for a (sub)command invocation. Names may be given as the
    member's client shows them (their locale's `name_localizations`); the payload carries the
    registered names, as Discord's does."""
    locale = member.user.locale
    if path:
        sub = next(
            (d for d in defs if path[0] in (d["name"], localized_name(d, locale))
             and d["type"] in _SUBCOMMANDS),
            None,
        )
        if sub is None:
            names = [d["name"] for d in defs if d["type"] in _SUBCOMMANDS]
            raise ValueError(f"no subcommand {path[0]!r}; registered: {names}")
        inner = build_options(emu, sub.get("options") or [], path[1:], values, resolved, member,
                              channel, focused)
        return [{"name": sub["name"], "type": sub["type"], "options": inner}]
    subs = [d["name"] for d in defs if d["type"] in _SUBCOMMANDS]
    if subs:
        raise ValueError(f"this command needs a subcommand, one of {subs}")
    by_name = {d["name"]: d for d in defs}
    if focused is not None:
        focused = _canonical(defs, focused, locale)
        if focused not in by_name:
            focused = focused.replace("_", "-")
    given: dict[str, Any] = {}
    for key, value in values.items():
        key = _canonical(defs, key, locale)
        name = key if key in by_name else key.replace("_", "-")
        if name not in by_name:
            raise ValueError(f"unknown option {key!r}; registered options: {list(by_name)}")
        given[name] = value
    out: list[dict[str, Any]] = []
    for d in defs:
        name = d["name"]
        if name == focused:
            out.append({"name": name, "type": d["type"], "value": str(given.get(name) or ""),
                        "focused": True})
            continue
        value = given.get(name)
        if value is None:
            if d.get("required") and focused is None:
                raise ValueError(f"required option {name!r} is missing")
            continue
        out.append({"name": name, "type": d["type"],
                    "value": _resolve_value(emu, d, value, resolved, member, channel)})
    return out


def base_payload(
    emu: DiscordEmulator,
    itype: InteractionType,
    member: Member,
    channel: Channel | None,
    data: dict[str, Any],
    message: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A complete guild INTERACTION_CREATE payload."""
    world = emu.world
    guild = member.guild
    channel = channel or guild.text_channels[0]
    iid = world.ids()
    me = guild.members.get(world.bot_user.id)
    app_perms = guild.permissions_for(me, channel) if me else 0
    payload: dict[str, Any] = {
        "id": str(iid),
        "application_id": str(world.application_id),
        "type": itype.value,
        "token": f"emu.{iid:x}.{secrets.token_urlsafe(24)}",
        "version": 1,
        "attachment_size_limit": getattr(emu, "attachment_size_limit", ATTACHMENT_SIZE_LIMIT),
        "guild_id": str(guild.id),
        "guild": {"id": str(guild.id), "locale": guild.preferred_locale, "features": []},
        "channel_id": str(channel.id),
        "channel": resolved_channel_payload(channel, member),
        "member": member_payload(member, channel=channel, with_permissions=True),
        "app_permissions": str(app_perms),
        "locale": member.user.locale,
        "guild_locale": guild.preferred_locale,
        "entitlements": [],
        "entitlement_sku_ids": [],
        "authorizing_integration_owners": {"0": str(guild.id)},
        "context": 0,
        "data": data,
    }
    if message is not None:
        payload["message"] = copy.deepcopy(message)
    return payload


async def send(emu: DiscordEmulator, payload: dict[str, Any], label: str) -> Interaction:
    inter = Interaction(emu, payload, label)
    emu.interactions[inter.token] = inter
    emu.interaction_log.append(inter)
    n = await emu.gateway.dispatch("INTERACTION_CREATE", payload, guild_id=inter.guild_id)
    if n == 0:
        raise RuntimeError("no bot session is connected to the emulator (did it log in?)")
    return inter


def _command_data(
    emu: DiscordEmulator, member: Member, channel: Channel | None, command: str,
    values: dict[str, Any], focused: str | None,
) -> dict[str, Any]:
    parts = command.split()
    if not parts:
        raise ValueError("empty command name")
    cmd = emu.find_command(parts[0], member.guild, member.user.locale)
    resolved: dict[str, Any] = {}
    channel = channel or member.guild.text_channels[0]
    options = build_options(emu, cmd.get("options") or [], parts[1:], values, resolved, member,
                            channel, focused)
    data: dict[str, Any] = {
        "id": cmd["id"], "name": cmd["name"],
        "type": cmd.get("type", AppCommandType.chat_input.value), "options": options,
    }
    if resolved:
        data["resolved"] = resolved
    if cmd.get("guild_id"):
        data["guild_id"] = cmd["guild_id"]
    return data


async def slash(
    emu: DiscordEmulator, member: Member, channel: Channel | None, command: str, /,
    options: dict[str, Any] | None = None, **kwargs: Any,
) -> Interaction:
    """Invoke ``/command [subcommand ...]`` with options as keyword arguments."""
    data = _command_data(emu, member, channel, command, {**(options or {}), **kwargs}, None)
    payload = base_payload(emu, InteractionType.application_command, member, channel, data)
    return await send(emu, payload, f"/{command}")


async def autocomplete(
    emu: DiscordEmulator, member: Member, channel: Channel | None, command: str, /,
    focused: str, options: dict[str, Any] | None = None, **kwargs: Any,
) -> Interaction:
    """The user is typing in option ``focused`` (its current text is ``kwargs[focused]``)."""
    values = {**(options or {}), **kwargs}
    values.setdefault(focused, "")
    data = _command_data(emu, member, channel, command, values, focused)
    return await send(emu, base_payload(emu, InteractionType.autocomplete, member, channel, data),
                      f"/{command} autocomplete {focused}")


def message_dict(emu: DiscordEmulator, message: Any) -> dict[str, Any]:
    """Latest stored version of a message given a Reply, message dict, or id."""
    if isinstance(message, Reply):
        mid = message.id
    elif isinstance(message, dict):
        mid = int(message["id"])
    else:
        mid = int(message)
    stored = emu.messages.get(mid) if mid is not None else None
    if stored is None:
        raise LookupError(f"message {mid} does not exist (deleted, or never sent)")
    return stored


def _find_component(message: dict[str, Any], custom_id: str) -> dict[str, Any]:
    reply = Reply(components=message.get("components", []))
    try:
        return reply.component(custom_id)
    except KeyError:
        ids = [c.get("custom_id") for c in reply.walk_components() if c.get("custom_id")]
        raise LookupError(f"message has no component {custom_id!r}; it has {ids}") from None


async def click(
    emu: DiscordEmulator, member: Member, message: Any, custom_id: str
) -> Interaction:
    """Click the button ``custom_id`` on ``message``."""
    msg = message_dict(emu, message)
    comp = _find_component(msg, custom_id)
    if comp.get("type") != ComponentType.button.value:
        raise ValueError(f"{custom_id!r} is not a button (type {comp.get('type')})")
    if comp.get("disabled"):
        raise ValueError(f"button {custom_id!r} is disabled; Discord would not send the click")
    data: dict[str, Any] = {"custom_id": custom_id,
                            "component_type": ComponentType.button.value}
    if "id" in comp:
        data["id"] = comp["id"]
    channel = emu.world.channel(int(msg["channel_id"]))
    payload = base_payload(emu, InteractionType.component, member, channel, data, message=msg)
    return await send(emu, payload, f"click {custom_id}")


def _select_values(
    comp: dict[str, Any], values: list[Any], member: Member, channel: Channel | None
) -> tuple[list[str], dict[str, Any]]:
    resolved: dict[str, Any] = {}
    if comp["type"] == ComponentType.select.value:
        allowed = [o["value"] for o in comp.get("options", [])]
        for v in values:
            if v not in allowed:
                raise ValueError(f"{v!r} is not an option of select {comp['custom_id']!r}")
        out = [str(v) for v in values]
    else:
        out = []
        for v in values:
            if isinstance(v, Role):
                resolved.setdefault("roles", {})[str(v.id)] = role_payload(v)
                out.append(str(v.id))
            elif isinstance(v, Channel):
                resolved.setdefault("channels", {})[str(v.id)] = resolved_channel_payload(v, member)
                out.append(str(v.id))
            else:
                out.append(_resolve_user(resolved, v, channel or v.guild.text_channels[0]))
    lo, hi = comp.get("min_values", 1), comp.get("max_values", 1)
    if not lo <= len(out) <= hi:
        raise ValueError(f"select {comp['custom_id']!r} takes {lo}..{hi} values, got {len(out)}")
    return out, resolved


async def select(
    emu: DiscordEmulator, member: Member, message: Any, custom_id: str, values: list[Any]
) -> Interaction:
    """Pick ``values`` in the select menu ``custom_id`` on ``message``."""
    msg = message_dict(emu, message)
    comp = _find_component(msg, custom_id)
    if comp.get("type") not in _SELECTS:
        raise ValueError(f"{custom_id!r} is not a select menu (type {comp.get('type')})")
    if comp.get("disabled"):
        raise ValueError(f"select {custom_id!r} is disabled")
    channel = emu.world.channel(int(msg["channel_id"]))
    vals, resolved = _select_values(comp, list(values), member, channel)
    data: dict[str, Any] = {"custom_id": custom_id, "component_type": comp["type"], "values": vals}
    if resolved:
        data["resolved"] = resolved
    payload = base_payload(emu, InteractionType.component, member, channel, data, message=msg)
    return await send(emu, payload, f"select {custom_id}")


def _modal_components(
    modal: dict[str, Any] | None, values: dict[str, Any]
) -> list[dict[str, Any]]:
    if modal is None:
        return [
            {"type": ComponentType.action_row.value,
             "components": [{"type": ComponentType.text_input.value, "custom_id": k,
                             "value": str(v)}]}
            for k, v in values.items()
        ]
    used: set[str] = set()

    def answer(comp: dict[str, Any]) -> dict[str, Any] | None:
        cid = comp.get("custom_id")
        out: dict[str, Any] = {"type": comp["type"]}
        if "id" in comp:
            out["id"] = comp["id"]
        if comp["type"] == ComponentType.text_input.value:
            value = values.get(cid, comp.get("value") or "")
            if comp.get("required", True) and not value:
                raise ValueError(f"modal field {cid!r} is required")
            out.update(custom_id=cid, value=str(value))
        elif comp["type"] in _SELECTS:
            v = values.get(cid, [])
            out.update(custom_id=cid, values=[str(x) for x in (v if isinstance(v, list) else [v])])
        else:
            return None
        used.add(cid)
        return out

    result: list[dict[str, Any]] = []
    for top in modal.get("components", []):
        if top.get("type") == ComponentType.action_row.value:
            inner = [a for a in (answer(c) for c in top.get("components", [])) if a]
            result.append({"type": ComponentType.action_row.value, "components": inner})
        elif top.get("type") == _LABEL and top.get("component"):
            a = answer(top["component"])
            if a:
                entry = {"type": _LABEL, "component": a}
                if "id" in top:
                    entry["id"] = top["id"]
                result.append(entry)
        elif top.get("type") == _TEXT_DISPLAY:
            entry = {"type": _TEXT_DISPLAY}
            if "id" in top:
                entry["id"] = top["id"]
            result.append(entry)
    unknown = set(values) - used
    if unknown:
        raise ValueError(f"modal has no fields {sorted(unknown)}")
    return result


async def submit_modal(
    emu: DiscordEmulator, member: Member, channel: Channel | None, custom_id: str,
    values: dict[str, Any],
) -> Interaction:
    """Submit the modal ``custom_id`` (as the bot last sent it) with ``{field: value}``."""
    modal, opener = emu.modals.get(custom_id, (None, None))
    data = {"custom_id": custom_id, "components": _modal_components(modal, values)}
    message = None
    if opener is not None and opener.payload.get("message"):
        try:
            message = message_dict(emu, opener.payload["message"])
        except LookupError:
            message = None
    if channel is None and opener is not None:
        channel = emu.world.channel(opener.channel_id)
    payload = base_payload(emu, InteractionType.modal_submit, member, channel, data,
                           message=message)
    return await send(emu, payload, f"modal {custom_id}")
