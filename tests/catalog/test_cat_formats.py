"""Parsing the three import formats, with malformed rows reported by line number."""

from __future__ import annotations

import io

import pytest

from bot.catalog.formats import (
    BadRow,
    FormatError,
    ParsedRow,
    detect_file_format,
    detect_format,
    parse_file,
    parse_lines,
    parse_links,
    parse_ml100k,
    parse_movielens,
    parse_plain_csv,
)
from bot.domain.years import max_year
from bot.storage import MovieRow

MOVIELENS = """\
movieId,title,genres
1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy
2571,"Matrix, The (1999)",Action|Sci-Fi|Thriller
29,"City of Lost Children, The (Cité des enfants perdus, La) (1995)",Adventure|Drama|Fantasy
149532,Marco Polo: One Hundred Eyes (2015),(no genres listed)
171495,Cosmos,(no genres listed)
abc,Bad Id (2000),Drama
7,,Drama
8,Two Columns Only
9,"Fawlty Towers (1975-1979)",Comedy
"""

ML100K_FLAGS = "|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0"


def u_item(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def rows(parsed):
    return [p.movie for p in parsed if isinstance(p, ParsedRow)]


def bad(parsed):
    return [(p.line, p.reason) for p in parsed if isinstance(p, BadRow)]


def test_movielens_titles_years_genres_and_bad_rows():
    parsed = list(parse_movielens(io.StringIO(MOVIELENS, newline="")))
    good = rows(parsed)
    assert good[0] == MovieRow("Toy Story", 1995,
                               ("Adventure", "Animation", "Children", "Comedy", "Fantasy"), 1)
    assert good[1] == MovieRow("The Matrix", 1999, ("Action", "Sci-Fi", "Thriller"), 2571)
    assert good[2].title == "The City of Lost Children"
    assert good[2].alt_title == "La Cité des enfants perdus"
    assert good[2].year == 1995
    assert good[3].genres == ()  # "(no genres listed)"
    assert (good[4].title, good[4].year) == ("Cosmos", None)
    assert (good[5].title, good[5].year) == ("Fawlty Towers", 1975)
    assert bad(parsed) == [
        (7, "movieId 'abc' is not a whole number"),
        (8, "empty title"),
        (9, "expected 3 columns (movieId,title,genres), got 2"),
    ]


def test_a_quote_left_open_is_reported_not_merged_with_the_next_lines():
    text = 'movieId,title,genres\n1,"Two\nLines (1999)",Drama\n2,,Drama\n'
    # A quoted field never runs over lines: the open quote is reported, never merged.
    assert bad(parse_movielens(io.StringIO(text, newline=""))) == [
        (2, "unclosed quote (a '\"' without its closing '\"')"),
        (3, "expected 3 columns (movieId,title,genres), got 2"), (4, "empty title")]


def test_ml100k_u_item():
    text = u_item(
        "1|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)"
        + ML100K_FLAGS,
        "267|unknown||||1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0",
        "300|Air Force One (1997)|01-Jan-1997||http://x" + "|1|1" + "|0" * 16 + "|1",
        "301|In & Out (1997)|19-Sep-1997||http://x|0|0",
        "x|Bad (1990)|01-Jan-1990||u" + ML100K_FLAGS,
        "302|Short Title|01-Jan-1993||u" + ML100K_FLAGS,
        "303|Flag Trouble (1993)|01-Jan-1993||u" + ML100K_FLAGS.replace("1", "2", 1),
        "",
        "304|Misérables, Les (1995)|01-Jan-1995||u" + ML100K_FLAGS,
    )
    data = text.encode("latin-1")
    parsed = list(parse_ml100k(io.StringIO(data.decode("latin-1"))))
    good = rows(parsed)
    assert good[0] == MovieRow("Toy Story", 1995, ("Animation", "Children", "Comedy"))
    assert good[1].genres == ("Action", "Western")  # "unknown" flag dropped
    assert (good[2].title, good[2].year) == ("Short Title", 1993)  # year from release date
    assert good[3].title == "Les Misérables"
    assert all(g.movielens_id is None for g in good)  # 100K ids are not MovieLens ids
    assert bad(parsed) == [
        (2, "title is 'unknown'"),
        (4, "expected 24 '|'-separated fields, got 7"),
        (5, "movie id 'x' is not a whole number"),
        (7, "genre flags must be 0 or 1"),
    ]


def test_plain_csv_with_and_without_header():
    text = (
        "title,year,genres\n"
        "Heat,1995,Crime|Thriller\n"
        "\"Matrix, The\",1999\n"
        "Birdman (or The Unexpected Virtue of Ignorance),2014,Comedy\n"
        "Dune (1984),,Sci-Fi\n"
        "No Year,,\n"
        "Bad Year,19x9,Drama\n"
        "Far Future,2500,\n"
        ",2000,\n"
        "Too,Many,Columns,Here\n"
        "Only a title\n"
        "!!!,2000,\n"
    )
    parsed = list(parse_plain_csv(io.StringIO(text, newline="")))
    assert rows(parsed) == [
        MovieRow("Heat", 1995, ("Crime", "Thriller")),
        MovieRow("The Matrix", 1999, ()),
        MovieRow("Birdman (or The Unexpected Virtue of Ignorance)", 2014, ("Comedy",)),
        MovieRow("Dune", 1984, ("Sci-Fi",)),
        MovieRow("No Year", None, ()),
    ]
    assert bad(parsed) == [
        (7, "year '19x9' is not a whole number"),
        (8, f"year 2500 is outside 1870-{max_year()}"),
        (9, "empty title"),
        (10, "expected 2 or 3 columns (title,year[,genres]), got 4"),
        (11, "expected 2 or 3 columns (title,year[,genres]), got 1"),
        (12, "title '!!!' has no letters or digits"),
    ]
    headerless = list(parse_plain_csv(io.StringIO("Heat,1995\n")))
    assert rows(headerless) == [MovieRow("Heat", 1995, ())]


def test_detect_format():
    assert detect_format("movieId,title,genres\n") == "movielens"
    assert detect_format("\ufeffmovieId,title,genres") == "movielens"
    assert detect_format("1|Toy Story (1995)|01-Jan-1995||http://x" + ML100K_FLAGS) == "ml-100k"
    assert detect_format("title,year,genres") == "csv"
    assert detect_format("Heat,1995") == "csv"
    with pytest.raises(FormatError):
        parse_lines([], "xml")


def test_parse_file_detects_and_decodes(tmp_path):
    ml = tmp_path / "movies.csv"
    ml.write_text(MOVIELENS, encoding="utf-8")
    item = tmp_path / "u.item"
    item.write_bytes(u_item("1|Misérables, Les (1995)|01-Jan-1995||u" + ML100K_FLAGS)
                     .encode("latin-1"))
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"title,year\nGood,2000\nBad \xff\xfe,2001\n")
    assert detect_file_format(ml) == "movielens"
    assert detect_file_format(item) == "ml-100k"
    assert len(rows(parse_file(ml))) == 6
    assert rows(parse_file(item))[0].title == "Les Misérables"
    parsed = list(parse_file(broken))
    assert rows(parsed) == [MovieRow("Good", 2000, ())]
    assert bad(parsed) == [(3, "text is not valid UTF-8")]


def test_links():
    links = parse_links(io.StringIO("movieId,imdbId,tmdbId\n1,0114709,862\n2,0113497,\nx,1,2\n"))
    assert links == {1: ("tt0114709", 862), 2: ("tt0113497", None)}


def test_genres_follow_the_vocabulary_of_movies_add():
    # The same names /movies add resolves to: MovieLens spellings, case-insensitive.
    text = "title,year,genres\nHeat,1995,crime|THRILLER|sci-fi|Crime\nOdd,2000,Mumblecore\n"
    parsed = rows(list(parse_plain_csv(io.StringIO(text, newline=""))))
    assert parsed[0].genres == ("Crime", "Thriller", "Sci-Fi")
    assert parsed[1].genres == ("Mumblecore",)  # a new genre joins the guild's vocabulary
    many = "title,year,genres\nAll,2000," + "|".join(f"G{i}" for i in range(11)) + "\n"
    assert bad(parse_plain_csv(io.StringIO(many, newline=""))) == [
        (2, "At most 10 genres per movie")]
