"""One taste prior per process, shared by every guild model (issue 24 item 1): a guild model
holds no per-guild copy of the prior's movie-side arrays it can take from the shared
``GuildPrior`` (movie index, prior rows, prior evidence, item-item weights), fitted or loaded
from its blob, and sharing changes no ranking (benchmarks/prior_memory.py measures the
bytes)."""

from __future__ import annotations

import copy
import io

import numpy as np
import pytest

from recommender import CFModel, ModelConfig, prior_rows
from recommender.index import IdIndex
from recommender.persist import Archive, encode
from recommender.prior import build_prior

OFFSET = 100_000  # catalog id = prior key + OFFSET


@pytest.fixture(scope="module")
def prior():
    """60 movies in three taste blocks, 240 members."""
    rng = np.random.default_rng(0)
    users, movies, scores = [], [], []
    for u in range(240):
        block = np.arange(20) + 20 * (u % 3)
        for m in rng.choice(block, 12, replace=False):
            users.append(u)
            movies.append(m)
            scores.append(4.5 if m % 20 < 15 else 3.5)
    p = build_prior(np.array(users), np.array(movies), np.array(scores, dtype=float),
                    features=3, reg=2.0, max_iterations=40)
    return p.for_movies(p.keys + OFFSET, p.keys)


def guild(seed: int):
    rng = np.random.default_rng(seed)
    users = np.repeat(np.arange(1, 6), 6)
    movies = np.concatenate([rng.choice(40, 6, replace=False) for _ in range(5)]) + OFFSET
    return users, movies, rng.integers(1, 11, users.size).astype(float)


def fitted(prior, seed: int) -> CFModel:
    model = CFModel(ModelConfig())
    model.fit(*guild(seed), prior=prior)
    model.recommend(1, 5)  # builds the ranking's lazy caches (the prior's item-item columns)
    return model


def shared_arrays(model: CFModel) -> dict[str, np.ndarray]:
    return {"movie ids": model.movies.ids, "prior rows": model._p_row,
            "prior evidence": model._prior_counts,
            "prior item-item weights": model.blend.prior.columns(model).data}


def test_two_guild_models_share_the_priors_movie_arrays(prior):
    a, b = fitted(prior, 1), fitted(prior, 2)
    loaded = CFModel.from_bytes(a.to_bytes(), prior=prior)
    loaded.recommend(1, 5)
    for other in (b, loaded):
        for name, arr in shared_arrays(a).items():
            assert np.shares_memory(arr, shared_arrays(other)[name]), name
    assert np.shares_memory(a.blend.prior.columns(a).data, prior.implicit.W.data)
    # the shared arrays are read-only: no guild can write into another's
    for name, arr in shared_arrays(a).items():
        assert name.startswith("prior item-item") or not arr.flags.writeable, name


def test_sharing_changes_no_ranking(prior):
    model = fitted(prior, 3)
    users = np.arange(model.users.ids.size)
    shared = model.rank_scores(users)
    # the same model with per-guild copies (what every guild model held before)
    copied = copy.copy(model)
    copied.movies = IdIndex(model.movies.ids.copy(), presorted_unique=True)
    copied._p_row = model._p_row.copy()
    copied._prior_counts = model._prior_counts.copy()
    linked = copied._p_row >= 0
    copied._prior_cols = prior.implicit.W[:, copied._p_row[linked]].tocsr()
    assert not np.shares_memory(copied.movies.ids, model.movies.ids)
    np.testing.assert_array_equal(copied.rank_scores(users), shared)
    assert ([r.movie_id for r in copied.recommend(2, 10)]
            == [r.movie_id for r in model.recommend(2, 10)])


def test_a_guild_rating_a_movie_the_prior_lacks_keeps_its_own_index(prior):
    users, movies, scores = guild(4)
    movies = np.append(movies, 999_999)  # not linked to the prior
    model = CFModel(ModelConfig())
    model.fit(np.append(users, 1), movies, np.append(scores, 7.0), prior=prior)
    assert len(model.movies) == len(prior) + 1
    assert model.knows_movie(999_999) and model._p_row[model.movies.get(999_999)] == -1
    model.recommend(1, 5)
    # the item-item weights are still the prior's own matrix (its movies, in order)
    assert np.shares_memory(model.blend.prior.columns(model).data, prior.implicit.W.data)
    # and only the guild's own movie rows are kept, the unlinked one among them
    own = model._prior_rows.own
    assert model.movies.get(999_999) in own and own.size < len(prior) / 2
    full = copy.copy(model)
    full.X = model.X.copy()
    users = np.arange(model.users.ids.size)
    np.testing.assert_array_equal(full.rank_scores(users), model.rank_scores(users))


def test_the_saved_blob_holds_only_the_guilds_own_movie_rows(prior):
    model = fitted(prior, 5)
    model.fold_in(1, np.array([45, 46]) + OFFSET, np.array([9.0, 8.0]))  # after the fit
    blob = model.to_bytes()
    with np.load(io.BytesIO(blob), allow_pickle=False) as z:
        own = z["p_own"]
        rated = np.flatnonzero(np.bincount(model.movies.lookup(guild(5)[1]),
                                           minlength=len(model.movies)))
        np.testing.assert_array_equal(own, rated)  # the prior's rows are not written
        assert z["X"].shape[0] == z["bi"].size == z["means"].size == own.size
    back = CFModel.from_bytes(blob, prior=prior)
    for name in ("X", "bi", "means", "support_counts"):
        np.testing.assert_array_equal(getattr(back, name), getattr(model, name), err_msg=name)
    assert back.movies is prior.index()
    assert ([r.movie_id for r in back.recommend(1, 10)]
            == [r.movie_id for r in model.recommend(1, 10)])
    # a blob written with every row (before this format) loads the same
    full = copy.copy(model)
    full.prior = None
    with np.load(io.BytesIO(full.to_bytes()), allow_pickle=False) as z:
        assert "p_own" not in z.files and z["X"].shape[0] == len(prior)
    old = CFModel.from_bytes(full.to_bytes(), prior=prior)
    np.testing.assert_array_equal(old.X, model.X)
    # without the prior it still loads and serves (zero factors, the guild mean, until a fit)
    alone = CFModel.from_bytes(blob)
    assert alone.prior is None and len(alone.recommend(1, 5)) == 5
    np.testing.assert_array_equal(alone.X[own], model.X[own])


def test_long_columns_are_stored_small_and_read_back_exactly():
    rng = np.random.default_rng(0)
    ptr = np.zeros(5001, np.int64)
    ptr[3000:] = 40  # a CSR row pointer: most rows empty
    sparse = np.zeros(5000)
    sparse[[3, 70]] = [-0.0, np.nan]
    sparse[100] = 2.5
    columns = {"ids": np.arange(10, 50_010, 10, dtype=np.int64), "ptr": ptr, "sparse": sparse,
               "dense": rng.normal(size=5000).astype(np.float32),
               "small": np.array([3, 1, 2]), "text": np.array("x")}
    buf = io.BytesIO()
    np.savez(buf, **encode(columns))
    rest = sum(a.nbytes for name, a in columns.items() if name != "dense")
    assert len(buf.getvalue()) < columns["dense"].nbytes + 0.1 * rest  # dense: stored as is
    with np.load(io.BytesIO(buf.getvalue()), allow_pickle=False) as z:
        back = Archive(z)
        assert sorted(back.files) == sorted(columns)
        for name, a in columns.items():
            b = back[name]
            assert b.dtype == a.dtype and b.shape == a.shape, name
            assert b.tobytes() == a.tobytes(), name  # bit for bit: -0.0 and NaN too


def test_a_guild_model_keeps_only_its_own_movie_rows(prior):
    a, b = fitted(prior, 6), fitted(prior, 7)
    for model in (a, b):
        state = model._prior_rows
        assert not {"X", "bi", "means"} & set(vars(model))  # no full per-guild arrays
        rated = np.unique(model.movies.lookup(guild(6 if model is a else 7)[1]))
        np.testing.assert_array_equal(state.own, rated)
        assert state.rows["X"].shape == (rated.size, prior.features)
        unrated = np.setdiff1d(np.arange(len(prior)), rated)
        np.testing.assert_array_equal(model.X[unrated], prior.factors[unrated])
        assert not model.X.flags.writeable
    # the same model with full arrays of its own ranks the same, bit for bit
    full = copy.copy(a)
    full.X = a.X.copy()  # assigning one makes all three full again
    assert {"X", "bi", "means"} <= set(vars(full)) and "_prior_rows" not in vars(full)
    users = np.arange(a.users.ids.size)
    np.testing.assert_array_equal(full.rank_scores(users), a.rank_scores(users))
    np.testing.assert_array_equal(full.bi, a.bi)
    np.testing.assert_array_equal(full.means, a.means)


def test_full_rows_are_kept_for_a_few_models_only(prior):
    models = [fitted(prior, 10 + s) for s in range(prior_rows.KEPT + 3)]
    for model in models:
        assert model.X.shape == (len(prior), prior.features)
    kept = [m for m in models if m._prior_rows.full is not None]
    assert len(kept) <= prior_rows.KEPT
    assert models[-1]._prior_rows.full is not None  # the most recently read
