"""Converged, stable fits: same data -> same list; seeds and warm refits barely move the lists."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from recommender import CFModel, ModelConfig
from recommender.tuning import choose_reg, fit_guild

CFG = ModelConfig(scale=(1.0, 10.0), reg=3.0, features=5)


def guild(seed=0, n_users=80, n_movies=120, k=3, genre=None):
    """A medium guild with taste structure on 1-10 and popularity-skewed choices (movie
    factors clustered by ``genre`` when given)."""
    rng = np.random.default_rng(seed)
    U, V = rng.normal(0, 0.7, (n_users, k)), rng.normal(0, 0.7, (n_movies, k))
    if genre is not None:
        V = 1.2 * np.eye(k + 1, k)[genre] + 0.3 * V
    logits = U @ V.T + rng.normal(0, 1, n_movies)
    p = 25 * np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    u, m = np.nonzero(rng.random((n_users, n_movies)) < np.clip(p, 0, 0.9))
    raw = 6.5 + 2 * (U @ V.T)[u, m] + rng.normal(0, 1.0, u.size)
    return 10**17 + u.astype(np.int64), 500 + m.astype(np.int64), np.clip(np.round(raw), 1, 10)


def top_lists(model, members, n=10):
    return [[r.movie_id for r in model.recommend(x, n=n)] for x in members]


def overlap(a, b) -> float:
    return float(np.mean([len(set(x) & set(y)) / max(1, len(x)) for x, y in zip(a, b,
                                                                                 strict=True)]))


def test_fit_stops_on_tolerance_not_on_an_iteration_count():
    users, movies, scores = guild()
    model = CFModel(CFG)
    report = model.fit(users, movies, scores)
    assert report.stop in ("tol", "gtol")
    assert report.iterations > CFG.maxiter  # several CG rounds, not one fixed short run
    capped = CFModel(replace(CFG, max_iterations=3))
    assert capped.fit(users, movies, scores).stop == "maxiter"


def test_identical_data_gives_identical_lists():
    users, movies, scores = guild()
    a, b = CFModel(CFG), CFModel(CFG)
    a.fit(users, movies, scores)
    b.fit(users, movies, scores)
    members = np.unique(users)
    assert top_lists(a, members) == top_lists(b, members)
    assert a.similar(int(movies[0])) == b.similar(int(movies[0]))


def test_top10_overlap_across_seeds_and_warm_refits():
    users, movies, scores = guild()
    members = np.unique(users)
    first = CFModel(CFG)
    first.fit(users, movies, scores)
    other_seed = CFModel(replace(CFG, seed=7))
    other_seed.fit(users, movies, scores)
    warm = CFModel(CFG)
    warm.fit(users, movies, scores, warm_start=first)  # no new ratings
    base = top_lists(first, members)
    assert overlap(base, top_lists(other_seed, members)) >= 0.95
    assert overlap(base, top_lists(warm, members)) >= 0.95
    pairs = (np.repeat(members, 20), np.tile(np.unique(movies)[:20], members.size))
    drift = np.abs(first.predict(*pairs) - warm.predict(*pairs))
    assert drift.max() < 0.5  # points on 1-10: a refit on the same data changes ~nothing


def test_guild_fit_path_reuses_the_chosen_grid_fit():
    users, movies, scores = guild()
    choice = choose_reg(users, movies, scores, CFG)
    assert choice.model is not None and choice.model.config.reg == choice.reg
    model, report = fit_guild(users, movies, scores, CFG, tune_reg=True)
    assert model.config.reg == choice.reg and report.stop in ("tol", "gtol")
    again, _ = fit_guild(users, movies, scores, CFG, tune_reg=True)
    members = np.unique(users)
    assert top_lists(model, members) == top_lists(again, members)


def test_refits_reuse_a_recent_reg_choice_and_retune_after_growth(monkeypatch):
    import recommender.tuning as tuning

    config = replace(CFG, cold_fit_max=0)  # the warm path of larger guilds, at a small size
    users, movies, scores = guild()
    first, _ = fit_guild(users, movies, scores, config, tune_reg=True)
    assert first.tuned_on == scores.size
    back = CFModel.from_bytes(first.to_bytes())
    assert back.tuned_on == scores.size

    def boom(*args, **kwargs):
        raise AssertionError("the grid ran again")

    more = (np.append(users, users[:10]), np.append(movies, movies[:10] + 1000),
            np.append(scores, scores[:10]))
    with monkeypatch.context() as m:
        m.setattr(tuning, "choose_reg", boom)
        again, _ = fit_guild(*more, config, tune_reg=True, warm_start=back)
    assert again.config.reg == first.config.reg and again.tuned_on == scores.size
    calls = []
    real = tuning.choose_reg
    monkeypatch.setattr(tuning, "choose_reg", lambda *a, **k: calls.append(1) or real(*a, **k))
    half = scores.size // 2  # the guild grew by 50%: choose again
    grown = (np.concatenate([users, users[:half]]), np.concatenate([movies, movies[:half] + 5000]),
             np.concatenate([scores, scores[:half]]))
    later, _ = fit_guild(*grown, config, tune_reg=True, warm_start=again)
    assert calls and later.tuned_on == grown[2].size


def test_side_features_give_cold_movies_a_baseline_and_a_place():
    genre_of_movie = np.random.default_rng(3).integers(0, 4, 120)
    users, movies, scores = guild(genre=genre_of_movie)
    ids = np.unique(movies)
    genre = genre_of_movie[ids - 500]
    # genre 0 is loved: shift its ratings up by 2 points
    g_of = dict(zip(ids.tolist(), genre.tolist(), strict=True))
    scores = np.clip(scores + 2.0 * np.array([g_of[m] == 0 for m in movies.tolist()]), 1, 10)
    F = sp.csr_matrix(np.eye(4)[genre])
    cold_loved = 9001  # one rating each, both 6/10: one is genre 0, the other genre 1
    cold_plain = 9002
    ids_f = np.append(ids, [cold_loved, cold_plain])
    F = sp.vstack([F, sp.csr_matrix(np.eye(4)[[0, 1]])]).tocsr()
    u = np.append(users, [users[0], users[1]])
    m = np.append(movies, [cold_loved, cold_plain])
    s = np.append(scores, [6.0, 6.0])
    with_f = CFModel(CFG)
    with_f.fit(u, m, s, movie_features=(ids_f, F))
    without = CFModel(CFG)
    without.fit(u, m, s)
    stranger = 42  # unknown member: the movie baseline
    p_with = with_f.predict([stranger, stranger], [cold_loved, cold_plain])
    p_without = without.predict([stranger, stranger], [cold_loved, cold_plain])
    assert abs(p_without[0] - p_without[1]) < 0.1  # without features: indistinguishable
    assert p_with[0] > p_with[1] + 0.3  # genre baseline: the loved genre's cold movie is higher
    # and the cold movie is not blank in the factor space: it sits with its genre
    x = with_f.X[with_f.movies.get(cold_loved)].astype(float)
    assert np.linalg.norm(x) > 0.05 * np.median(np.linalg.norm(with_f.X, axis=1))
    genre0 = with_f.movies.lookup(ids[genre == 0])
    centre = with_f.X[genre0].astype(float).mean(axis=0)
    assert x @ centre > 0
