"""End-to-end: /import through the Discord emulator (attachment option, file served by the
emulator over loopback): Letterboxd ratings/watchlist/zip, IMDb ratings, the bot's own
/export round trip, the preview and its buttons, malformed and oversized files (one line,
nothing written), the per-member cooldown and a 10,000-row import."""

from __future__ import annotations

import io
import time
import zipfile
from typing import TYPE_CHECKING

from bot.storage import MovieRow

if TYPE_CHECKING:
    from conftest import Env

LETTERBOXD = (
    "Date,Name,Year,Letterboxd URI,Rating\n"
    "2024-01-02,Casablanca,1942,https://boxd.it/1,4.5\n"
    "2024-01-03,Alien,1979,https://boxd.it/2,5\n"
    "2024-01-04,The Apartment,1960,https://boxd.it/3,3\n"
    "2024-01-05,Zzyzx Nowhere Picture,2001,https://boxd.it/4,2.5\n"
    "2024-01-06,Jaws,1975,https://boxd.it/5,\n"  # logged, not rated: skipped
)
WATCHLIST = (
    "Date,Name,Year,Letterboxd URI\n"
    "2024-02-01,Vertigo,1958,https://boxd.it/6\n"
    "2024-02-02,Roman Holiday,1953,https://boxd.it/7\n"
)


def _button(reply, label: str) -> str:
    return next(b["custom_id"] for b in reply.buttons if b.get("label") == label)


async def _import(env: Env, member, filename: str, data: bytes | str):
    raw = data.encode() if isinstance(data, str) else data
    return await env.run(member, "import", file=(filename, raw))


async def _press(env: Env, member, reply, label: str):
    return await (await env.emu.click(member, reply, _button(reply, label))).response()


async def test_import_is_registered_with_an_attachment_option(env: Env) -> None:
    command = env.emu.find_command("import", env.guild)
    option = command["options"][0]
    assert option["name"] == "file" and option["type"] == 11 and option["required"]


async def test_letterboxd_ratings_preview_then_import(env: Env) -> None:
    await env.seed(env.guild, {env.alice.id: {"Casablanca": 5}}, train=False)
    reply = await _import(env, env.alice, "ratings.csv", LETTERBOXD)
    assert reply.ephemeral and reply.allowed_mentions["parse"] == []
    text = reply.content
    assert "**Letterboxd ratings**: 4 rows read, 3 matched" in text, text
    assert "1 not found" in text and "Zzyzx Nowhere Picture (2001)" in text
    assert "2 new, 1 would overwrite" in text
    assert [b["label"] for b in reply.buttons] == ["Import", "Cancel"]
    assert await env.rating(env.alice, "Alien") is None  # nothing before the click
    # Only the uploader can confirm.
    refused = await _press(env, env.bob, reply, "Import")
    assert refused.ephemeral and "belong to the member" in refused.content
    done = await _press(env, env.alice, reply, "Import")
    assert "Imported: 2 new ratings, 1 changed" in done.content
    assert all(b["disabled"] for b in done.buttons)
    # Half stars become our scale: 4.5 -> 9, 5 -> 10, 3 -> 6.
    assert await env.rating(env.alice, "Casablanca") == 9
    assert await env.rating(env.alice, "Alien") == 10
    assert await env.rating(env.alice, "The Apartment") == 6
    assert await env.rating(env.alice, "Jaws") is None


async def test_imported_ratings_give_personal_picks_at_once(env: Env) -> None:
    await env.seed_taste_clusters(env.guild)
    rows = "".join(f"2024-01-0{i},{t},,x,{s}\n" for i, (t, s) in enumerate(
        [("Star Wars", 5), ("Alien", 4.5), ("Casablanca", 1), ("Roman Holiday", 1)], 1))
    reply = await _import(env, env.carol, "ratings.csv", "Date,Name,Year,Letterboxd URI,"
                                                         "Rating\n" + rows)
    assert "4 matched" in reply.content
    await _press(env, env.carol, reply, "Import")
    picks = await env.run(env.carol, "recommend")
    assert picks.embed["title"] == "Your picks"


async def test_cancel_imports_nothing(env: Env) -> None:
    reply = await _import(env, env.bob, "ratings.csv", LETTERBOXD)
    done = await _press(env, env.bob, reply, "Cancel")
    assert "nothing was imported" in done.content
    assert await env.storage.count_member_ratings(env.guild.id, env.bob.id) == 0


async def test_letterboxd_zip_brings_ratings_and_watchlist(env: Env) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("ratings.csv", LETTERBOXD)
        archive.writestr("watchlist.csv", WATCHLIST)
        archive.writestr("diary.csv", "Date,Name\n")
    reply = await _import(env, env.dave, "letterboxd-dave-2024.zip", buffer.getvalue())
    assert "**Letterboxd export**: 6 rows read, 5 matched" in reply.content
    assert "Watchlist: 2 to add" in reply.content
    done = await _press(env, env.dave, reply, "Import")
    assert "2 movies added to your watchlist" in done.content
    listed = await env.storage.watchlist(env.guild.id, env.dave.id)
    assert {e.movie.title for e in listed} == {"Vertigo", "Roman Holiday"}


async def test_imdb_export_matches_by_id_then_title(env: Env) -> None:
    known = await env.storage.add_movie("Known By Id", 1995, ["Crime"],
                                       imdb_id="tt0113277")
    data = (
        "Const,Your Rating,Date Rated,Title,Original Title,URL,Title Type,IMDb Rating,"
        "Runtime (mins),Year,Genres,Num Votes,Release Date,Directors\n"
        "tt0113277,8,2024-01-01,Another Name,Heat,https://imdb.com/title/tt0113277/,"
        "Movie,8.3,170,1995,\"Crime, Drama\",1000,1995-12-15,Michael Mann\n"
        "tt0052357,10,2024-01-02,Vertigo,Vertigo,u,Movie,8.3,128,1958,Mystery,1,1958-05-09,"
        "Alfred Hitchcock\n"
        "tt0000001,7,2024-01-03,Carmencita,Carmencita,u,Short,5.7,1,1894,Documentary,1,,x\n")
    reply = await _import(env, env.alice, "imdb.csv", data)
    assert "**IMDb ratings**: 3 rows read, 2 matched" in reply.content
    assert "Carmencita (1894)" in reply.content
    await _press(env, env.alice, reply, "Import")
    assert await env.storage.get_rating(env.guild.id, env.alice.id, known.id) == 8
    assert await env.rating(env.alice, "Vertigo") == 10


async def test_export_then_import_in_another_server(env: Env) -> None:
    await env.seed(env.guild, {env.alice.id: {"Casablanca": 7, "Jaws": 3}}, train=False)
    exported = await env.run(env.alice, "export")
    data = exported.attachment(f"ratings-{env.guild.id}.csv").data
    reply = await _import(env, env.alice2, "ratings.csv", data)
    assert "**bot export**: 2 rows read, 2 matched" in reply.content
    await _press(env, env.alice2, reply, "Import")
    assert await env.rating(env.alice2, "Jaws", env.guild2) == 3


async def test_rating_a_movie_takes_it_off_the_watchlist(env: Env) -> None:
    reply = await _import(env, env.bob, "watchlist.csv", WATCHLIST)
    assert "**Letterboxd watchlist**" in reply.content
    await _press(env, env.bob, reply, "Import")
    assert await env.storage.count_watchlist(env.guild.id, env.bob.id) == 2
    await env.run(env.bob, "rate", movie="Vertigo (1958)", score=8)
    listed = await env.storage.watchlist(env.guild.id, env.bob.id)
    assert [e.movie.title for e in listed] == ["Roman Holiday"]


async def test_malformed_files_get_one_clear_line_and_write_nothing(env: Env) -> None:
    cases = [
        ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not a UTF-8 text"),
        ("notes.csv", "hello,world\n1,2\n", "not a file I can read"),
        ("ratings.csv", LETTERBOXD.replace(",3\n", ",7\n"), "ratings.csv, line 4: A "
                                                             "Letterboxd rating is 0.5 to 5"),
        ("imdb.csv", "Const,Your Rating,Title,Year\nnm123,8,X,2000\n", "is not an IMDb id"),
        ("empty.csv", "", "is empty"),
        ("broken.zip", b"PK\x03\x04garbage", "damaged"),
    ]
    members = [env.alice, env.bob, env.carol]
    for i, (name, data, expected) in enumerate(cases):
        reply = await _import(env, members[i % 3], name, data)
        assert reply.ephemeral and expected in reply.content, (name, reply.content)
        assert "\n" not in reply.content and not reply.buttons
    for member in members:
        assert await env.storage.count_member_ratings(env.guild.id, member.id) == 0


async def test_an_oversized_file_is_refused_before_download(env: Env) -> None:
    big = b"Date,Name,Year,Letterboxd URI,Rating\n" + b"x" * (5 * 1024 * 1024)
    reply = await _import(env, env.alice, "ratings.csv", big)
    assert "imports take files up to 4 MB" in reply.content


async def test_a_member_may_start_only_a_few_imports_a_minute(env: Env) -> None:
    for _ in range(3):
        await _import(env, env.carol, "watchlist.csv", WATCHLIST)
    reply = await _import(env, env.carol, "watchlist.csv", WATCHLIST)
    assert "Slow down a little" in reply.content
    other = await _import(env, env.dave, "watchlist.csv", WATCHLIST)  # per member
    assert "Letterboxd watchlist" in other.content


async def test_a_ten_thousand_row_import_is_one_transaction(env: Env) -> None:
    rows = [MovieRow(f"Bulk Movie {i}", 1950 + i % 70, ("Drama",)) for i in range(10_000)]
    await env.storage.add_movies_bulk(rows)
    lines = ["Date,Name,Year,Letterboxd URI,Rating"]
    lines += [f"2024-01-01,Bulk Movie {i},{1950 + i % 70},u,{(i % 10 + 1) / 2}"
              for i in range(10_000)]
    started = time.perf_counter()
    reply = await env.answer(await env.slash(env.alice, "import", file=(
        "ratings.csv", "\n".join(lines).encode())), wait=60)
    previewed = time.perf_counter() - started
    assert "10,000 rows read, 10,000 matched" in reply.content
    started = time.perf_counter()
    done = await (await env.emu.click(env.alice, reply, _button(reply, "Import"))).response(60)
    written = time.perf_counter() - started
    assert "Imported: 10,000 new ratings" in done.content
    assert await env.storage.count_member_ratings(env.guild.id, env.alice.id) == 10_000
    print(f"10,000-row import: preview {previewed:.2f} s, write {written:.2f} s")


async def test_discords_attachment_limit_is_honoured_when_below_ours(env: Env) -> None:
    env.emu.attachment_size_limit = 1024 * 1024  # what this interaction says Discord allows
    data = b"Date,Name,Year,Letterboxd URI\n" + b"2024,Vertigo,1958,u\n" * 70_000  # ~1.4 MB
    reply = await _import(env, env.bob, "watchlist.csv", data)
    assert "imports take files up to 1 MB" in reply.content
    assert await env.storage.count_watchlist(env.guild.id, env.bob.id) == 0
