"""When a movie night starts: `/movienight when:` read in the server's timezone.

Accepted: "20:30" (the next 20:30: today, or tomorrow once it has passed), a day then a time:
"today 20:30", "tomorrow 20:30", "day after tomorrow 20:30", a weekday ("friday 20:30": the
next Friday, today if that time is still ahead) or a date ("2026-12-24 20:30", also
"2026-12-24T20:30"). Day words are read in every language the bot speaks, whatever the
member's: "morgen 20:30", "demain 20:30", "mañana 20:30", "viernes 20:30" (the relative days
from the catalogs, the weekdays, full and abbreviated, from Babel's CLDR data; case, accents
and a trailing dot do not matter). The time must lie ahead, at most `MAX_DAYS_AHEAD` days; a
wall-clock time that does not exist (a DST gap) or exists twice is read as `zoneinfo` does
(fold 0). DomainError carries the member's message.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import UTC, datetime, timedelta, tzinfo

from babel.dates import get_day_names

from bot.domain.errors import DomainError
from bot.i18n import N_, _, speaking
from bot.i18n.catalogs import languages

MAX_DAYS_AHEAD = 60
_CLOCK = re.compile(r"(?P<h>[01]?\d|2[0-3])[:.h](?P<m>[0-5]\d)")
_DATE = re.compile(r"(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})")
FORMATS = N_("20:30, tomorrow 20:30, friday 20:30 or 2026-12-24 20:30")
"""The forms `when:` takes, as a refusal names them (translated where shown)."""
RELATIVE_DAYS = {N_("today"): 0, N_("tomorrow"): 1, N_("day after tomorrow"): 2}
"""Days counted from today, by their English name (each catalog has the language's)."""


def _folded(text: str) -> str:
    """`text` as day words are compared: case, accents, apostrophes and dots folded."""
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", text.casefold())
                    if not unicodedata.combining(ch))
    return " ".join(plain.replace("’", "'").replace(".", " ").split())


@functools.cache
def day_words() -> tuple[dict[str, int], dict[str, int]]:
    """({relative day word: days ahead}, {weekday word: 0 = Monday}) in every language the
    bot speaks; a word two languages read differently is left out."""
    relative: dict[str, int] = {"tmrw": 1}
    weekdays: dict[str, int] = {}
    clashes: set[str] = set()

    def add(table: dict[str, int], word: str, value: int) -> None:
        word = _folded(word)
        if not word:
            return
        if table.get(word, value) != value:
            clashes.add(word)
        table[word] = value

    for language in languages():
        with speaking(language):
            for word, days in RELATIVE_DAYS.items():
                add(relative, _(word), days)
        for width in ("wide", "abbreviated"):
            for weekday, name in get_day_names(width, locale=language).items():
                add(weekdays, name, weekday)
    for word in clashes:
        relative.pop(word, None)
        weekdays.pop(word, None)
    return relative, weekdays


def _unreadable(text: str) -> DomainError:
    return DomainError(_("I can't read {text} as a time: write {formats}.").format(
        text=repr(text[:40]), formats=_(FORMATS)))


def parse_when(text: str, zone: tzinfo, now: datetime | None = None) -> datetime:
    """The start `text` names, as an aware UTC datetime; DomainError if unreadable, past or
    too far ahead."""
    now = (now or datetime.now(UTC)).astimezone(zone)
    words = text.strip().lower().replace("t", " ", 1) if _DATE.match(text.strip()) \
        else text.strip().lower()
    parts = words.split()
    if not parts or len(parts) > 5:
        raise _unreadable(text)
    clock = _CLOCK.fullmatch(parts[-1])
    if clock is None:
        raise _unreadable(text)
    hour, minute = int(clock["h"]), int(clock["m"])
    day_text = " ".join(parts[:-1])
    relative, weekdays = day_words()
    if not day_text:
        day = now.date()
        start = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
        if start <= now:
            start = _shift_day(start, zone, 1)
    elif (date := _DATE.fullmatch(day_text)) is not None:
        try:
            start = datetime(int(date["y"]), int(date["mo"]), int(date["d"]), hour, minute,
                             tzinfo=zone)
        except ValueError as error:
            raise DomainError(_("{text} is not a date.").format(text=day_text)) from error
    elif (days := relative.get(_folded(day_text))) is not None:
        day = now.date() + timedelta(days=days)
        start = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
    elif (weekday := weekdays.get(_folded(day_text))) is not None:
        day = now.date() + timedelta(days=(weekday - now.weekday()) % 7)
        start = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
        if start <= now:  # that weekday is today and the time has passed: next week's
            start = _shift_day(start, zone, 7)
    else:
        raise _unreadable(text)
    if start <= now:
        raise DomainError(_("That time has passed: pick one ahead."))
    if start - now > timedelta(days=MAX_DAYS_AHEAD):
        raise DomainError(_("Plan at most {n} days ahead.").format(n=MAX_DAYS_AHEAD))
    return start.astimezone(UTC)


def _shift_day(moment: datetime, zone: tzinfo, days: int) -> datetime:
    day = moment.date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, moment.hour, moment.minute, tzinfo=zone)
