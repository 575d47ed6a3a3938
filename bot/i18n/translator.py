"""Command and option names and descriptions in the member's language: discord.py's
`app_commands.Translator`, fed by the same catalogs as the replies (`bot.i18n.catalogs`).

The tree sends every name and description with `name_localizations`/`description_localizations`
when it syncs; Discord shows each member the ones of their client language. Names live in the
catalog under a context (`command` for command and group names, `option` for option names), so
"rate" the command and "rate" a word in a reply can differ; descriptions and choice names are
plain msgids. A name translation that breaks Discord's naming rules (lowercase, 1-32 letters,
digits, `-` or `_`) is left out (Discord would refuse the whole sync), as is one equal to the
English text.
"""

from __future__ import annotations

import logging

from discord import Locale, app_commands
from discord.app_commands import TranslationContextLocation as Where

from bot.i18n import language_for
from bot.i18n.catalogs import SOURCE_LANGUAGE, translations

log = logging.getLogger(__name__)

NAME_CONTEXTS = {Where.command_name: "command", Where.group_name: "command",
                 Where.parameter_name: "option"}
DESCRIPTION_LIMIT = 100  # descriptions and choice names


def valid_name(name: str) -> bool:
    """Discord's rule for command and option names: ^[-_\\p{L}\\p{N}]{1,32}$, lowercase."""
    return (1 <= len(name) <= 32 and name == name.lower()
            and all(ch.isalnum() or ch in "-_" for ch in name))


def translate(message: str, language: str, location: Where) -> str | None:
    """`message` (a name, description or choice) in `language`, or None (the English one)."""
    if language == SOURCE_LANGUAGE:
        return None
    catalog = translations(language)
    context = NAME_CONTEXTS.get(location)
    text = catalog.pgettext(context, message) if context else catalog.gettext(message)
    if text == message:
        return None
    if context and not valid_name(text):
        log.warning("the %s translation of %s name %r is not a valid Discord name: %r",
                    language, context, message, text)
        return None
    if not context and not 1 <= len(text) <= DESCRIPTION_LIMIT:
        log.warning("the %s translation of %r is over %d characters", language, message,
                    DESCRIPTION_LIMIT)
        return None
    return text


def command_name(name: str, language: str) -> str:
    """A command's (or group's) name as members of `language` see it."""
    return translate(name, language, Where.command_name) or name


def option_name(name: str, language: str) -> str:
    return translate(name, language, Where.parameter_name) or name


def description(text: str, language: str) -> str:
    return translate(text, language, Where.command_description) or text


class CatalogTranslator(app_commands.Translator):
    """The tree's translator (`CommandTree.set_translator`)."""

    async def translate(self, string: app_commands.locale_str, locale: Locale,
                        context: app_commands.TranslationContextTypes) -> str | None:
        language = language_for(locale.value)
        if language is None:
            return None
        return translate(string.message, language, context.location)
