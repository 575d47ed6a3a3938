"""The taste prior's input rows weight each rated movie by how much the member liked it
(``ModelConfig.prior_rating_weight``, ``blend.prior_liking``): a movie rated well below the
member's average pulls its prior neighbours (its sequel, its look-alikes) little or not at
all, as the guild's "will pick" part already did. Before, the prior's rows were the binary
rated set: in the console demo with a prior, a member who rated The Godfather 3/10 got The
Godfather Part II "close to your taste in the prior".

The world (as ``test_rec_cold_neighbours``): the public dataset has three taste blocks of 10
movies and a long tail everybody dips into; the server rates only the tail."""

from __future__ import annotations

import numpy as np

from recommender import CFModel, ModelConfig
from recommender.reasons import contributions
from tests.recommender.test_rec_cold_neighbours import (
    NEWCOMER,
    OFFSET,
    block,
    prior,  # noqa: F401  (the module-scoped fixture)
    server_ratings,
)

LOVED = [OFFSET + 2, OFFSET + 5]  # block 0
DISLIKED = [OFFSET + 10 + 1, OFFSET + 10 + 4]  # block 1


def _blocks(prior, n: int = 10, **config) -> tuple[CFModel, list[int]]:  # noqa: F811
    model = CFModel(ModelConfig(**config))
    model.fit(*server_ratings(), prior=prior)
    model.fold_in(NEWCOMER, LOVED + DISLIKED, [10.0, 9.0, 2.0, 2.0])
    recs = model.recommend(NEWCOMER, n=n)
    return model, [block(r.movie_id) for r in recs]


def test_a_disliked_movies_prior_neighbours_are_not_pulled_up(prior):  # noqa: F811
    _model, blocks = _blocks(prior, n=30)
    assert blocks[:10].count(0) >= 5, blocks  # the loved movies' neighbours
    assert 1 not in blocks, blocks  # none of the disliked movies' neighbours in 30


def test_the_binary_rated_set_pulled_them_up(prior):  # noqa: F811
    """The same member with ``prior_rating_weight`` 0 (the rows before): the disliked
    movies' block comes in, which is what the weight removes."""
    _model, blocks = _blocks(prior, n=30, prior_rating_weight=0.0)
    assert blocks.count(1) >= 5, blocks


def test_reasons_split_the_weighted_rows(prior):  # noqa: F811
    """The prior part's per-rating shares follow the same weights: with the prior part
    alone in the blend, a disliked movie's share of every pick is ~0 (it was as large as a
    loved one's with the binary rows), and each pick's reason is a loved movie."""
    model, _ = _blocks(prior, blend_enjoy=0.0, blend_pick=0.0, pop_cold=0.0)
    recs = model.recommend(NEWCOMER, n=10)
    targets = model.movies.lookup(np.array([r.movie_id for r in recs]))
    ids, _ratings, C, parts = contributions(model, model.users.get(NEWCOMER), targets)
    assert set(parts) <= {"prior", "rated", "enjoy", "popularity"}, parts
    loved = np.isin(ids, LOVED)
    disliked = np.isin(ids, DISLIKED)
    assert np.abs(C[disliked]).max() < 0.05 * np.abs(C[loved]).max()
    reasons = model.reasons(NEWCOMER, [r.movie_id for r in recs])
    named = {int(m) for m in reasons.movie_id if m >= 0}
    assert named and named <= set(LOVED), named
