"""Plain-text rendering of a Discord message, the way a person reads it in the client.

Used by test assertions and by the try-it console. Content first, then each embed (title,
description, fields, footer), then components (buttons as ``[Label]``, disabled ones as
``[Label (disabled)]``, selects as ``[▾ placeholder]``), then attachments.
"""

from __future__ import annotations

from typing import Any

from discord.enums import ButtonStyle, ComponentType

# Discord's numbers come from discord.py's enums: one source of truth, maintained upstream.
_ACTION_ROW = ComponentType.action_row.value
_BUTTON = ComponentType.button.value
_TEXT_INPUT = ComponentType.text_input.value
_SELECTS = tuple(kind.value for kind in (
    ComponentType.select, ComponentType.user_select, ComponentType.role_select,
    ComponentType.mentionable_select, ComponentType.channel_select))
_BUTTON_LINK = ButtonStyle.link.value
# Components v2 are in discord.py's ComponentType only from 2.6; pyproject still allows 2.5, so
# these keep Discord's documented numbers until that floor moves.
_SECTION, _TEXT_DISPLAY, _THUMBNAIL, _MEDIA_GALLERY, _FILE, _SEPARATOR = 9, 10, 11, 12, 13, 14
_CONTAINER, _LABEL = 17, 18


def _emoji(comp: dict[str, Any]) -> str:
    emoji = comp.get("emoji") or {}
    name = emoji.get("name")
    return f"{name} " if name and not emoji.get("id") else ""


def render_component(comp: dict[str, Any]) -> list[str]:
    """Lines for one component (recurses into rows, containers and sections)."""
    ctype = comp.get("type")
    if ctype == _ACTION_ROW:
        parts = [" ".join(render_component(c)) for c in comp.get("components", [])]
        return [" ".join(p for p in parts if p)]
    if ctype == _BUTTON:
        label = f"{_emoji(comp)}{comp.get('label') or ''}".strip() or "?"
        if comp.get("style") == _BUTTON_LINK and comp.get("url"):
            label = f"{label} -> {comp['url']}"
        suffix = " (disabled)" if comp.get("disabled") else ""
        return [f"[{label}{suffix}]"]
    if ctype in _SELECTS:
        placeholder = comp.get("placeholder") or "Make a selection"
        suffix = " (disabled)" if comp.get("disabled") else ""
        options = comp.get("options") or []
        chosen = [o.get("label", "") for o in options if o.get("default")]
        text = f"[▾ {placeholder}{suffix}]"
        if chosen:
            text += " = " + ", ".join(chosen)
        elif options:
            text += " {" + " | ".join(o.get("label", "") for o in options) + "}"
        return [text]
    if ctype == _TEXT_INPUT:  # in modals
        return [f"{comp.get('label', '')}: {comp.get('value') or comp.get('placeholder') or ''}"]
    if ctype == _TEXT_DISPLAY:
        return [comp.get("content", "")]
    if ctype == _SECTION:
        lines = [line for c in comp.get("components", []) for line in render_component(c)]
        acc = comp.get("accessory")
        if acc:
            lines.extend(render_component(acc))
        return lines
    if ctype == _SEPARATOR:
        return ["―" * 8] if comp.get("divider", True) else [""]
    if ctype in (_CONTAINER, _LABEL):
        lines: list[str] = []
        if ctype == _LABEL and comp.get("label"):
            lines.append(comp["label"])
        for c in comp.get("components", []) + ([comp["component"]] if "component" in comp else []):
            lines.extend(render_component(c))
        return lines
    if ctype in (_THUMBNAIL, _MEDIA_GALLERY):
        return ["[media]"]
    if ctype == _FILE:
        return ["[file]"]
    return []


def render_embed(embed: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    author = (embed.get("author") or {}).get("name")
    if author:
        lines.append(author)
    if embed.get("title"):
        lines.append(f"**{embed['title']}**")
    if embed.get("description"):
        lines.extend(str(embed["description"]).splitlines())
    for f in embed.get("fields", []):
        lines.append(f"{f.get('name', '')}: {f.get('value', '')}")
    if (embed.get("image") or {}).get("url"):
        lines.append(f"[image {embed['image']['url']}]")
    footer = (embed.get("footer") or {}).get("text")
    if footer:
        lines.append(f"— {footer}")
    return ["| " + line if line else "|" for line in lines]


def rendered_text(message: Any) -> str:
    """Render a message dict (or anything with ``.message``/``.content``) as plain text."""
    if not isinstance(message, dict):
        message = getattr(message, "message", None) or {
            "content": getattr(message, "content", ""),
            "embeds": getattr(message, "embeds", []),
            "components": getattr(message, "components", []),
            "attachments": [],
            "flags": 64 if getattr(message, "ephemeral", False) else 0,
        }
    lines: list[str] = []
    if message.get("flags", 0) & (1 << 7):
        lines.append("<bot is thinking...>")
    if message.get("content"):
        lines.extend(message["content"].splitlines())
    for embed in message.get("embeds", []):
        lines.extend(render_embed(embed))
    for comp in message.get("components", []):
        lines.extend(render_component(comp))
    for att in message.get("attachments", []):
        lines.append(f"📎 {att.get('filename')} ({att.get('size', '?')} bytes)")
    if message.get("flags", 0) & (1 << 6):
        lines.append("(only you can see this)")
    return "\n".join(lines)
