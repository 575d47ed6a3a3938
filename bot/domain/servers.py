"""A Discord server's name as the bot shows it to the person running it (log lines, `stats`).

Server names are chosen by strangers: `server_name` removes control and invisible characters
(so a name cannot add a fake log line or reorder the text around it), collapses spaces and
keeps at most `MAX_SERVER_NAME` characters.
"""

from __future__ import annotations

from bot.domain.titles import strip_controls

MAX_SERVER_NAME = 100  # Discord's own limit for a server name


def server_name(name: str | None) -> str:
    """The name on one line, controls removed, at most MAX_SERVER_NAME characters."""
    clean = " ".join(strip_controls(name or "").split())
    if len(clean) > MAX_SERVER_NAME:
        clean = clean[:MAX_SERVER_NAME - 1] + "…"
    return clean or "(no name)"
