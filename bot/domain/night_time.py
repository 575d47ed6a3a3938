"""When a movie night starts: `/movienight when:` read in the server's timezone.

Accepted: "20:30" (the next 20:30: today, or tomorrow once it has passed), "tomorrow 20:30"
and "2026-12-24 20:30" (also "2026-12-24T20:30"). The time must lie ahead, at most
`MAX_DAYS_AHEAD` days; a wall-clock time that does not exist (a DST gap) or exists twice is
read as `zoneinfo` does (fold 0). DomainError carries the member's message.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo

from bot.domain.errors import DomainError
from bot.i18n import _

MAX_DAYS_AHEAD = 60
_CLOCK = re.compile(r"(?P<h>[01]?\d|2[0-3])[:.h](?P<m>[0-5]\d)")
_DATE = re.compile(r"(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})")
FORMATS = "20:30, tomorrow 20:30 or 2026-12-24 20:30"


def parse_when(text: str, zone: tzinfo, now: datetime | None = None) -> datetime:
    """The start `text` names, as an aware UTC datetime; DomainError if unreadable, past or
    too far ahead."""
    now = (now or datetime.now(UTC)).astimezone(zone)
    words = text.strip().lower().replace("t", " ", 1) if _DATE.match(text.strip()) \
        else text.strip().lower()
    parts = words.split()
    if not parts or len(parts) > 2:
        raise DomainError(_("I can't read {text} as a time: write {formats}.").format(
            text=repr(text[:40]), formats=FORMATS))
    clock = _CLOCK.fullmatch(parts[-1])
    if clock is None:
        raise DomainError(_("I can't read {text} as a time: write {formats}.").format(
            text=repr(text[:40]), formats=FORMATS))
    hour, minute = int(clock["h"]), int(clock["m"])
    if len(parts) == 1:
        day = now.date()
        start = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
        if start <= now:
            start = _shift_day(start, zone, 1)
    elif parts[0] in ("tomorrow", "tmrw"):
        day = now.date() + timedelta(days=1)
        start = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
    elif (date := _DATE.fullmatch(parts[0])) is not None:
        try:
            start = datetime(int(date["y"]), int(date["mo"]), int(date["d"]), hour, minute,
                             tzinfo=zone)
        except ValueError as error:
            raise DomainError(_("{text} is not a date.").format(text=parts[0])) from error
    else:
        raise DomainError(_("I can't read {text} as a time: write {formats}.").format(
            text=repr(text[:40]), formats=FORMATS))
    if start <= now:
        raise DomainError(_("That time has passed: pick one ahead."))
    if start - now > timedelta(days=MAX_DAYS_AHEAD):
        raise DomainError(_("Plan at most {n} days ahead.").format(n=MAX_DAYS_AHEAD))
    return start.astimezone(UTC)


def _shift_day(moment: datetime, zone: tzinfo, days: int) -> datetime:
    day = moment.date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, moment.hour, moment.minute, tzinfo=zone)
