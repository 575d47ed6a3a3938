"""Linking the prior's dataset movies to catalog movies, and re-linking after imports.

A catalog movie is linked to at most one dataset movie and the other way round. In order,
each step only among movies still unlinked:

1. `movielens`: the catalog movie's MovieLens id is the dataset key (MovieLens datasets only;
   ML-100K item ids are not MovieLens ids);
2. `imdb`, then `tmdb`: the same IMDb / TMDB id (`links.csv`; ids two dataset movies share
   are skipped);
3. `title`: a normalised title form in common (`search.title_variants`: "Matrix, The" =
   "The Matrix", "(a.k.a. Se7en)" and parenthesised original titles count) and the same year;
4. `title_year1`: the same with the years one apart (release years differ between sources);
5. `title_noyear`: a title form in common where one side has no year;
6. `subtitle`: one side's full title is the other's head or tail around ":" or " - "
   ("Star Wars" = "Star Wars: Episode IV - A New Hope"), same year.

Title steps link only when unambiguous: exactly one dataset movie qualifies (counting those
already linked, so a remake or duplicate never catches the other's link) and no other catalog
movie proposes that dataset movie in the same step.
"""

from __future__ import annotations

import asyncio
import operator
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.domain.plural import plural
from bot.domain.title_forms import subtitle_variants, title_variants
from bot.storage import Storage
from bot.storage.models import CatalogLinkRow, PriorLink, PriorMovie


@dataclass
class LinkReport:
    """What a (re)link found; `line()` is what the CLI prints."""

    catalog_movies: int
    linked: int
    linked_ratings: int
    dataset_ratings: int
    by_method: Counter[str] = field(default_factory=Counter)
    unstored: int = 0  # catalog movies matching a dataset movie the stored prior left out

    @property
    def ratings_share(self) -> float:
        return self.linked_ratings / self.dataset_ratings if self.dataset_ratings else 0.0

    def line(self) -> str:
        methods = ", ".join(f"{n} by {m.replace('_', ' ')}"
                            for m, n in sorted(self.by_method.items(), key=lambda i: -i[1]))
        text = (f"Taste prior: {self.linked} of {plural(self.catalog_movies, 'catalog movie')} "
                f"linked, holding {self.linked_ratings} ({self.ratings_share:.1%}) of the "
                f"prior's {plural(self.dataset_ratings, 'rating')}")
        if methods:
            text += f" ({methods})"
        if self.unstored:
            text += (f"; {self.unstored} more match movies the stored prior left out: run "
                     "`python -m bot prior build` again to include them")
        return text


def _index(values: Mapping[int, Sequence[str]]) -> dict[str, list[int]]:
    index: dict[str, list[int]] = defaultdict(list)
    for i, forms in values.items():
        for form in forms:
            index[form].append(i)
    return index


def _catalog_forms(movie: CatalogLinkRow) -> tuple[str, ...]:
    forms = list(title_variants(movie.title))
    forms += [f for f in movie.search_text.split("|") if f and f not in forms]
    return tuple(forms)


def link_movies(
    prior: Sequence[PriorMovie],
    catalog: Sequence[CatalogLinkRow],
    *,
    by_movielens_id: bool = True,
) -> list[PriorLink]:
    """One-to-one links between catalog movies and dataset movies (see the module docstring)."""
    links: list[PriorLink] = []
    linked_movies: set[int] = set()
    claimed: set[int] = set()

    def accept(movie_id: int, key: int, method: str) -> None:
        links.append(PriorLink(movie_id, key, method))
        linked_movies.add(movie_id)
        claimed.add(key)

    # 1-2. Ids.
    keys = {m.key for m in prior}
    id_steps: list[tuple[str, Callable[[CatalogLinkRow], object], dict[object, int]]] = []
    if by_movielens_id:
        id_steps.append(("movielens", lambda c: c.movielens_id, {k: k for k in keys}))
    for method, attr in (("imdb", "imdb_id"), ("tmdb", "tmdb_id")):
        seen = Counter(getattr(m, attr) for m in prior if getattr(m, attr) is not None)
        unique = {getattr(m, attr): m.key for m in prior if seen[getattr(m, attr)] == 1}
        id_steps.append((method, operator.attrgetter(attr), unique))
    for method, value_of, by_value in id_steps:
        for movie in catalog:
            value = value_of(movie)
            if movie.id in linked_movies or value is None:
                continue
            key = by_value.get(value)
            if key is not None and key not in claimed:
                accept(movie.id, key, method)

    # 3-6. Titles.
    by_key = {m.key: m for m in prior}
    prior_full = {m.key: title_variants(m.title) for m in prior}
    prior_sub = {m.key: subtitle_variants(m.title) for m in prior}
    full_index = _index(prior_full)
    sub_index = _index(prior_sub)
    cat_full = {c.id: _catalog_forms(c) for c in catalog}
    cat_sub = {c.id: tuple(f for t in (c.title,) for f in subtitle_variants(t)) for c in catalog}

    def same_year(a: int | None, b: int | None) -> bool:
        return a is not None and a == b

    def year_off_by_one(a: int | None, b: int | None) -> bool:
        return a is not None and b is not None and abs(a - b) == 1

    def one_without_year(a: int | None, b: int | None) -> bool:
        return a is None or b is None

    def candidates_full(movie: CatalogLinkRow) -> set[int]:
        return {k for form in cat_full[movie.id] for k in full_index.get(form, ())}

    def candidates_sub(movie: CatalogLinkRow) -> set[int]:
        found = {k for form in cat_full[movie.id] for k in sub_index.get(form, ())}
        found |= {k for form in cat_sub[movie.id] for k in full_index.get(form, ())}
        return found

    steps = (
        ("title", candidates_full, same_year),
        ("title_year1", candidates_full, year_off_by_one),
        ("title_noyear", candidates_full, one_without_year),
        ("subtitle", candidates_sub, same_year),
    )
    for method, candidates_of, year_ok in steps:
        proposals: dict[int, list[int]] = defaultdict(list)
        for movie in catalog:
            if movie.id in linked_movies:
                continue
            found = [k for k in candidates_of(movie) if year_ok(movie.year, by_key[k].year)]
            if len(found) == 1 and found[0] not in claimed:
                proposals[found[0]].append(movie.id)
        for key, movie_ids in proposals.items():
            if len(movie_ids) == 1:
                accept(movie_ids[0], key, method)
    return links


async def relink_prior(storage: Storage) -> LinkReport | None:
    """Link the installed prior to the catalog as it is now (after a catalog import, say).

    Returns None when no prior is installed. Links only to movies the stored prior holds;
    `unstored` counts catalog movies that match a rated dataset movie left out of it (a
    rebuild would link them).
    """
    status = await storage.prior_status()
    if status is None:
        return None
    prior = await storage.prior_movies()
    stored = await storage.prior_stored_keys()
    catalog = await storage.catalog_link_rows()
    found = await asyncio.to_thread(link_movies, prior, catalog,
                                    by_movielens_id=status.id_kind == "movielens")
    links = [link for link in found if link.key in stored]
    await storage.replace_prior_links(links)
    rated = {m.key for m in prior if m.n_ratings > 0}  # what a rebuild could store
    unstored = sum(1 for link in found if link.key not in stored and link.key in rated)
    return make_report(prior, catalog, links, status.dataset_ratings, unstored=unstored)


def make_report(prior: Sequence[PriorMovie], catalog: Sequence[CatalogLinkRow],
                links: Sequence[PriorLink], dataset_ratings: int, *,
                unstored: int = 0) -> LinkReport:
    counts = {m.key: m.n_ratings for m in prior}
    return LinkReport(
        catalog_movies=len(catalog), linked=len(links),
        linked_ratings=sum(counts.get(link.key, 0) for link in links),
        dataset_ratings=dataset_ratings,
        by_method=Counter(link.method for link in links), unstored=unstored)
