"""Linking dataset movies to catalog movies: ids, alternates, years one apart, ambiguity."""

from __future__ import annotations

from pathlib import Path

import pytest
from prior_dataset import CATALOG, MOVIES, write_folder

from bot.domain.title_forms import search_text, subtitle_variants, title_variants
from bot.prior.linking import link_movies
from bot.prior.readers import open_dataset, read_movies
from bot.storage.models import CatalogLinkRow, PriorMovie


def catalog(rows=CATALOG) -> list[CatalogLinkRow]:
    return [CatalogLinkRow(i, title, year, None, imdb, None, search_text(title))
            for i, (title, year, imdb, _) in enumerate(rows, start=1)]


@pytest.fixture
def prior_movies(tmp_path: Path) -> list[PriorMovie]:
    return read_movies(open_dataset(write_folder(tmp_path)))


def test_title_variants_cover_articles_and_parenthesised_alternates():
    assert title_variants("Matrix, The (1999)") == ("matrix",)
    assert title_variants("The Matrix") == ("matrix",)
    assert title_variants("Seven (a.k.a. Se7en) (1995)")[:2] == ("seven", "se7en")
    forms = title_variants(
        "Bicycle Thieves (a.k.a. The Bicycle Thief) (Ladri di biciclette) (1948)")
    assert {"bicycle thieves", "bicycle thief", "ladri di biciclette"} <= set(forms)
    assert "la cite des enfants perdus" in title_variants(
        "City of Lost Children, The (Cité des enfants perdus, La) (1995)")
    assert subtitle_variants("Star Wars: Episode IV - A New Hope (1977)") == (
        "star wars", "new hope", "star wars a new hope")
    assert subtitle_variants("Heat (1995)") == ()


def test_every_kind_of_match_and_every_ambiguity(prior_movies):
    rows = catalog()
    links = link_movies(prior_movies, rows)
    linked = {(rows[link.movie_id - 1].title, rows[link.movie_id - 1].year): link.key
              for link in links}
    expected = {(title, year): key for title, year, _, key in CATALOG if key is not None}
    assert linked == expected
    methods = {rows[link.movie_id - 1].title: link.method for link in links}
    assert methods["The Matrix"] == "title"
    assert methods["Ex Machina"] == "title_year1"
    assert methods["A Localised Title"] == "imdb"
    assert methods["Star Wars"] == "subtitle"
    assert methods["Moonlight"] == "title_noyear"
    # One-to-one both ways.
    assert len({link.key for link in links}) == len(links)
    assert len({link.movie_id for link in links}) == len(links)


def test_movielens_ids_link_first_but_not_for_ml100k_keys(prior_movies):
    # A catalog movie carrying MovieLens id 16 links to key 16 whatever its title says.
    rows = [CatalogLinkRow(1, "Renamed Curiosity", 1970, 16, None, None, "renamed curiosity")]
    assert [(link.key, link.method) for link in link_movies(prior_movies, rows)] == [
        (16, "movielens")]
    # ML-100K item ids are not MovieLens ids: no id link, and the title does not match.
    assert link_movies(prior_movies, rows, by_movielens_id=False) == []


def test_two_catalog_movies_proposing_one_key_link_neither():
    prior = [PriorMovie(1, "Solaris (1972)", 1972)]
    rows = catalog([("Solaris", 1971, None, None), ("Solaris", 1973, None, None)])
    assert link_movies(prior, rows) == []
    # With the exact year present, that one wins and the other stays unlinked.
    rows = catalog([("Solaris", 1972, None, None), ("Solaris", 1973, None, None)])
    assert [(link.movie_id, link.method) for link in link_movies(prior, rows)] == [
        (1, "title")]


def test_a_dropped_middle_part_still_links_on_the_same_year():
    prior = [PriorMovie(1, "Star Wars: Episode VII - The Force Awakens (2015)", 2015),
             PriorMovie(2, "Star Wars: The Last Jedi (2017)", 2017)]
    rows = catalog([("Star Wars: The Force Awakens", 2015, None, None),
                    ("Star Wars: The Rise of Skywalker", 2019, None, None)])
    assert [(link.movie_id, link.key, link.method) for link in link_movies(prior, rows)] == [
        (1, 1, "subtitle")]


def test_ids_shared_by_two_dataset_movies_are_not_used():
    prior = [PriorMovie(1, "A (2000)", 2000, "tt1"), PriorMovie(2, "B (2001)", 2001, "tt1")]
    rows = [CatalogLinkRow(1, "C", 2002, None, "tt1", None, "c")]
    assert link_movies(prior, rows) == []


def test_catalog_alt_titles_from_a_movielens_import_count():
    # A catalog imported from MovieLens keeps "norm|alt" in search_text.
    prior = [PriorMovie(1, "Se7en (1995)", 1995)]
    rows = [CatalogLinkRow(1, "Seven", 1995, None, None, None, search_text("Seven", "Se7en"))]
    assert [link.key for link in link_movies(prior, rows)] == [1]


def test_generated_titles_are_read_as_written(prior_movies):
    by_key = {m.key: m for m in prior_movies}
    assert len(prior_movies) == len(MOVIES)
    assert by_key[2].title == "Matrix, The (1999)" and by_key[2].year == 1999
    assert by_key[14].year is None
    assert (by_key[1].imdb_id, by_key[1].tmdb_id) == ("tt0114709", 862)
