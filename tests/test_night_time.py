"""`/movienight when:` read in the server's timezone (bot.domain.night_time)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.errors import DomainError
from bot.domain.night_time import parse_when

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)  # 19:00 in Berlin


def test_a_clock_time_is_the_next_one_in_the_servers_timezone():
    assert parse_when("20:30", BERLIN, NOW) == datetime(2026, 12, 7, 19, 30, tzinfo=UTC)
    assert parse_when("18:00", BERLIN, NOW) == datetime(2026, 12, 8, 17, 0, tzinfo=UTC)
    assert parse_when("tomorrow 9.15", BERLIN, NOW) == datetime(2026, 12, 8, 8, 15, tzinfo=UTC)
    assert parse_when("2026-12-24 20:00", BERLIN, NOW) == datetime(2026, 12, 24, 19, 0,
                                                                   tzinfo=UTC)
    assert parse_when("2026-12-24T20:00", ZoneInfo("UTC"), NOW) == datetime(
        2026, 12, 24, 20, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["soon", "25:00", "2026-12-01 20:00", "2027-06-01 20:00",
                                  "2026-02-30 20:00", "next week 20:00", ""])
def test_unreadable_past_or_far_times_are_refused(text):
    with pytest.raises(DomainError):
        parse_when(text, BERLIN, NOW)
