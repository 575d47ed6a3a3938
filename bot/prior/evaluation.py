"""What `python -m recommender.evaluate` borrows from the bot, so its figures describe what
members get: the evaluated dataset's movies linked to the taste prior's movies the way
`python -m bot prior build` links the catalog (`linking.link_movies`: MovieLens ids, IMDb and
TMDB ids, then titles and years), and the worker's genre/decade features
(`bot.service.features.movie_features`).

Both sides are MovieLens folders (ratings.csv + movies.csv [+ links.csv], or ML-100K's u.data +
u.item): a ratings file given alone is read with the folder it sits in. ML-100K item ids are
not MovieLens ids, so they link by title and year only (before issue 23 the ids were taken to
be the prior's keys, and 80% of ML-100K's train ratings landed on a different film).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.domain.errors import DomainError
from bot.domain.genres import canonical_genres, split_genres
from bot.domain.models import Movie
from bot.domain.title_forms import parse_title, search_text
from bot.storage.models import CatalogLinkRow, PriorMovie

from .linking import link_movies
from .readers import Dataset, open_dataset, read_movies

# ML-100K's u.item genre flags, in column order (u.genre)
ML100K_GENRES = ("unknown", "Action", "Adventure", "Animation", "Children", "Comedy", "Crime",
                 "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
                 "Romance", "Sci-Fi", "Thriller", "War", "Western")


@dataclass(frozen=True)
class DatasetMovies:
    """A MovieLens folder's movies: the rows linking reads, and genres by movie id."""

    kind: str  # "movielens" or "ml-100k"
    movies: list[PriorMovie]
    genres: dict[int, tuple[str, ...]]


def _dataset(path: str | Path) -> Dataset:
    p = Path(path)
    if p.is_file():
        try:
            return open_dataset(p)
        except Exception:
            p = p.parent  # e.g. ML-100K's u1.base: the folder holds u.item
    return open_dataset(p)


def read_dataset_movies(path: str | Path) -> DatasetMovies:
    """The movies of the MovieLens folder at (or holding) ``path``."""
    dataset = _dataset(path)
    genres: dict[int, tuple[str, ...]] = {}
    if dataset.kind == "ml-100k":
        for line in dataset.read_text("u.item", encoding="latin-1").splitlines():
            fields = line.split("|")
            if len(fields) >= 5 + len(ML100K_GENRES) and fields[0].strip().isdigit():
                flags = fields[5:5 + len(ML100K_GENRES)]
                genres[int(fields[0])] = tuple(g for g, f in zip(ML100K_GENRES, flags,
                                                                  strict=True)
                                               if f.strip() == "1" and g != "unknown")
    else:
        import csv
        import io

        reader = csv.reader(io.StringIO(dataset.read_text("movies.csv"), newline=""))
        for row in reader:
            if len(row) >= 3 and row[0].strip().isdigit():
                try:
                    genres[int(row[0])] = canonical_genres(split_genres(row[2]))
                except DomainError:
                    continue
    return DatasetMovies(dataset.kind, read_movies(dataset), genres)


def _catalog_rows(found: DatasetMovies) -> list[CatalogLinkRow]:
    """The evaluated dataset's movies as catalog rows (as a catalog import would store them)."""
    rows = []
    for m in found.movies:
        parsed = parse_title(m.title)
        rows.append(CatalogLinkRow(
            m.key, parsed.title, m.year,
            m.key if found.kind == "movielens" else None,  # ML-100K ids are not MovieLens ids
            m.imdb_id, m.tmdb_id, search_text(parsed.title, parsed.alt_title)))
    return rows


def link_datasets(evaluated: DatasetMovies, prior: DatasetMovies,
                  ) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """(evaluated movie ids, prior keys, links by method): one-to-one, as the bot links."""
    links = link_movies(prior.movies, _catalog_rows(evaluated),
                        by_movielens_id=prior.kind == "movielens")
    ids = np.array([link.movie_id for link in links], dtype=np.int64)
    keys = np.array([link.key for link in links], dtype=np.int64)
    methods: dict[str, int] = {}
    for link in links:
        methods[link.method] = methods.get(link.method, 0) + 1
    return ids, keys, methods


def features_of(found: DatasetMovies) -> tuple[np.ndarray, np.ndarray]:
    """The worker's genre/decade features of the dataset's movies (``movie_features``)."""
    from bot.service.features import movie_features

    movies = [Movie(m.key, m.title, m.year, found.genres.get(m.key, ())) for m in found.movies]
    return movie_features(movies)
