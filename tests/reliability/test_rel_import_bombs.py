"""Security round 2, row 1: a hostile `/import` file cannot stall the bot.

The attacks: a 218-byte bzip2 zip whose ratings.csv expands to 32 MB of blank lines (it held
the event loop 30-47 s), the same bomb deflated, a plain 4 MB CSV of blank lines (5.5 s), and
rows that are all skipped (non-movie IMDb rows). The promises: reading runs off the event loop
(another member's /rate is answered while an import is being read), within a time budget;
blank and skipped rows count toward the row limit; a zip's CSV files may expand to a few MB at
most (a zip that would expand further, or compresses in a way that can expand without bound in
one step, is refused with one clear line); nothing is written.
"""

from __future__ import annotations

import functools
import io
import threading
import time
import zipfile

import pytest

from bot.service import imports
from bot.service.import_formats import MAX_ROWS, MAX_UNZIPPED, ImportFileError, read_history

HEADER = b"Date,Name,Year,Letterboxd URI,Rating\n"
BOMB_EXPANDED = 32 * 1024 * 1024 - 1024  # just under the old 32 MiB cap: it was read whole


@functools.cache
def _bomb(method: int) -> bytes:
    """A zip whose ratings.csv is a Letterboxd header and 32 MB of blank lines."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method, compresslevel=9) as archive:
        archive.writestr("ratings.csv", HEADER + b"\n" * BOMB_EXPANDED)
    return buffer.getvalue()


def _refusal(data: bytes, name: str = "ratings.csv", **options: float) -> str:
    with pytest.raises(ImportFileError) as caught:
        read_history(name, data, **options)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "\n" not in message
    return message


# ------------------------------------------------------------------ reading, bounded
def test_the_bzip2_bomb_is_refused_without_expanding_it() -> None:
    bomb = _bomb(zipfile.ZIP_BZIP2)
    assert len(bomb) < 300  # the attack file: a few hundred bytes
    assert "compressed in a way I do not read" in _refusal(bomb, "export.zip")


def test_the_deflate_bomb_is_refused_at_the_expanded_size_cap() -> None:
    assert MAX_UNZIPPED <= 4 * 1024 * 1024  # "a few MB", well below the 32 MB of the attack
    bomb = _bomb(zipfile.ZIP_DEFLATED)
    assert len(bomb) < 100_000
    assert "too large to import (over 4 MB unzipped)" in _refusal(bomb, "export.zip")


def test_a_zip_lying_about_its_size_never_expands_past_what_it_declared() -> None:
    """The cap is counted as bytes come out; a member that declares a small size and holds
    more is cut at the declared size and refused as damaged (its checksum fails)."""
    real = HEADER + b"\n" * (MAX_UNZIPPED * 2)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ratings.csv", real)
    data = bytearray(buffer.getvalue())
    # Rewrite the declared uncompressed size (local header at 22, central directory at 24).
    small = (1000).to_bytes(4, "little")
    data[22:26] = small
    central = data.rfind(b"PK\x01\x02")
    data[central + 24:central + 28] = small
    assert "damaged" in _refusal(bytes(data), "export.zip")


def test_blank_lines_count_toward_the_row_limit() -> None:
    blank = HEADER + b"\n" * (4 * 1024 * 1024 - len(HEADER))  # the 4 MB attack file
    assert f"more than {MAX_ROWS:,} rows" in _refusal(blank)
    # A few blank lines in a real file are fine.
    history = read_history("ratings.csv", HEADER + b"\n\n2024,Heat,1995,u,4\n\n")
    assert history.rows == 1


def test_skipped_rows_count_toward_the_row_limit() -> None:
    header = b"Const,Your Rating,Date Rated,Title,Title Type,Year\n"
    episodes = b"tt0959621,9,2024-01-01,Pilot,tvEpisode,2008\n" * 11
    assert "more than 10 rows" in _refusal(header + episodes, "imdb.csv", max_rows=10)


def test_rows_with_thousands_of_cells_are_refused() -> None:
    assert "line 2: more than 64 columns" in _refusal(HEADER + b"," * 100_000 + b"\n")


def test_reading_stops_when_its_time_budget_is_spent() -> None:
    rows = b"".join(b"2024,Film %d,2000,u,3\n" % i for i in range(1000))
    assert "takes too long to read" in _refusal(HEADER + rows, seconds=-1.0)
    assert read_history("ratings.csv", HEADER + rows).rows == 1000  # within the budget


# ------------------------------------------------------------------ through the bot
def _button(reply, label: str) -> str:
    return next(b["custom_id"] for b in reply.buttons if b.get("label") == label)


async def test_another_members_rate_is_answered_while_an_import_is_read(env, monkeypatch):
    """Event ordering, not a stopwatch: alice's upload is held inside the reader until bob's
    /rate has been answered. Read on the event loop, the reader would hold the loop, bob's
    /rate could not be answered, and the reader would give up waiting (`released` False)."""
    reading = threading.Event()  # the reader has the file
    rate_answered = threading.Event()
    released: list[bool] = []
    real = imports.read_history

    def held_reader(*args, **kwargs):
        reading.set()
        released.append(rate_answered.wait(timeout=30))
        return real(*args, **kwargs)

    monkeypatch.setattr(imports, "read_history", held_reader)
    upload = await env.slash(env.alice, "import",
                             file=("export.zip", _bomb(zipfile.ZIP_BZIP2)))
    await env.emu.wait_until(reading.is_set, 30, "the import reader to start")
    reply = await env.run(env.bob, "rate", movie="Alien (1979)", score=8)
    assert "Rated" in reply.rendered_text(), reply.rendered_text()
    rate_answered.set()
    refused = await env.answer(upload, wait=40)
    assert released == [True], "the import was read on the event loop: /rate had to wait"
    assert refused.ephemeral and "compressed in a way I do not read" in refused.content
    assert await env.rating(env.bob, "Alien") == 8
    assert await env.storage.count_member_ratings(env.guild.id, env.alice.id) == 0


@pytest.mark.parametrize(("filename", "attack", "expected"), [
    ("export.zip", "bzip2", "compressed in a way I do not read"),
    ("export.zip", "deflate", "too large to import"),
    ("ratings.csv", "blank", "more than 20,000 rows"),
])
async def test_hostile_uploads_are_refused_and_others_are_served(env, filename, attack,
                                                                 expected):
    data = {"bzip2": lambda: _bomb(zipfile.ZIP_BZIP2),
            "deflate": lambda: _bomb(zipfile.ZIP_DEFLATED),
            "blank": lambda: HEADER + b"\n" * 4_000_000}[attack]()
    uploads = [await env.slash(member, "import", file=(filename, data))
               for member in (env.alice, env.carol, env.dave)]
    sent = time.monotonic()
    rate = await env.slash(env.bob, "rate", movie="Alien (1979)", score=7)
    reply = await env.answer(rate, wait=30)
    answered = time.monotonic() - sent
    assert "Rated" in reply.rendered_text()
    assert answered < 2.0, f"/rate waited {answered:.1f} s behind hostile imports"
    for upload in uploads:
        refused = await env.answer(upload, wait=30)
        assert refused.ephemeral and expected in refused.content, refused.content
        assert not refused.buttons
    for member in (env.alice, env.carol, env.dave):
        assert await env.storage.count_member_ratings(env.guild.id, member.id) == 0


async def test_uploads_beyond_the_waiting_limit_are_refused_as_busy(env, monkeypatch):
    """At most `MAX_WAITING` uploads are queued for the import threads; more get a "busy"
    line at once instead of queuing without bound."""
    monkeypatch.setattr(imports, "MAX_WAITING", 1)
    gate = threading.Event()
    real = imports.read_history

    def held_reader(*args, **kwargs):
        gate.wait(timeout=30)
        return real(*args, **kwargs)

    monkeypatch.setattr(imports, "read_history", held_reader)
    first = await env.slash(env.alice, "import", file=("ratings.csv", HEADER))
    await env.emu.wait_until(lambda: env.bot.app.imports.waiting == 1, 10, "the first read")
    busy = await env.answer(await env.slash(env.bob, "import", file=("ratings.csv", HEADER)))
    assert busy.ephemeral and "Many imports are being read right now" in busy.content
    gate.set()
    done = await env.answer(first, wait=30)
    assert "is empty" in done.content or "Nothing to import" in done.content, done.content
