"""Where a server is: its timezone (IANA names, `zoneinfo`), its region (ISO 3166-1 alpha-2,
for age ratings and streaming services) and the streaming services it has; each checked and
normalised for `/settings` (DomainError with the member's message)."""

from __future__ import annotations

import functools
import re
import zoneinfo
from datetime import tzinfo

from bot.domain.errors import DomainError
from bot.i18n import _

MAX_SERVICES = 20
MAX_SERVICE_NAME = 40
_REGION = re.compile(r"[A-Za-z]{2}")


@functools.cache
def timezone_names() -> tuple[str, ...]:
    """Every IANA timezone name this system knows, sorted (read once)."""
    return tuple(sorted(zoneinfo.available_timezones()))


@functools.cache
def _by_folded() -> dict[str, str]:
    return {name.casefold(): name for name in timezone_names()}


def timezone_name(text: str) -> str:
    """The IANA name `text` means (case-insensitive; "" unsets); DomainError otherwise."""
    text = text.strip()
    if not text:
        return ""
    name = _by_folded().get(text.casefold().replace(" ", "_"))
    if name is None:
        raise DomainError(_("I don't know the timezone {name}: use an IANA name such as "
                            "Europe/Berlin or America/New_York (the option suggests them).")
                          .format(name=repr(text[:60])))
    return name


def matching_timezones(typed: str, limit: int = 25) -> list[str]:
    """Timezone names containing what was typed (prefix matches first), for autocomplete."""
    folded = typed.strip().casefold().replace(" ", "_")
    names = timezone_names()
    if not folded:
        return list(names[:limit])
    starts = [n for n in names if n.casefold().startswith(folded)
              or n.casefold().split("/")[-1].startswith(folded)]
    inside = [n for n in names if folded in n.casefold() and n not in starts]
    return (starts + inside)[:limit]


def zone(name: str) -> tzinfo:
    """The server's timezone ("" = UTC)."""
    return zoneinfo.ZoneInfo(name or "UTC")


def region_code(text: str) -> str:
    """An ISO 3166-1 alpha-2 code ("DE", "US"; "" unsets); DomainError otherwise."""
    text = text.strip()
    if not text:
        return ""
    if not _REGION.fullmatch(text):
        raise DomainError(_("A region is a two-letter country code, such as US, GB or DE."))
    return text.upper()


def service_names(text: str) -> str:
    """The server's streaming services, comma-separated ("Netflix, Disney Plus"; "" unsets):
    trimmed, duplicates dropped (case-insensitive); DomainError when too many or too long."""
    names: dict[str, str] = {}
    for part in text.split(","):
        name = " ".join(part.split())
        if not name:
            continue
        if len(name) > MAX_SERVICE_NAME:
            raise DomainError(_("A service name is at most {n} characters.").format(
                n=MAX_SERVICE_NAME))
        names.setdefault(name.casefold(), name)
    if len(names) > MAX_SERVICES:
        raise DomainError(_("Name at most {n} streaming services.").format(n=MAX_SERVICES))
    return ", ".join(names.values())


def services_list(stored: str) -> list[str]:
    return [name for name in (part.strip() for part in stored.split(",")) if name]
