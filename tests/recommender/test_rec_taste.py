"""The member's own taste in the rating model's predictions (``recommender/taste.py``): per-member
genre offsets, a ridge on the member's residuals, in every prediction (``predict``,
``predict_row``, the ranking's "enjoy" part), from a handful of ratings and without a prior;
reasons name the liked rating that truly contributes most through it (computed here
independently: each rating taken out of the member's ridge solves, one at a time)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from recommender import CFModel, ModelConfig
from recommender.reasons import pick_reasons

SCALE = (1.0, 10.0)
GENRES = 3  # 0: "animation", 1: "crime", 2: "drama"
# A small server: the rating model learns no taste factors (reg well above the structure)
CFG = ModelConfig(features=4, scale=SCALE, maxiter=40, reg=30.0, pick_lift_full=0.0)
NEWCOMER = 777


def _server(seed: int = 0):
    """60 movies (20 per genre, a one-hot genre row each), 12 members who rate 25 movies at
    random, by the movie's quality alone (no member has a genre taste: the guild says nothing
    about genres), and a newcomer who loved three animation films and disliked three crime
    films. (triples, movie ids, feature rows)"""
    rng = np.random.default_rng(seed)
    movie_ids = np.arange(100, 160, dtype=np.int64)
    genre = np.repeat(np.arange(GENRES), 20)
    F = np.eye(GENRES)[genre]
    quality = rng.normal(0.0, 1.0, movie_ids.size)
    rows = []
    for member in range(12):
        for j in rng.choice(movie_ids.size, 25, replace=False).tolist():
            rows.append((member, movie_ids[j], float(np.clip(round(6 + quality[j]
                                                                   + rng.normal(0, 0.5)), 1, 10))))
    for j, score in ((0, 10.0), (1, 9.0), (2, 9.0), (20, 2.0), (21, 3.0), (22, 2.0)):
        rows.append((NEWCOMER, movie_ids[j], score))
    users, movies, scores = (np.array(c) for c in zip(*rows, strict=True))
    return (users.astype(np.int64), movies.astype(np.int64), scores.astype(np.float64),
            movie_ids, genre, F)


def _fit(config=CFG, seed: int = 0):
    users, movies, scores, movie_ids, genre, F = _server(seed)
    model = CFModel(config)
    model.fit(users, movies, scores, movie_features=(movie_ids, F))
    return model, (users, movies, scores), movie_ids, genre


def _unrated(model, movie_ids, genre, g):
    rated = set(model.movies.ids[model._rated(model.users.get(NEWCOMER))[0]].tolist())
    return np.array([m for m, x in zip(movie_ids, genre, strict=True)
                     if x == g and int(m) not in rated])


def test_a_handful_of_ratings_moves_the_predictions_by_genre_without_a_prior():
    model, (users, _, scores), movie_ids, genre = _fit()
    mean = scores[users == NEWCOMER].mean()
    kids = model.predict(np.full(17, NEWCOMER), _unrated(model, movie_ids, genre, 0))
    crime = model.predict(np.full(17, NEWCOMER), _unrated(model, movie_ids, genre, 1))
    assert kids.mean() > mean > crime.mean()
    assert kids.min() > crime.max()
    # without the layer the model has no taste for the newcomer: no such split
    off = replace(model.config, taste_reg=float("inf"))
    model.config = off
    kids0 = model.predict(np.full(17, NEWCOMER), _unrated(model, movie_ids, genre, 0))
    crime0 = model.predict(np.full(17, NEWCOMER), _unrated(model, movie_ids, genre, 1))
    assert abs(kids0.mean() - crime0.mean()) < 0.5


def test_the_offsets_are_the_ridge_on_the_members_residuals():
    model, _, _ids, genre = _fit()
    u = model.users.get(NEWCOMER)
    mi, vals = model._rated(u)
    F = np.eye(GENRES)[genre[model.movies.lookup(model.movies.ids[mi])]]
    base = (model.means[mi] + model.bi[mi] + model.bu[u]
            + model.X[mi].astype(np.float64) @ model.T[u].astype(np.float64))
    lam = model.config.taste_reg
    g = np.linalg.solve(F.T @ F + lam * np.eye(GENRES), F.T @ (vals - base))
    everything = model._enjoy(np.array([u]), penalty=False)[0]
    plain = (model.means + model.bi + model.bu[u]
             + model.X.astype(np.float64) @ model.T[u].astype(np.float64))
    assert np.allclose(everything - plain, np.eye(GENRES)[genre] @ g, atol=1e-5)
    assert g[0] > 0 > g[1]  # loved animation, disliked crime


def test_every_prediction_carries_it_and_a_row_predicts_what_the_fold_in_will():
    model, (users, movies, scores), movie_ids, _genre = _fit()
    mine = users == NEWCOMER
    row = model.member_row(NEWCOMER, movies[mine], scores[mine])
    model.fold_in(NEWCOMER, movies[mine], scores[mine])
    u = model.users.get(NEWCOMER)
    every = model._to_scale(model._enjoy(np.array([u]), penalty=False)[0])
    assert np.allclose(model.predict(np.full(movie_ids.size, NEWCOMER), movie_ids), every)
    assert np.allclose(model.predict_row(row, movie_ids), every)
    shown = {r.movie_id: r.predicted for r in model.recommend(NEWCOMER, n=10, min_support=0)}
    assert np.allclose(list(shown.values()),
                       model.predict(np.full(len(shown), NEWCOMER), list(shown)))


def test_the_layer_survives_a_save_and_load():
    model, _, movie_ids, _ = _fit()
    loaded = CFModel.from_bytes(model.to_bytes())
    # a loaded model knows the members' ratings again at their next fold-in
    users, movies, scores, *_ = _server()
    mine = users == NEWCOMER
    model.fold_in(NEWCOMER, movies[mine], scores[mine])
    loaded.fold_in(NEWCOMER, movies[mine], scores[mine])
    a = model.predict(np.full(movie_ids.size, NEWCOMER), movie_ids)
    b = loaded.predict(np.full(movie_ids.size, NEWCOMER), movie_ids)
    assert np.allclose(a, b, atol=1e-5)


def _leave_one_out(model: CFModel, u: int, targets: np.ndarray, F: np.ndarray) -> np.ndarray:
    """D[j, t]: how much the "enjoy" part of member u's blend at ``targets[t]`` drops when
    rated movie j's fold-in target is taken out of both ridge solves (the member's row and
    their genre offsets), the part's z-score scale held."""
    cfg = model.config
    mi, vals = model._rated(u)
    Z = np.hstack([model.X[mi].astype(np.float64), np.ones((mi.size, 1))])
    A = Z.T @ Z + np.diag([cfg.reg] * model.X.shape[1] + [cfg.reg_bias])
    t = vals - model.means[mi] - model.bi[mi]
    Zall = np.hstack([model.X.astype(np.float64), np.ones((len(model.movies), 1))])
    Fr = F[mi]
    B = Fr.T @ Fr + cfg.taste_reg * np.eye(F.shape[1])

    def personal(tt):
        sol = np.linalg.solve(A, Z.T @ tt)
        g = np.linalg.solve(B, Fr.T @ (tt - Z @ sol))
        return Zall @ sol + F @ g

    sd = model._enjoy(np.array([u]), penalty=False)[0].std()
    full = personal(t)
    D = np.zeros((mi.size, targets.size))
    for r in range(mi.size):
        t_out = t.copy()
        t_out[r] = 0.0
        out = personal(t_out)
        D[r] = cfg.blend_enjoy * ((full - full.mean()) - (out - out.mean()))[targets] / sd
    return D


def test_a_pick_carried_by_genre_taste_names_the_liked_rating_that_contributes_most():
    # the "enjoy" part alone (no item-item parts), so the rating model's share is the blend
    config = replace(CFG, blend_pick=0.0, blend_enjoy=1.0, pop_cold=0.0)
    model, (users, movies, scores), movie_ids, genre = _fit(config)
    mine = users == NEWCOMER
    model.fold_in(NEWCOMER, movies[mine], scores[mine])  # the row is the ridge solve
    u = model.users.get(NEWCOMER)
    recs = model.recommend(NEWCOMER, n=10, min_support=0)
    targets = model.movies.lookup(np.array([r.movie_id for r in recs]))
    F = np.eye(GENRES)[genre[np.searchsorted(movie_ids, model.movies.ids)]]
    D = _leave_one_out(model, u, targets, F)
    got = pick_reasons(model, u, targets, min_weight=0.1)
    mi, vals = model._rated(u)
    liked = vals >= vals.mean() - 1e-9
    named = 0
    for t in range(targets.size):
        best = np.flatnonzero(liked)[np.argmax(D[liked, t])]
        if D[best, t] >= 0.1 + 1e-6:
            assert got.movie_id[t] == model.movies.ids[mi[best]], t
            assert abs(got.weight[t] - D[best, t]) < 1e-4
            named += 1
    assert named >= 5
    # the picks are the newcomer's loved genre, each named for an animation film they loved
    assert all(genre[np.searchsorted(movie_ids, r.movie_id)] == 0 for r in recs[:5])
    assert set(got.movie_id[got.movie_id >= 0].tolist()) <= set(movie_ids[:3].tolist())


def test_the_layer_reads_the_genre_columns_of_the_bots_features():
    """``taste_columns`` is the bot's genre block (``bot.service.features``: genres first,
    then the decade), so a member's taste is by genre, never by decade."""
    from bot.domain.genres import MOVIELENS_GENRES
    from bot.domain.models import Movie
    from bot.service.features import movie_features

    assert ModelConfig().taste_columns == len(MOVIELENS_GENRES)
    ids, F = movie_features([Movie(1, "Up", 2009, ("Animation", "Children"))])
    model = CFModel(replace(CFG, features=0))
    model.fit([1, 2], [1, 1], [9.0, 8.0], movie_features=(ids, F))
    kept = model.taste_features.toarray()[0]
    assert kept.size == len(MOVIELENS_GENRES)
    assert kept[MOVIELENS_GENRES.index("Animation")] == kept[MOVIELENS_GENRES.index("Children")]
    assert kept.sum() == 1.0  # the decade is not in it


def test_ratings_of_movies_the_model_does_not_know_count_by_their_genres():
    """A fold-in given the side features of rated movies the model does not know (rated since
    the fit) fits the member's taste on them too; without them they inform the bias only."""
    users, movies, scores, movie_ids, genre, F = _server()
    guild = ~np.isin(users, [NEWCOMER])
    model = CFModel(CFG)
    model.fit(users[guild], movies[guild], scores[guild], movie_features=(movie_ids, F))
    new_ids = np.array([900, 901, 902, 910, 911], dtype=np.int64)  # not in the model
    new_rows = np.eye(GENRES)[[0, 0, 0, 1, 1]]
    new_scores = np.array([10.0, 9.0, 10.0, 2.0, 3.0])
    kids, crime = movie_ids[genre == 0], movie_ids[genre == 1]

    def split(row) -> float:
        p = model.predict_row(row, np.concatenate([kids, crime]))
        return float(p[:kids.size].mean() - p[kids.size:].mean())

    blind = model.member_row(NEWCOMER, new_ids, new_scores)
    seeing = model.member_row(NEWCOMER, new_ids, new_scores, (new_ids, new_rows))
    assert split(seeing) > 1.0 > abs(split(blind)) + 0.5
    model.fold_in(NEWCOMER, new_ids, new_scores)  # without features: as blind
    assert np.allclose(model.predict([NEWCOMER] * kids.size, kids),
                       model.predict_row(blind, kids))
    folded = model.with_row(seeing)
    assert np.allclose(folded.predict([NEWCOMER] * kids.size, kids),
                       model.predict_row(seeing, kids))
