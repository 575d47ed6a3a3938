"""CFModel.embeddings(): the public movie and member vectors /taste draws (issue 22 item 2)."""

from __future__ import annotations

import numpy as np

from recommender import CFModel, ModelConfig


def _fitted() -> CFModel:
    rng = np.random.default_rng(3)
    users = np.repeat(np.arange(1, 9), 6)
    movies = np.concatenate([rng.choice(np.arange(100, 115), 6, replace=False)
                             for _ in range(8)])
    scores = rng.integers(1, 11, users.size).astype(float)
    model = CFModel(ModelConfig(features=3, reg=1.0, min_ratings_to_factorise=1))
    model.fit(users, movies, scores)
    return model


def test_embeddings_are_the_vectors_behind_the_predictions_with_their_ids() -> None:
    model = _fitted()
    emb = model.embeddings()
    assert emb.features == 3
    assert emb.movie_vectors.shape == (emb.movie_ids.size, 3)
    assert emb.member_vectors.shape == (emb.member_ids.size, 3)
    assert sorted(emb.member_ids.tolist()) == list(range(1, 9))
    assert emb.support.sum() == 48  # every rating behind one movie
    # the rating model's own factors, rows in id order
    assert np.array_equal(emb.movie_vectors, model.X.astype(np.float64))
    assert np.array_equal(emb.member_vectors[emb.member_row(4)],
                          model.T[model.users.get(4)].astype(np.float64))
    assert emb.member_row(999) == -1


def test_embeddings_are_a_copy_a_later_fold_in_does_not_move() -> None:
    model = _fitted()
    emb = model.embeddings()
    before = emb.member_vectors.copy()
    model.fold_in(4, [100, 101, 102], [10.0, 1.0, 10.0])
    model.fold_in(77, [100], [9.0])  # a new member grows the model's arrays
    assert np.array_equal(emb.member_vectors, before)
    assert 77 not in emb.member_ids and 77 in model.embeddings().member_ids


def test_rated_rows_are_rows_of_the_embedding_movies() -> None:
    model = _fitted()
    emb = model.embeddings()
    (rows, vals), (none, _) = model.rated_rows([3, 999])
    assert rows.size == 6 and vals.size == 6 and none.size == 0
    assert set(emb.movie_ids[rows].tolist()) <= set(range(100, 115))
