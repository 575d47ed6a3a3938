"""Small generated MovieLens-format datasets for the taste prior's tests (no real data).

`MOVIES` are written as MovieLens writes them (trailing articles, a.k.a. and original titles
in parentheses); `CATALOG` is how a catalog names them. Each comment says how it should link.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

from bot.storage.models import MovieRow

# key, MovieLens title, imdb id (digits), tmdb id
MOVIES: list[tuple[int, str, str, str]] = [
    (1, "Toy Story (1995)", "0114709", "862"),
    (2, "Matrix, The (1999)", "0133093", "603"),
    (3, "Seven (a.k.a. Se7en) (1995)", "0114369", "807"),
    (4, "City of Lost Children, The (Cité des enfants perdus, La) (1995)", "0112682", "902"),
    (5, "Ex Machina (2015)", "0470752", "264660"),
    (6, "Hamlet (1989)", "", ""),
    (7, "Hamlet (1991)", "", ""),
    (8, "Emma (1996)", "", ""),
    (9, "Emma (1996)", "", ""),
    (10, "Oldboy (2013)", "", ""),
    (11, "Crash (2004)", "", ""),
    (12, "Some Odd Festival Title (2001)", "0000009", ""),
    (13, "Star Wars: Episode IV - A New Hope (1977)", "", ""),
    (14, "Moonlight", "", ""),
    (15, "Bicycle Thieves (a.k.a. The Bicycle Thief) (Ladri di biciclette) (1948)", "", ""),
    (16, "Unlinked Curiosity (1970)", "", ""),
]
# title, year, imdb id -> the key it must link to (None: must stay unlinked)
CATALOG: list[tuple[str, int | None, str | None, int | None]] = [
    ("Toy Story", 1995, None, 1),  # title + year
    ("The Matrix", 1999, None, 2),  # "Matrix, The"
    ("Se7en", 1995, None, 3),  # (a.k.a. Se7en)
    ("La Cité des enfants perdus", 1995, None, 4),  # parenthesised original title
    ("Ex Machina", 2014, None, 5),  # year one apart
    ("Hamlet", 1990, None, None),  # 1989 and 1991 both one apart: ambiguous
    ("Emma", 1996, None, None),  # two dataset movies with that title and year
    ("Oldboy", 2003, None, None),  # only the remake is in the dataset
    ("Crash", 2004, None, 11),
    ("Crash", 2005, None, None),  # one apart from Crash (2004), already linked to 2004
    ("A Localised Title", 2001, "tt0000009", 12),  # IMDb id from links.csv
    ("Star Wars", 1977, None, 13),  # head of "Star Wars: Episode IV - A New Hope"
    ("Moonlight", 2016, None, 14),  # the dataset has no year for it
    ("Bicycle Thieves", 1948, None, 15),  # several parenthesised alternates
    ("Not In The Dataset", 2010, None, None),
]


def movies_csv() -> str:
    lines = ["movieId,title,genres"]
    for key, title, _, _ in MOVIES:
        quoted = f'"{title}"' if "," in title else title
        lines.append(f"{key},{quoted},Drama")
    return "\n".join(lines) + "\n"


def links_csv() -> str:
    return "movieId,imdbId,tmdbId\n" + "".join(
        f"{key},{imdb},{tmdb}\n" for key, _, imdb, tmdb in MOVIES)


def ratings_rows(users: int = 40, seed: int = 0) -> list[tuple[int, int, float, int]]:
    """Every user rates most movies, half-star scores with a taste pattern."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(1, users + 1):
        taste = rng.normal(size=2)
        for key, *_ in MOVIES:
            if rng.random() < 0.25:
                continue
            quality = np.sin(key) + taste @ np.array([np.cos(key), np.sin(2 * key)])
            stars = float(np.clip(np.round((3.0 + quality) * 2) / 2, 0.5, 5.0))
            rows.append((user, key, stars, 1_000_000 + user * 100 + key))
    return rows


def ratings_csv(rows: list[tuple[int, int, float, int]] | None = None, *,
                newline: str = "\n") -> str:
    rows = ratings_rows() if rows is None else rows
    lines = ["userId,movieId,rating,timestamp"]
    lines += [f"{u},{m},{r:.1f},{t}" for u, m, r, t in rows]
    return newline.join(lines) + newline


README = """\
Summary
=======

Generated test data.

Usage License
=============

Research use only; do not redistribute.

Citation
========

Cite the paper.
"""


def dataset_files() -> dict[str, str]:
    return {"movies.csv": movies_csv(), "links.csv": links_csv(),
            "ratings.csv": ratings_csv(), "README.txt": README}


def write_folder(root: Path, name: str = "ml-test") -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    for file, text in dataset_files().items():
        (folder / file).write_text(text, encoding="utf-8")
    return folder


def zip_bytes(name: str = "ml-test", files: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file, text in (dataset_files() if files is None else files).items():
            archive.writestr(f"{name}/{file}", text)
    return buffer.getvalue()


def write_zip(root: Path, name: str = "ml-test") -> Path:
    path = root / f"{name}.zip"
    path.write_bytes(zip_bytes(name))
    return path


def catalog_rows() -> list[MovieRow]:
    return [MovieRow(title, year, ("Drama",), imdb_id=imdb)
            for title, year, imdb, _ in CATALOG]


def expected_links() -> dict[tuple[str, int | None], int]:
    return {(title, year): key for title, year, _, key in CATALOG if key is not None}
