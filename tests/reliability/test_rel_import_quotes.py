"""Security round 2, row 10: a stray `"` in an import file silently dropped every later row
(the non-strict reader read the rest of the file as one quoted title). The promise: the file
is refused with the line number, or all rows are read; nothing is written on a refusal."""

from __future__ import annotations

import pytest

from bot.service.import_formats import ImportFileError, read_history

HEADER = "Date,Name,Year,Letterboxd URI,Rating\n"
GOOD = ["2024-01-01,Casablanca,1942,u,4", "2024-01-02,Alien,1979,u,5",
        "2024-01-03,Vertigo,1958,u,3", "2024-01-04,Roman Holiday,1953,u,2"]


def _file(*lines: str) -> bytes:
    return (HEADER + "\n".join(lines) + "\n").encode()


@pytest.mark.parametrize(("bad", "reason"), [
    ('2024-01-02,"Alien,1979,u,5', "unexpected end of data"),  # never closed: rest swallowed
    ('2024-01-02,"Alien\',1979,u,5', "unexpected end of data"),
    ('2024-01-02,"Alien"s,1979,u,5', "',' expected after '\"'"),
])
def test_a_stray_quote_is_refused_with_its_line(bad: str, reason: str) -> None:
    with pytest.raises(ImportFileError) as caught:
        read_history("ratings.csv", _file(GOOD[0], bad, *GOOD[1:]))
    message = str(caught.value)
    assert message.startswith("ratings.csv, line 3:"), message
    assert reason in message and "\n" not in message


def test_a_quote_closed_lines_later_is_refused_at_the_line_it_opens() -> None:
    """The quote closes further down: the reader would take three lines as one title."""
    data = _file(GOOD[0], '2024-01-02,"Alien,1979,u,5', '2024-01-03,Vertigo",1958,u,3',
                 GOOD[3])
    with pytest.raises(ImportFileError, match=r'^ratings\.csv, line 3: a quote \(\"\) opens a '
                                              "value that does not end on that line"):
        read_history("ratings.csv", data)


def test_quotes_used_properly_keep_every_row() -> None:
    data = _file(GOOD[0], '2024-01-02,"Alien ""Director\'s Cut""",1979,u,5',
                 '2024-01-03,Hal"s Movie,2000,u,3', '2024-01-04,"Crouching Tiger, Hidden Dragon"'
                 ',2000,u,4', *GOOD[1:])
    history = read_history("ratings.csv", data)
    assert [r.title for r in history.ratings] == [
        "Casablanca", 'Alien "Director\'s Cut"', 'Hal"s Movie', "Crouching Tiger, Hidden Dragon",
        "Alien", "Vertigo", "Roman Holiday"]


async def test_through_the_bot_the_refusal_names_the_line_and_writes_nothing(env) -> None:
    data = _file(GOOD[0], '2024-01-02,"Alien,1979,u,5', *GOOD[2:])
    reply = await env.answer(await env.slash(env.alice, "import", file=("ratings.csv", data)))
    assert reply.ephemeral and "ratings.csv, line 3:" in reply.content, reply.content
    assert not reply.buttons
    assert await env.storage.count_member_ratings(env.guild.id, env.alice.id) == 0
