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


@pytest.mark.parametrize(("text", "day"), [
    ("today 20:30", 7), ("heute 20:30", 7), ("hoy 20:30", 7), ("aujourd’hui 20h30", 7),
    ("tomorrow 20:30", 8), ("morgen 20:30", 8), ("demain 20:30", 8), ("mañana 20:30", 8),
    ("manana 20:30", 8), ("Tmrw 20:30", 8),
    ("day after tomorrow 20:30", 9), ("übermorgen 20:30", 9), ("après-demain 20:30", 9),
    ("pasado mañana 20:30", 9),
    # weekdays, full and abbreviated, in every language (NOW is Monday 7 December)
    ("friday 20:30", 11), ("Freitag 20:30", 11), ("vendredi 20:30", 11), ("viernes 20:30", 11),
    ("Fr. 20:30", 11), ("mié 20:30", 9), ("miércoles 20:30", 9), ("Sunday 20:30", 13),
    ("monday 20:30", 7),  # today, still ahead
    ("montag 18:00", 14),  # today's has passed: next week's
])
def test_day_words_in_every_language_the_bot_speaks(text, day):
    """The relative days the catalogs translate and Babel's weekday names: a German member
    writes "morgen 20:30" as the German description of `when:` suggests."""
    start = parse_when(text, BERLIN, NOW).astimezone(BERLIN)
    assert (start.day, start.hour, start.minute) == (day, int(text[-5:-3]), int(text[-2:]))


def test_a_refusal_names_the_forms_in_the_members_language():
    from bot.i18n import speaking

    with speaking("de"), pytest.raises(DomainError) as refused:
        parse_when("bald", BERLIN, NOW)
    assert str(refused.value) == ("Ich kann 'bald' nicht als Zeit lesen: schreib 20:30, "
                                  "morgen 20:30, Freitag 20:30 oder 2026-12-24 20:30.")
    with speaking("de"), pytest.raises(DomainError, match="schon vorbei"):
        parse_when("heute 18:00", BERLIN, NOW)


@pytest.mark.parametrize("language", ["de", "fr", "es"])
def test_the_when_options_example_in_each_language_is_one_the_bot_reads(language):
    """The option's description (what a member's client shows) suggests "<tomorrow> 20:30" in
    its language; that very text is accepted."""
    from discord.app_commands import TranslationContextLocation as Where

    from bot.i18n import _, speaking
    from bot.i18n.translator import translate

    description = translate("Make the winner a server event at this time (server timezone), "
                            "e.g. 20:30, tomorrow 20:30", language, Where.parameter_description)
    with speaking(language):
        tomorrow = _("tomorrow")
    assert description is not None and description.endswith(f"20:30, {tomorrow} 20:30")
    start = parse_when(f"{tomorrow} 20:30", BERLIN, NOW).astimezone(BERLIN)
    assert (start.day, start.hour) == (8, 20)
