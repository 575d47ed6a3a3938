"""Taste prior: build, persist, restrict, link to catalog ids, and use in guild fits and fold-in."""

from __future__ import annotations

import io

import numpy as np
import pytest

from recommender import CFModel, ModelConfig
from recommender.prior import GuildPrior, TastePrior, build_prior

K = 3


def world(seed=0, n_users=300, n_movies=80, density=0.3):
    """A 'public dataset' on MovieLens' 0.5-5 scale from a rank-3 taste model: movie keys are
    sparse (like MovieLens ids); returns (users, movies, scores, movie factors, keys)."""
    rng = np.random.default_rng(seed)
    U, V = rng.normal(0, 0.8, (n_users, K)), rng.normal(0, 0.8, (n_movies, K))
    pop = rng.normal(0, 1.0, n_movies)
    logits = U @ V.T + pop  # members rate what they like (implicit signal)
    p = density * n_movies * np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    mask = rng.random((n_users, n_movies)) < np.clip(p, 0, 0.95)
    u, m = np.nonzero(mask)
    raw = 3.0 + (U @ V.T)[u, m] + rng.normal(0, 0.3, u.size)
    keys = 10 + 7 * np.arange(n_movies, dtype=np.int64)
    return u.astype(np.int64) + 1, keys[m], np.clip(np.round(raw * 2) / 2, 0.5, 5.0), V, keys


@pytest.fixture(scope="module")
def built():
    users, movies, scores, V, keys = world()
    calls = []
    prior = build_prior(users, movies, scores, features=K, reg=2.0,
                        progress=lambda done, total: calls.append((done, total)))
    return prior, calls, (users, movies, scores, V, keys)


def test_build_prior_shapes_progress_and_keys(built):
    prior, calls, (_, movies, _, _, _) = built
    assert isinstance(prior, TastePrior)
    np.testing.assert_array_equal(prior.keys, np.unique(movies))
    assert prior.factors.shape == (prior.keys.size, K) and prior.factors.dtype == np.float32
    assert prior.offsets.shape == prior.counts.shape == prior.keys.shape
    assert prior.implicit.W.nnz > 0 and prior.implicit.co.nnz > 0
    assert calls[0][0] == 0 and calls[-1][0] == calls[-1][1]
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert len({t for _, t in calls}) == 1
    assert prior.info["stop"] in ("tol", "gtol")
    assert prior.scale == (0.5, 5.0)


def test_prior_factors_recover_the_taste_space(built):
    prior, _, (_, _, _, V, keys) = built
    # the learned factors span the true movie factors: a linear map fits them well
    pos = np.searchsorted(keys, prior.keys)
    A, *_ = np.linalg.lstsq(prior.factors.astype(float), V[pos], rcond=None)
    resid = V[pos] - prior.factors @ A
    assert 1 - resid.var() / V[pos].var() > 0.7


def test_round_trip_restrict_and_bad_blobs(built):
    prior, _, _ = built
    blob = prior.to_bytes()
    assert isinstance(blob, bytes)
    with np.load(io.BytesIO(blob), allow_pickle=False) as z:  # no pickled objects inside
        assert all(z[name].dtype != object for name in z.files)
    back = TastePrior.from_bytes(blob)
    np.testing.assert_array_equal(back.keys, prior.keys)
    np.testing.assert_array_equal(back.factors, prior.factors)
    assert (back.implicit.W != prior.implicit.W).nnz == 0
    assert back.info == prior.info
    with pytest.raises(ValueError):
        TastePrior.from_bytes(b"not a prior")
    some = prior.keys[::3]
    small = prior.restrict(np.append(some, 999_999))
    np.testing.assert_array_equal(small.keys, some)
    np.testing.assert_array_equal(small.factors, prior.factors[::3])
    assert small.implicit.W.shape == (some.size, some.size)
    assert len(small.to_bytes()) < len(blob)


def test_for_movies_aligns_catalog_ids_and_drops_unlinked(built):
    prior, _, _ = built
    catalog = np.array([500, 300, 400, 100], dtype=np.int64)
    keys = np.array([prior.keys[5], prior.keys[2], 123_456, prior.keys[7]])
    gp = prior.for_movies(catalog, keys)
    assert isinstance(gp, GuildPrior)
    np.testing.assert_array_equal(gp.movie_ids, [100, 300, 500])  # 400's key is unknown
    np.testing.assert_array_equal(gp.factors, prior.factors[[7, 2, 5]])
    np.testing.assert_array_equal(gp.lookup([300, 400, 100]), [1, -1, 0])
    # item-item weights follow the movies: W[300 -> 500] is the prior's W[key2 -> key5]
    assert gp.implicit.W[1, 2] == pytest.approx(prior.implicit.W[2, 5])


def guild_from_world(built, n_members=12, per_member=8, seed=1):
    """A small guild (1-10 scale) of new people with the world's tastes; catalog ids differ
    from the prior's keys (catalog id = key + 100000)."""
    _, _, (users, movies, scores, _, _) = built
    rng = np.random.default_rng(seed)
    members = rng.choice(np.unique(users), n_members, replace=False)
    rows = np.concatenate([rng.permutation(np.flatnonzero(users == m))[:per_member]
                           for m in members])
    return users[rows] + 10**15, movies[rows] + 100_000, scores[rows] * 2


def test_guild_fit_regularises_movie_factors_toward_the_prior(built):
    prior, _, _ = built
    gp = prior.for_movies(prior.keys + 100_000, prior.keys)
    u, m, s = guild_from_world(built)
    cfg = ModelConfig(scale=(1.0, 10.0), reg=30.0)
    with_prior = CFModel(cfg)
    report = with_prior.fit(u, m, s, prior=gp)
    assert with_prior.config.features == K and report.factorised
    rows = gp.lookup(with_prior.movies.ids)
    assert np.all(rows >= 0)
    target = gp.factors[rows]
    # MAP toward the prior: every movie keeps (close to) the prior's place in the taste space
    dist = np.linalg.norm(with_prior.X - target, axis=1) / np.linalg.norm(target, axis=1)
    assert np.median(dist) < 0.3
    plain = CFModel(ModelConfig(scale=(1.0, 10.0), reg=30.0, features=K))
    plain.fit(u, m, s)
    assert np.linalg.norm(plain.X) < 0.3 * np.linalg.norm(with_prior.X)
    # /similar has neighbours from day one
    movie = int(with_prior.movies.ids[np.argmax(with_prior.support_counts)])
    assert with_prior.similar(movie, n=3)


def test_prior_part_makes_picks_personal_and_better(built):
    prior, _, (users, movies, scores, _, _) = built
    gp = prior.for_movies(prior.keys + 100_000, prior.keys)
    u, m, s = guild_from_world(built, n_members=10, per_member=10)
    hits = {}
    for name, p in (("prior", gp), ("none", None)):
        model = CFModel(ModelConfig(scale=(1.0, 10.0)))
        model.fit(u, m, s, prior=p)
        total = 0
        for member in np.unique(u):
            world_id = member - 10**15
            liked = set((movies[(users == world_id) & (scores >= 4)] + 100_000).tolist())
            recs = model.recommend(member, n=5, min_support=0)
            total += len(liked & {r.movie_id for r in recs})
        hits[name] = total
    assert hits["prior"] > hits["none"]


def test_fold_in_uses_ratings_on_movies_the_guild_model_does_not_know(built):
    prior, _, _ = built
    gp = prior.for_movies(prior.keys + 100_000, prior.keys)
    u, m, s = guild_from_world(built)
    # candidates limited to the guild's rated movies, so some linked movies stay unknown
    model = CFModel(ModelConfig(scale=(1.0, 10.0), prior_candidates=False))
    model.fit(u, m, s, prior=gp)
    unknown = np.setdiff1d(prior.keys + 100_000, model.movies.ids)[:6]
    assert unknown.size == 6 and not any(model.knows_movie(x) for x in unknown)
    # the newcomer rated only movies the guild never rated: their row still moves
    rows = gp.lookup(unknown)
    direction = gp.factors[rows].mean(axis=0)
    model.fold_in(1, unknown, np.full(6, 10.0))
    model.fold_in(2, unknown, np.full(6, 1.0))
    assert model.bu[model.users.get(1)] > model.bu[model.users.get(2)]
    t1 = model.T[model.users.get(1)].astype(float)
    assert t1 @ direction > 0  # likes what those movies stand for
    assert model.recommend(1, n=3) != model.popular(n=3)
    # the prior part of the blend sees them too; reasons can name them
    recs = model.recommend(1, n=5)
    reasons = [model.explain(1, r.movie_id) for r in recs]
    assert any(x and x[0][0] in set(unknown.tolist()) for x in reasons)
    blob = model.to_bytes()
    with np.load(io.BytesIO(blob), allow_pickle=False) as z:  # the prior is not copied in
        assert [f for f in z.files if f.startswith("prior")] == ["prior_fingerprint"]
    back = CFModel.from_bytes(blob, prior=gp)
    assert back.fitted_prior == gp.fingerprint()
    assert [r.movie_id for r in back.recommend(1, n=5)] == [r.movie_id for r in recs]
    alone = CFModel.from_bytes(blob)  # the prior is not in the blob: still loads and serves
    assert alone.prior is None and len(alone.recommend(1, n=5)) == 5


def test_fold_in_without_prior_counts_unknown_movies_in_the_bias():
    u = np.repeat(np.arange(8), 5)
    m = np.tile(np.arange(5), 8)
    s = np.full(u.size, 6.0)
    model = CFModel(ModelConfig(scale=(1.0, 10.0)))
    model.fit(u, m, s)
    model.fold_in(100, [0, 77, 78, 79], [6, 10, 10, 10])  # 77-79: unknown to the model
    model.fold_in(101, [0, 77, 78, 79], [6, 1, 1, 1])
    model.fold_in(102, [0], [6])
    p = model.predict([100, 101, 102], [1, 1, 1])
    assert p[0] > p[2] > p[1]
