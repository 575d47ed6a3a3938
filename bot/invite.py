"""The bot's invite link: `python -m bot invite` prints the OAuth2 URL that adds it to a server.

The scopes and permissions are exactly what the code uses, each with the reason (this list is
also what a permission check can compare a channel against):

* scopes `bot` (join the server as a bot user) and `applications.commands` (its slash commands);
* View Channels: see the voice channels whose members `/movienight` and `/recommend voice:` read,
  and the movie-night message it edits when the vote ends;
* Send Messages, Send Messages in Threads: its answers, in channels and in threads;
* Embed Links: the movie cards, lists and picks are embeds;
* Attach Files: the pictures (`/taste`, charts, the `/recommend` card) and `/export`'s files.

It asks for nothing else: it reads no message content (no Read Message History), adds no
reactions, moderates nothing and joins no voice channel.

* Manage Events: `/movienight when:` makes the winner a Discord scheduled event and reads who
  is interested (issue 26).

`EVENT_PERMISSIONS` is empty now that Manage Events is required (kept for callers that list
optional permissions separately).

The application id comes from `--application-id`, `[discord] application_id`, or the token:
a bot token's first dot-separated part is the bot user's id in base64, and a bot user's id is
its application's id.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlencode

import discord

from bot.i18n import N_

AUTHORIZE_URL = "https://discord.com/oauth2/authorize"
SCOPES: tuple[str, ...] = ("bot", "applications.commands")

# (discord.Permissions flag, the name Discord shows, why the bot needs it)
PERMISSIONS: tuple[tuple[str, str, str], ...] = (  # N_: /setup shows them translated
    ("view_channel", N_("View Channels"),
     N_("see voice channel members (/movienight, /recommend voice:) and its movie-night "
        "message")),
    ("send_messages", N_("Send Messages"), N_("answer in channels")),
    ("send_messages_in_threads", N_("Send Messages in Threads"), N_("answer in threads")),
    ("embed_links", N_("Embed Links"), N_("movie cards, lists and picks are embeds")),
    ("attach_files", N_("Attach Files"), N_("pictures and /export files")),
    ("manage_events", N_("Manage Events"), N_("movie nights as scheduled server events with "
                                              "RSVP")),
)
# Optional permissions /setup checks apart from `PERMISSIONS` (none now).
EVENT_PERMISSIONS: tuple[tuple[str, str, str], ...] = ()


class InviteError(ValueError):
    """No application id to build the link from (one line for the admin)."""


def required_permissions() -> discord.Permissions:
    """The bot permissions the invite asks for."""
    return discord.Permissions(**{flag: True for flag, _name, _why in PERMISSIONS})


def application_id_from_token(token: str) -> int:
    """The bot's user id (= its application id) from a bot token's first part."""
    first = token.strip().split(".", 1)[0]
    try:
        decoded = base64.urlsafe_b64decode(first + "=" * (-len(first) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    if not decoded.isdigit() or int(decoded) <= 0:
        raise InviteError("cannot read the application id from the token (it does not look "
                          "like a bot token): pass --application-id (Developer Portal > "
                          "General Information > Application ID)")
    return int(decoded)


def invite_url(application_id: int) -> str:
    """The OAuth2 URL that adds the bot, with exactly `SCOPES` and `PERMISSIONS`."""
    query = urlencode({"client_id": application_id, "scope": " ".join(SCOPES),
                       "permissions": required_permissions().value})
    return f"{AUTHORIZE_URL}?{query}"


def resolve_application_id(explicit: int | None, configured: int | None,
                           token: str | None) -> int:
    """The application id: the option, else `[discord] application_id`, else from the token."""
    if explicit:
        return explicit
    if configured:
        return configured
    if token:
        return application_id_from_token(token)
    raise InviteError("no application id: pass --application-id (Developer Portal > General "
                      "Information > Application ID), set [discord] application_id, or set "
                      "DISCORD_TOKEN to read it from the token")


def invite_notes() -> str:
    """What `python -m bot invite` prints after the URL (on stderr): what it asks for, why."""
    lines = [f"Scopes: {', '.join(SCOPES)}. Permissions:"]
    lines += [f"  {name}: {why}" for _flag, name, why in PERMISSIONS]
    lines.append("Open the URL, pick your server, then run `python -m bot sync` once.")
    return "\n".join(lines)
