"""Titles in every script at the storage level (issue 13, rows 4-5): normalisation keeps other
scripts' letters and leaves Latin titles exactly as before, skeletons map look-alikes, and
migration 5 gives movies stored before it a skeleton."""

from __future__ import annotations

import aiosqlite
import pytest

from bot.domain.title_forms import normalize, skeleton
from bot.storage import DuplicateMovieError, Storage
from bot.storage.models import MovieRow
from bot.storage.sqlite.migrations import MIGRATIONS, apply_migrations


@pytest.mark.parametrize(("title", "expected"), [
    ("Война и мир", "воина и мир"),  # Cyrillic, й folded like an accent
    ("Ёлки", "елки"),
    ("千と千尋の神隠し", "千と千尋の神隠し"),
    ("ｶﾞﾝﾀﾞﾑ", "ガンダム"),  # half-width kana, voicing mark kept and recomposed
    ("기생충", "기생충"),  # Hangul recomposed after NFKD
    ("Ο Θίασος", "ο θιασοσ"),  # Greek accents and final sigma folded
    ("الرسالة", "الرسالة"),
    ("दिलवाले दुल्हनिया", "दिलवाले दुल्हनिया"),  # Devanagari vowel signs kept
    ("٢٠٠١: أوديسة", "2001 اوديسة"),  # Arabic-Indic digits as ASCII
    ("Crouching Tiger (臥虎藏龍)", "crouching tiger 臥虎藏龍"),
    # Latin exactly as before
    ("The Matrix", "matrix"), ("Amélie", "amelie"), ("Léon: The Professional",
                                                    "leon the professional"),
    ("L'Auberge espagnole", "l auberge espagnole"), ("Æon Flux", "aeon flux"),
])
def test_normalize_keeps_every_script(title, expected):
    assert normalize(title) == expected


def test_skeletons_map_look_alikes_only():
    assert skeleton("Аlien") == skeleton("Alien") == skeleton("Αlien") == "alien"
    assert skeleton("НЕАТ") == skeleton("Heat") == "heat"
    assert skeleton("Тhe Маtrix") == skeleton("The Matrix")
    assert skeleton("Ｍａｔｒｉｘ") == skeleton("Matrix")
    # Not look-alikes: different titles keep different skeletons.
    assert skeleton("Rocky II") != skeleton("Rocky 11")
    assert skeleton("Война и мир") != skeleton("Сталкер")
    assert skeleton("Se7en") == "se7en"


async def test_migration_5_fills_skeletons_of_movies_stored_before_it(tmp_path):
    path = tmp_path / "v4.sqlite3"
    before = [m for m in MIGRATIONS if m.version < 5]
    conn = await aiosqlite.connect(path, isolation_level=None)
    await apply_migrations(conn, before)
    await conn.execute("INSERT INTO movies (id, title, year, norm_title, search_text, guild_id) "
                       "VALUES (1, 'Alien', 1979, 'alien', 'alien', 7)")
    await conn.close()

    async with await Storage.open(path) as storage:
        async with storage.connection.execute("SELECT skeleton FROM movies WHERE id = 1") as c:
            assert (await c.fetchone())[0] == "alien"
        with pytest.raises(DuplicateMovieError) as refused:
            await storage.add_movie("Аlien", 1979, guild_id=7)
        assert refused.value.existing.id == 1
        # Another guild does not see guild 7's movie, so its "Аlien" is no duplicate there.
        added = await storage.add_movie("Аlien", 1979, guild_id=8)
        assert added.title == "Аlien"
        assert (await storage.search_movies(8, "аlien"))[0].title == "Аlien"
        # A catalog import stores skeletons too.
        await storage.add_movies_bulk([MovieRow("Сталкер", 1979)])
        async with storage.connection.execute(
                "SELECT skeleton FROM movies WHERE title = 'Сталкер'") as c:
            assert (await c.fetchone())[0] == skeleton("Сталкер")


async def test_a_database_that_skipped_migration_5_gets_its_skeletons(tmp_path):
    """Migrations 5 and 6 were written concurrently: a database migrated to 6 before 5
    existed never ran 5. Opening it adds the column and fills it."""
    path = tmp_path / "skipped.sqlite3"
    conn = await aiosqlite.connect(path, isolation_level=None)
    await apply_migrations(conn, [m for m in MIGRATIONS if m.version != 5])
    await conn.execute("INSERT INTO movies (id, title, year, norm_title, search_text) "
                       "VALUES (1, 'Alien', 1979, 'alien', 'alien')")
    await conn.close()
    for _ in range(2):  # and opening it again changes nothing
        async with await Storage.open(path) as storage:
            with pytest.raises(DuplicateMovieError):
                await storage.add_movie("Аlien", 1979)
