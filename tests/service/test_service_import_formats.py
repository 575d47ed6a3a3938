"""Reading history files (bot.service.import_formats) and the half-star conversion: every
format by its header, quoting, BOM, the formula guard of /export, duplicates, limits, and the
one-line refusals (line numbers, zip bombs, wrong files inside a zip)."""

from __future__ import annotations

import io
import zipfile

import pytest

from bot.domain.errors import DomainError
from bot.domain.scores import from_half_stars
from bot.service.import_formats import MAX_UNZIPPED, ImportFileError, read_history
from bot.service.imports import pick_by_year
from bot.storage import Movie


@pytest.mark.parametrize(("stars", "score"), [("0.5", 1), ("3.5", 7), ("5", 10), (" 4 ", 8)])
def test_half_stars_double(stars: str, score: int) -> None:
    assert from_half_stars(stars) == score


@pytest.mark.parametrize("stars", ["0", "5.5", "3.3", "x", "", "nan", "-1"])
def test_bad_half_stars_are_refused(stars: str) -> None:
    with pytest.raises(DomainError, match=r"0\.5 to 5"):
        from_half_stars(stars)


def test_letterboxd_with_bom_quotes_and_blank_lines() -> None:
    data = ("\ufeffDate,Name,Year,Letterboxd URI,Rating\r\n"
            '2024-01-01,"Crouching Tiger, Hidden Dragon",2000,u,4\r\n\r\n'
            "2024-01-02,Heat,,u,2.5\r\n").encode()
    history = read_history("ratings.csv", data)
    assert history.kind == "Letterboxd ratings"
    assert [(r.title, r.year, r.score) for r in history.ratings] == [
        ("Crouching Tiger, Hidden Dragon", 2000, 8), ("Heat", None, 5)]
    assert history.ratings[1].line == 4


def test_imdb_ratings_and_watchlist_and_own_exports() -> None:
    imdb = read_history("x.csv", b"Const,Your Rating,Date Rated,Title,Year\n"
                                 b"tt0113277,9,2024-01-01,Heat,1995\n")
    assert imdb.kind == "IMDb ratings" and imdb.ratings[0].imdb_id == "tt0113277"
    watch = read_history("x.csv", b"Position,Const,Created,Title,Year\n1,tt0113277,x,Heat,1995\n")
    assert watch.kind == "IMDb watchlist" and watch.watchlist[0].score is None
    own = read_history("x.csv", b"title,year,genres,score,updated_at\n'=cmd,1999,,7,x\n")
    assert own.kind == "bot export" and own.ratings[0].title == "=cmd"  # guard removed
    mine = read_history("x.csv", b"title,year,genres,added_at\nHeat,1995,Crime,x\n")
    assert mine.kind == "bot watchlist export" and len(mine.watchlist) == 1


@pytest.mark.parametrize(("data", "message"), [
    (b"Date,Name,Year,Letterboxd URI,Rating\n2024,Heat,19x5,u,4\n", "line 2: “19x5” is not a "
                                                                    "year"),
    (b"Const,Your Rating,Title,Year\ntt0113277,11,Heat,1995\n", "line 2: The score must be"),
    (b"Date,Name,Year,Letterboxd URI,Rating\n2024,,1995,u,4\n", "line 2: the title is empty"),
    (b"a;b;c\n1;2;3\n", "is not a file I can read"),
    (b"\n\n", "is empty"),
    (b"\xff\xfe\x00", "not a UTF-8"),
])
def test_refusals_are_one_line(data: bytes, message: str) -> None:
    with pytest.raises(ImportFileError) as caught:
        read_history("ratings.csv", data)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_row_limit() -> None:
    rows = b"".join(b"2024,Film %d,2000,u,3\n" % i for i in range(11))
    with pytest.raises(ImportFileError, match="more than 10 rows"):
        read_history("r.csv", b"Date,Name,Year,Letterboxd URI,Rating\n" + rows, max_rows=10)


def _zip(**files: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name.replace("_", "."), data)
    return buffer.getvalue()


def test_zips() -> None:
    ok = _zip(ratings_csv=b"Date,Name,Year,Letterboxd URI,Rating\n2024,Heat,1995,u,4\n",
              watchlist_csv=b"Date,Name,Year,Letterboxd URI\n2024,Alien,1979,u\n")
    history = read_history("export.zip", ok)
    assert history.kind == "Letterboxd export" and history.rows == 2
    with pytest.raises(ImportFileError, match=r"no ratings\.csv or watchlist\.csv"):
        read_history("x.zip", _zip(diary_csv=b"Date\n"))
    with pytest.raises(ImportFileError, match="not a Letterboxd file"):
        read_history("x.zip", _zip(ratings_csv=b"title,year,genres,score\nHeat,1995,,8\n"))
    bomb = _zip(ratings_csv=b"Date,Name,Year,Letterboxd URI,Rating\n"
                + b" " * (MAX_UNZIPPED + 1))
    assert len(bomb) < 100_000
    with pytest.raises(ImportFileError, match="too large"):
        read_history("bomb.zip", bomb)


def test_pick_by_year() -> None:
    dune84, dune21 = Movie(1, "Dune", 1984), Movie(2, "Dune", 2021)
    assert pick_by_year([dune84, dune21], 2021) is dune21
    assert pick_by_year([dune84, dune21], 1985) is dune84  # a year off, only one fits
    assert pick_by_year([dune84, dune21], None) is None  # ambiguous
    assert pick_by_year([dune84], None) is dune84
    assert pick_by_year([dune84], 1990) is None


def test_imdb_rows_that_are_not_movies_are_skipped() -> None:
    data = (b"Const,Your Rating,Date Rated,Title,Title Type,Year\n"
            b"tt0113277,9,2024-01-01,Heat,Movie,1995\n"
            b"tt0903747,10,2024-01-01,Breaking Bad,TV Series,2008\n"
            b"tt0959621,9,2024-01-01,Pilot,tvEpisode,2008\n"
            b"tt0108052,8,2024-01-01,Schindler's List,movie,1993\n"
            b"tt1234567,7,2024-01-01,A TV Film,TV Movie,2001\n")
    history = read_history("imdb.csv", data)
    assert [r.title for r in history.ratings] == ["Heat", "Schindler's List", "A TV Film"]
