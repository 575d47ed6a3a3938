"""Behaviour of CFModel: determinism, fold-in, cold start, exclusion, clamp, ranking helpers."""

from dataclasses import replace

import numpy as np
import pytest

from recommender import CFModel, FitReport, ModelConfig, Recommendation

SCALE = (1.0, 5.0)
# the synthetic guilds are small (~15 ratings per member): a light reg lets factors show up
CFG = ModelConfig(features=4, scale=SCALE, maxiter=60, reg=2.0)


def synthetic(seed=0, n_users=60, n_movies=40, k=3, density=0.35):
    """Low-rank 1-5 ratings with snowflake-like member ids and sparse movie ids."""
    rng = np.random.default_rng(seed)
    U, V = rng.normal(0, 0.6, (n_users, k)), rng.normal(0, 0.6, (n_movies, k))
    raw = 3.2 + U @ V.T + rng.normal(0, 0.3, (n_users, n_movies))
    mask = rng.random((n_users, n_movies)) < density
    u, m = np.nonzero(mask)
    users = 10**17 + 7 * u.astype(np.int64)
    movies = 1000 + 3 * m.astype(np.int64)
    return users, movies, np.clip(np.round(raw[u, m]), 1, 5)


def fitted(config=None, **data_kw):
    users, movies, scores = synthetic(**data_kw)
    model = CFModel(config or CFG)
    report = model.fit(users, movies, scores)
    return model, report, (users, movies, scores)


def test_fit_report_and_shapes():
    model, report, (users, movies, _) = fitted()
    assert isinstance(report, FitReport)
    assert report.n_ratings == users.size
    assert report.n_users == np.unique(users).size
    assert report.n_movies == np.unique(movies).size
    assert report.factorised and report.iterations > 0 and np.isfinite(report.cost)
    assert model.X.dtype == np.float32 and model.X.shape == (report.n_movies, 4)


def test_fit_reduces_training_error_below_baseline():
    model, _, (users, movies, scores) = fitted()
    baseline = CFModel(replace(CFG, features=0))
    baseline.fit(users, movies, scores)
    err = np.sqrt(np.mean((model.predict(users, movies) - scores) ** 2))
    err0 = np.sqrt(np.mean((baseline.predict(users, movies) - scores) ** 2))
    assert err < 0.8 * err0


def test_deterministic_given_seed():
    a, _, _ = fitted()
    b, _, _ = fitted()
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.T, b.T)
    c, _, _ = fitted(replace(CFG, seed=1))
    assert not np.array_equal(a.X, c.X)


def test_duplicate_pairs_keep_last():
    model = CFModel(ModelConfig(scale=SCALE))
    model.fit([1, 1, 2], [10, 10, 10], [1.0, 5.0, 4.0])
    assert model.report.n_ratings == 2
    assert model.support(10) == 2


def test_fit_does_not_depend_on_the_order_of_the_rows():
    """The fit sorts (and dedupes) once itself: shuffled input, same model, same lists."""
    users, movies, scores = synthetic(seed=4)
    a = CFModel(CFG)
    a.fit(users, movies, scores)
    perm = np.random.default_rng(0).permutation(users.size)
    b = CFModel(CFG)
    b.fit(users[perm], movies[perm], scores[perm])
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.T, b.T)
    np.testing.assert_array_equal(a.bu, b.bu)
    for u in np.unique(users)[:5]:
        assert a.recommend(u, n=5) == b.recommend(u, n=5)
    # a later duplicate wins even when the two copies are far apart in the input
    last = CFModel(ModelConfig(scale=SCALE))
    last.fit([1, 2, 3, 1], [10, 10, 11, 10], [1.0, 4.0, 2.0, 5.0])
    assert last.predict([1], [10])[0] > last.predict([2], [10])[0]
    assert last._rated(last.users.get(1))[1].tolist() == [5.0 / last.config.unit]


def test_predict_clamps_to_scale_and_handles_unknowns():
    model, _, (users, movies, _) = fitted()
    model.X *= 50.0  # absurd factors: raw predictions far outside 1-5
    model.T *= 50.0
    pred = model.predict(np.repeat(users[:50], 1), movies[:50])
    assert pred.min() >= 1.0 and pred.max() <= 5.0
    assert np.any(pred == 5.0) or np.any(pred == 1.0)
    unknown = model.predict([42, users[0]], [movies[0], 999_999])
    assert np.all(np.isfinite(unknown)) and np.all((unknown >= 1) & (unknown <= 5))
    bot = CFModel(ModelConfig(scale=(1.0, 10.0)))
    bot.fit([1, 2, 3], [7, 7, 8], [10, 10, 1])
    p = bot.predict([1, 2, 3, 4], [8, 8, 7, 7])
    assert p.min() >= 1.0 and p.max() <= 10.0


def test_recommend_excludes_rated_and_explicit_exclude():
    model, _, (users, movies, _) = fitted()
    member = users[0]
    rated = set(movies[users == member].tolist())
    recs = model.recommend(member, n=1000, min_support=0)
    ids = [r.movie_id for r in recs]
    assert all(isinstance(r, Recommendation) for r in recs)
    assert not rated & set(ids)
    assert set(ids) == set(np.unique(movies).tolist()) - rated
    extra = ids[:3]
    again = [r.movie_id for r in model.recommend(member, n=1000, exclude=extra, min_support=0)]
    assert not set(extra) & set(again) and len(again) == len(ids) - 3
    ranks = [r.rank for r in recs]
    assert ranks == sorted(ranks, reverse=True)
    cands = ids[5:9] + list(rated)[:2]
    assert {r.movie_id for r in model.recommend(member, n=10, candidates=cands)} == set(ids[5:9])


def test_min_support_puts_obscure_movies_last():
    users, movies, scores = synthetic()
    # a movie with a single perfect rating must not top anybody's list
    users = np.append(users, users[0])
    movies = np.append(movies, 5)
    scores = np.append(scores, 5.0)
    model = CFModel(replace(CFG, min_support=3))
    model.fit(users, movies, scores)
    for member in np.unique(users)[1:6]:
        recs = model.recommend(member, n=1000)
        assert recs[-1].movie_id == 5
    top = model.popular(n=5)
    assert 5 not in [r.movie_id for r in top]
    assert [r.movie_id for r in model.popular(n=1, min_support=0, candidates=[5])] == [5]


def test_cold_start_member_gets_popular_by_shrunk_mean():
    # movie 1: one 5-star rating; movie 2: many 4.5-5 ratings; movie 3: many low ratings
    users = [1, *list(range(10, 30)), *list(range(10, 30))]
    movies = [1] + [2] * 20 + [3] * 20
    scores = [5.0] + [4.5, 5.0] * 10 + [1.5, 2.0] * 10
    model = CFModel(ModelConfig(scale=(0.5, 5.0), min_support=0))
    model.fit(users, movies, scores)
    recs = model.recommend(999, n=3)  # unknown member
    assert [r.movie_id for r in recs] == [2, 1, 3]
    assert recs == model.popular(n=3)
    assert model.predict([999], [1])[0] < 4.5  # shrunk towards the global mean


def test_tiny_guild_still_sensible_and_stable():
    # five members, a handful of 1-10 ratings: too small to factorise
    users = [1, 1, 2, 2, 3, 4, 5]
    movies = [100, 200, 100, 300, 200, 100, 400]
    scores = [9, 3, 8, 6, 2, 10, 7]
    cfg = ModelConfig(scale=(1.0, 10.0))
    model = CFModel(cfg)
    report = model.fit(users, movies, scores)
    assert not report.factorised
    recs = model.recommend(5, n=5)
    assert next(r.movie_id for r in recs) == 100  # the movie everybody loves comes first
    assert 400 not in [r.movie_id for r in recs]
    again = CFModel(cfg)
    again.fit(users, movies, scores)
    assert recs == again.recommend(5, n=5)
    assert model.popular(n=1)[0].movie_id == 100
    assert model.similar(100) == []  # no factors, no similarity claims


def test_fold_in_matches_full_refit_for_new_member():
    users, movies, scores = synthetic(seed=3, n_users=80, n_movies=50)
    cfg = replace(CFG, maxiter=300, gtol=1e-6, dtype="float64")
    model = CFModel(cfg)
    model.fit(users, movies, scores)
    rng = np.random.default_rng(9)
    all_movies = np.unique(movies)
    mine = rng.choice(all_movies, 15, replace=False)
    my_scores = model.predict([users[0]] * 15, mine).round().clip(1, 5)  # a plausible taste
    new = 123456789
    assert not model.knows_user(new)
    model.fold_in(new, mine, my_scores)
    assert model.knows_user(new)
    folded = model.predict([new] * all_movies.size, all_movies)
    full = CFModel(cfg)
    full.fit(np.append(users, [new] * 15), np.append(movies, mine),
             np.append(scores, my_scores), warm_start=model)
    refit = full.predict([new] * all_movies.size, all_movies)
    assert np.max(np.abs(folded - refit)) < 0.15
    assert np.corrcoef(folded, refit)[0, 1] > 0.95
    recs = {r.movie_id for r in model.recommend(new, n=100, min_support=0)}
    assert not recs & set(mine.tolist())


def test_fold_in_known_member_replaces_row_immediately():
    model, _, (users, movies, _) = fitted()
    member = users[0]
    before = model.recommend(member, n=3, min_support=0)
    target = before[0].movie_id
    n_users = len(model.users)
    rated = movies[users == member]
    support_before = model.support(target)
    model.fold_in(member, np.append(rated, target), np.append(np.full(rated.size, 3.0), 1.0))
    assert len(model.users) == n_users
    assert model.support(target) == support_before + 1
    after = [r.movie_id for r in model.recommend(member, n=50, min_support=0)]
    assert target not in after
    assert model.predict([member], [target])[0] < before[0].predicted


def test_similar_is_calibrated_and_says_nothing_without_evidence():
    model, _, (_, movies, _) = fitted()
    m = int(movies[0])
    sims = model.similar(m, n=5)
    assert 0 < len(sims) <= 5 and m not in [s for s, _ in sims]
    vals = [c for _, c in sims]
    assert vals == sorted(vals, reverse=True) and all(0.0 < c < 1.0 for c in vals)
    assert model.similar(-5) == []


def test_similar_never_claims_unrelated_films_are_alike():
    # two communities with disjoint films; within each, everybody rates everything the same
    # (identical vectors: a plain cosine says 100%)
    users, movies, scores = [], [], []
    for member in range(40):
        group = member % 2
        for film in range(10):
            users.append(member)
            movies.append(100 * (group + 1) + film)
            scores.append(8.0)
    users.append(999)  # a film one member rated once: no evidence about anything
    movies.append(555)
    scores.append(10.0)
    model = CFModel(ModelConfig(scale=(1.0, 10.0), reg=1.0))
    model.fit(users, movies, scores)
    sims = dict(model.similar(100, n=50))
    assert sims
    assert all(100 < m < 110 for m in sims)  # only co-rated films of the same community
    assert max(sims.values()) < 1.0
    assert model.similar(555, n=5) == []  # "not enough ratings yet"
    assert 555 not in sims


def test_group_average_vs_least_misery():
    model, _, (users, movies, _) = fitted()
    group = [users[0], users[-1]]
    avg = model.recommend_group(group, n=1000, strategy="average", min_support=0)
    lm = model.recommend_group(group, n=1000, strategy="least_misery", min_support=0)
    seen = set(movies[np.isin(users, group)].tolist())
    for recs in (avg, lm):
        assert recs and not seen & {r.movie_id for r in recs}
    ids = [r.movie_id for r in avg]
    preds = model.predict(np.repeat(group, len(ids)), np.tile(ids, 2)).reshape(2, -1)
    by_id = {r.movie_id: r.predicted for r in avg}
    assert by_id[ids[0]] == pytest.approx(preds[:, 0].mean(), abs=1e-4)
    lm_by_id = {r.movie_id: r.predicted for r in lm}
    assert lm_by_id[ids[0]] == pytest.approx(preds[:, 0].min(), abs=1e-4)
    with pytest.raises(ValueError):
        model.recommend_group(group, strategy="dictator")


def test_warm_start_reuses_previous_factors_and_adds_fresh_rows():
    users, movies, scores = synthetic()
    first = CFModel(CFG)
    first.fit(users, movies, scores)
    quick = CFModel(replace(CFG, max_iterations=1))
    new_users = np.append(users, [1, 1])
    new_movies = np.append(movies, [777, 1000])
    quick.fit(new_users, new_movies, np.append(scores, [4.0, 2.0]), warm_start=first)
    cold = CFModel(replace(CFG, max_iterations=1))
    cold.fit(new_users, new_movies, np.append(scores, [4.0, 2.0]))
    assert quick.report.cost < 0.8 * cold.report.cost
    assert quick.knows_user(1) and quick.knows_movie(777)
    i_old = first.movies.get(1000)
    np.testing.assert_allclose(quick.X[quick.movies.get(1000)], first.X[i_old], atol=0.2)


def test_persistence_round_trip_after_fold_in():
    model, _, (users, movies, _) = fitted()
    model.fold_in(555, movies[:5], [5, 4, 3, 2, 1])
    blob = model.to_bytes()
    assert isinstance(blob, bytes) and b"pickle" not in blob[:200]
    back = CFModel.from_bytes(blob)
    assert back.config == model.config
    np.testing.assert_array_equal(back.predict(users, movies), model.predict(users, movies))
    assert back.recommend(555, n=5) == model.recommend(555, n=5)
    assert back.support(int(movies[0])) == model.support(int(movies[0]))


def test_snapshot_is_unaffected_by_later_fold_ins():
    model, _, (users, movies, _) = fitted()
    member, newcomer = users[0], 42
    snap = model.snapshot()
    before = snap.predict([member], movies[:5]).copy()
    model.fold_in(member, movies[:5], np.full(5, 1.0))
    model.fold_in(newcomer, movies[:3], np.full(3, 5.0))
    assert not np.allclose(model.predict([member], movies[:5]), before)
    np.testing.assert_array_equal(snap.predict([member], movies[:5]), before)
    assert not snap.knows_user(newcomer) and model.knows_user(newcomer)
    warm = CFModel(CFG)
    warm.fit(users, movies, synthetic()[2], warm_start=snap)
    assert not warm.knows_user(newcomer)


def test_saved_model_leaves_out_training_lists_but_never_double_counts_support():
    model, _, (users, movies, scores) = fitted()
    member = users[0]
    rated, their = movies[users == member], scores[users == member]
    back = CFModel.from_bytes(model.to_bytes())
    support = back.support_counts.copy()
    back.fold_in(member, rated, their)  # the member's unchanged ratings, as the bot does
    np.testing.assert_array_equal(back.support_counts, support)
    model.fold_in(member, rated, their)
    np.testing.assert_allclose(back.predict([member], movies[:20]),
                               model.predict([member], movies[:20]), rtol=1e-6)
    assert [r.movie_id for r in back.recommend(member, n=5)] == [
        r.movie_id for r in model.recommend(member, n=5)]


def test_format_2_blobs_from_the_previous_release_still_load():
    import io

    model, _, (users, movies, _) = fitted()
    model.fold_in(555, movies[:5], [5, 4, 3, 2, 1])
    with np.load(io.BytesIO(model.to_bytes()), allow_pickle=False) as z:
        old = {k: z[k] for k in z.files if not k.startswith(("ii_", "e_", "prior"))}
    import json

    cfg = json.loads(str(old["config"]))
    old["config"] = np.array(json.dumps({k: cfg[k] for k in (
        "features", "reg", "reg_bias", "maxiter", "seed", "scale", "mean_damping")}))
    old["format"] = np.array(2)
    buf = io.BytesIO()
    np.savez(buf, **old)
    back = CFModel.from_bytes(buf.getvalue())
    assert back.config.features == model.config.features
    np.testing.assert_array_equal(back.predict(users, movies), model.predict(users, movies))
    recs = back.recommend(555, n=5)
    assert len(recs) == 5 and not {r.movie_id for r in recs} & set(movies[:5].tolist())
    assert back.similar(int(movies[0])) == []  # no co-rating counts saved: nothing, not noise


def test_similar_leans_on_genres_where_few_members_rated_both():
    """Six members rated twelve movies at random (their co-ratings say nothing): with the
    movies' genres (the fit's side features), "movies like" an animated film are the other
    animated films, each similarity the co-ratings' share n / (n + similar_shrink) plus the
    genres' ``GENRE_SHARE`` of the rest; without genres it shrinks toward nothing, as before."""
    from recommender.similar import GENRE_SHARE

    rng = np.random.default_rng(12)
    animated, crime = list(range(1, 7)), list(range(11, 17))
    users, movies, scores = [], [], []
    for member in range(6):
        for film in animated + crime:
            users.append(member)
            movies.append(film)
            scores.append(float(rng.integers(1, 11)))
    ids = np.array(animated + crime)
    genres = np.array([[1.0, 0.0]] * 6 + [[0.0, 1.0]] * 6)
    config = ModelConfig(scale=(1.0, 10.0), reg=1.0, min_support=1)
    with_genres = CFModel(config)
    with_genres.fit(users, movies, scores, movie_features=(ids, genres))
    near = with_genres.similar_with_evidence(1, n=5)
    assert [m for m, *_ in near] and all(m in animated for m, *_ in near)
    share = 6 / (6 + config.similar_shrink)
    assert all(abs(s - share) < 1e-9 for *_, s in near)
    assert all(sim >= (1 - share) * GENRE_SHARE for _, sim, _ in near)
    assert with_genres.similar(1, n=5) == [(m, sim) for m, sim, _ in near]
    crime_sims = [sim for m, sim, _ in with_genres.similar_with_evidence(1, n=20) if m in crime]
    assert all(sim <= share for sim in crime_sims)  # their genres add nothing
    plain = CFModel(config)
    plain.fit(users, movies, scores)
    assert all(sim <= share for _, sim in plain.similar(1, n=20))
    # nothing but the ratings said it: their share is all of it (no "genres" footer)
    assert all(s == 1.0 for *_, s in plain.similar_with_evidence(1, n=20))
