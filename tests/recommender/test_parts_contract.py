"""One contract for every part of the ranking blend (``recommender/blend.py``) and the blend
itself (issue 22 item 3): fitted on tiny data, each gives batch scores ``(ids, scores)`` over
the model's movies, a member's fold-in row is a value (the model unchanged until it is
applied, and applying it is what ``fold_in`` does), and a saved model scores the same after
loading. A new part is added to ``PARTS`` and held to the same rules."""

from __future__ import annotations

import numpy as np
import pytest

from recommender import CFModel, ModelConfig
from recommender.blend import Blend
from recommender.member_row import MemberRow
from recommender.prior import build_prior

OFFSET = 100_000
PARTS = ("enjoy", "pick", "prior", "popularity", "debias", "blend")


@pytest.fixture(scope="module")
def prior():
    """Three taste blocks of 20 movies (keys 0-59) rated by 120 members of a public dataset."""
    rng = np.random.default_rng(0)
    users, movies, scores = [], [], []
    for u in range(120):
        block = np.arange(20) + 20 * (u % 3)
        for m in rng.choice(block, 10, replace=False):
            users.append(u)
            movies.append(m)
            scores.append(4.5)
        for m in rng.choice(np.setdiff1d(np.arange(60), block), 2, replace=False):
            users.append(u)
            movies.append(m)
            scores.append(1.5)
    p = build_prior(np.array(users), np.array(movies), np.array(scores, dtype=float),
                    features=3, reg=2.0, max_iterations=40)
    return p.for_movies(p.keys + OFFSET, p.keys)


def _guild():
    """Twelve members in two taste blocks, on movies the prior knows."""
    rng = np.random.default_rng(1)
    users, movies, scores = [], [], []
    for member in range(1, 13):
        block = np.arange(20) + 20 * (member % 2)
        for m in rng.choice(block, 8, replace=False):
            users.append(member)
            movies.append(int(m) + OFFSET)
            scores.append(float(rng.integers(7, 11)))
        for m in rng.choice(np.arange(40, 60), 2, replace=False):
            users.append(member)
            movies.append(int(m) + OFFSET)
            scores.append(float(rng.integers(1, 4)))
    return np.array(users), np.array(movies), np.array(scores)


@pytest.fixture(scope="module")
def fitted(prior) -> CFModel:
    # debiasing from the first member (by default only guilds over 300 members get it)
    model = CFModel(ModelConfig(reg=2.0, debias_members=0.0))
    model.fit(*_guild(), prior=prior)
    return model


def _scores(model: CFModel, name: str, user_ids) -> tuple[np.ndarray, np.ndarray]:
    if name == "blend":
        return model.blend.scores(model, user_ids)
    part = {p.name: p for p in model.blend.parts}[name]
    return part.scores(model, user_ids)


def test_the_blend_holds_every_part_with_its_own_config() -> None:
    cfg = ModelConfig(blend_pick=0.7, prior_evidence=4.0, pop_cold=50.0)
    blend = Blend.of(cfg)
    assert [p.name for p in blend.parts] == ["enjoy", "pick", "prior", "popularity", "debias"]
    assert blend.pick.config.weight == 0.7 and blend.prior.config.evidence == 4.0
    assert blend.popularity.config.cold == 50.0 and blend.enjoy.config.weight == 0.3


@pytest.mark.parametrize("name", PARTS)
def test_a_part_scores_a_batch_over_the_models_movies(fitted: CFModel, name: str) -> None:
    members = [1, 2, 3]
    ids, scores = _scores(fitted, name, members)
    np.testing.assert_array_equal(ids, fitted.movies.ids)
    assert scores.shape == (len(members), ids.size)
    assert np.isfinite(scores).all()
    # a batch is its members one by one
    one = _scores(fitted, name, [2])[1]
    np.testing.assert_allclose(scores[1:2], one, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", PARTS)
def test_a_fold_in_row_is_a_value_until_applied(prior, name: str) -> None:
    model = CFModel(ModelConfig(reg=2.0))
    model.fit(*_guild(), prior=prior)
    before = _scores(model, name, [1, 2])[1]
    emb = model.embeddings()
    rated, ratings = np.array([3, 5, 7, 50]) + OFFSET, np.array([10.0, 9, 10, 2])
    row = model.member_row(99, rated, ratings)
    assert isinstance(row, MemberRow) and row.user_id == 99
    assert row.preferences.shape == (emb.features,) and np.isfinite(row.bias)
    # nothing moved: no new member, the same vectors and scores
    assert not model.knows_user(99)
    np.testing.assert_array_equal(model.embeddings().member_vectors, emb.member_vectors)
    np.testing.assert_array_equal(_scores(model, name, [1, 2])[1], before)
    # fold_in is that row applied
    model.fold_in(99, rated, ratings)
    after = model.embeddings()
    np.testing.assert_allclose(after.member_vectors[after.member_row(99)],
                               row.preferences.astype(after.member_vectors.dtype), rtol=1e-6)
    ids, scores = _scores(model, name, [99])
    assert scores.shape == (1, ids.size) and np.isfinite(scores).all()


@pytest.mark.parametrize("name", PARTS)
def test_a_part_scores_the_same_after_a_save_and_load(prior, name: str) -> None:
    """A saved model keeps the rows of folded-in members, not the fit's rating lists (the
    bot folds members in again after a load): those members score the same once loaded."""
    users, movies, scores = _guild()
    model = CFModel(ModelConfig(reg=2.0))
    model.fit(users, movies, scores, prior=prior)
    for member in (1, 4, 7):
        model.fold_in(member, movies[users == member], scores[users == member])
    model.fold_in(99, np.array([3, 50]) + OFFSET, np.array([10.0, 2]))  # a new member too
    loaded = CFModel.from_bytes(model.to_bytes(), prior=prior)
    ids, scores = _scores(model, name, [1, 4, 7, 99])
    ids2, scores2 = _scores(loaded, name, [1, 4, 7, 99])
    np.testing.assert_array_equal(ids, ids2)
    np.testing.assert_allclose(scores, scores2, rtol=1e-6, atol=1e-9)


def test_every_part_speaks_in_the_blend_of_a_model_with_a_prior(fitted: CFModel) -> None:
    """The fixture is rich enough that no part is vacuous: all five enter the blend."""
    parts = fitted._blend_parts(np.array([fitted.users.get(1)]))
    assert set(parts) == {"enjoy", "pick", "prior", "popularity", "debias"}


@pytest.mark.parametrize("name", PARTS)
def test_with_row_is_the_fold_in_on_a_new_model(prior, name: str) -> None:
    """`with_row` leaves the model it came from as it was (a ranking on it needs no lock) and
    scores exactly like `fold_in` in place."""
    users, movies, scores = _guild()
    model = CFModel(ModelConfig(reg=2.0))
    model.fit(users, movies, scores, prior=prior)
    rated, ratings = np.array([3, 5, 50]) + OFFSET, np.array([10.0, 9, 2])
    before = _scores(model, name, [1, 2])[1]
    new = model.with_row(model.member_row(2, rated, ratings))
    np.testing.assert_array_equal(_scores(model, name, [1, 2])[1], before)
    model.fold_in(2, rated, ratings)
    np.testing.assert_array_equal(_scores(new, name, [1, 2])[1], _scores(model, name, [1, 2])[1])
