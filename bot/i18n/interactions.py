"""Which language each interaction is answered in, set before any of its code runs.

discord.py turns an INTERACTION_CREATE into a task (a command, a button, a select, a form):
`speak_per_interaction` wraps the gateway's parser so the task starts with the current
language (`bot.i18n`) already set, whatever handles it; tasks copy the context they are
created in, so nothing else has to pass the language on.

The language: the member's Discord client language (the payload's `locale`) when the bot has a
catalog for it, else the server's `/settings language:` (`ServerLanguages`, kept in memory as
it is read and changed), else English.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any

import discord

from bot.i18n import language_for, set_language
from bot.i18n.catalogs import SOURCE_LANGUAGE


class ServerLanguages:
    """Each server's `/settings language:` the bot has seen (read when first needed)."""

    def __init__(self) -> None:
        self._known: dict[int, str] = {}

    def get(self, guild_id: int | None) -> str | None:
        return self._known.get(guild_id) if guild_id is not None else None

    def knows(self, guild_id: int) -> bool:
        return guild_id in self._known

    def remember(self, guild_id: int, language: str) -> None:
        self._known[guild_id] = language

    def forget(self, guild_id: int) -> None:
        self._known.pop(guild_id, None)


def choose(locale: str | None, server_language: str | None) -> str:
    """The member's language if spoken, else the server's, else English."""
    return language_for(locale) or language_for(server_language) or SOURCE_LANGUAGE


def speak_per_interaction(client: discord.Client, servers: ServerLanguages) -> None:
    """Run each INTERACTION_CREATE's parsing (which starts its task) in a context whose
    language is the interaction's."""
    parsers: dict[str, Callable[[Any], None]] = client._connection.parsers
    original = parsers["INTERACTION_CREATE"]

    def parse_in_language(data: Any) -> None:
        guild_id = data.get("guild_id")
        language = choose(data.get("locale"), servers.get(int(guild_id)) if guild_id else None)
        context = contextvars.copy_context()
        context.run(_parse, original, language, data)

    parsers["INTERACTION_CREATE"] = parse_in_language


def _parse(original: Callable[[Any], None], language: str, data: Any) -> None:
    set_language(language)
    original(data)


async def settle(interaction: discord.Interaction, servers: ServerLanguages,
                 read: Callable[[int], Any]) -> None:
    """For a member whose language the bot does not speak, in a server whose language it has
    not read yet: read it (`read(guild_id)` -> the server's GuildSettings) and speak it."""
    guild_id = interaction.guild_id
    if guild_id is None or language_for(str(interaction.locale)) is not None \
            or servers.knows(guild_id):
        return
    settings = await read(guild_id)
    servers.remember(guild_id, settings.language)
    set_language(choose(None, settings.language))
