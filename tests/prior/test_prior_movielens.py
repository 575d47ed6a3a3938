"""The starter catalog against the real ml-latest-small (skipped when the data is absent).

ml-latest-small ends in 2018, so the starter catalog's newer films cannot link; the rest
should, nearly all of them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.catalog.formats import ParsedRow, parse_plain_csv
from bot.catalog.starter import read_starter_csv
from bot.domain.title_forms import search_text
from bot.prior.linking import link_movies
from bot.prior.readers import open_dataset, read_movies
from bot.storage.models import CatalogLinkRow

DATA = Path("/work/shared/data/ml-latest-small")

pytestmark = pytest.mark.skipif(not (DATA / "movies.csv").exists(),
                                reason="ml-latest-small is absent")


def test_most_of_the_starter_catalog_links_to_ml_latest_small():
    text = read_starter_csv()
    assert text is not None
    rows = [item.movie for item in parse_plain_csv(text.splitlines(keepends=True))
            if isinstance(item, ParsedRow)]
    catalog = [CatalogLinkRow(i, r.title, r.year, None, None, None, search_text(r.title))
               for i, r in enumerate(rows, start=1)]
    links = link_movies(read_movies(open_dataset(DATA)), catalog)
    linked = {link.movie_id for link in links}
    assert len(links) / len(catalog) >= 0.85
    older = [c for c in catalog if c.year is not None and c.year <= 2017]
    assert sum(c.id in linked for c in older) / len(older) >= 0.95
    by_title = {catalog[link.movie_id - 1].title: link.key for link in links}
    assert by_title["The Matrix"] == 2571
    assert by_title["Star Wars"] == 260  # "Star Wars: Episode IV - A New Hope (1977)"
    assert by_title["Bicycle Thieves"] == 3089  # three parenthesised alternates
