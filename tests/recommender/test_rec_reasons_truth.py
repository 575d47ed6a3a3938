"""Reasons are true (issue 23 item 4): the rated movie a pick names is the member's liked rating
that contributes most to that pick, computed here independently of ``recommender.reasons``
(each rated movie taken out of the blend's inputs, one at a time, the z-scores' scale held);
only ratings at or above the member's average are named; in a server with two taste clusters a
member who loves one movie of each gets reasons from both (variety that follows from truth)."""

import numpy as np

from recommender import CFModel, ModelConfig
from recommender.implicit import zscore_rows
from recommender.reasons import KINDS, pick_reasons
from tests.recommender.test_rec_model import CFG, fitted


def _leave_one_out(model: CFModel, u: int, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rated movie indexes, D[j, t]): how much member u's blend at ``targets[t]`` drops when
    rated movie j is taken out of the inputs of the parts that read ratings (the guild's
    item-item rows, the rating model's ridge solve), each part's z-score scale held."""
    cfg = model.config
    mi, vals = model._rated(u)
    D = np.zeros((mi.size, targets.size))
    # "will pick": the liking-weighted rated row times EASE's weights
    W = model.implicit.W.toarray().astype(np.float64)
    x = np.maximum(1.0 + cfg.pick_rating_weight * (vals - vals.mean()), 0.0)
    S = x @ W[mi]
    w_pick = cfg.blend_pick * model.pick_evidence
    if w_pick and S.std() > 1e-12:
        for r in range(mi.size):
            S_out = S - x[r] * W[mi[r]]
            D[r] = w_pick * ((S - S.mean()) - (S_out - S_out.mean()))[targets] / S.std()
    # "will enjoy": the member's preferences and bias as the ridge solve of their ratings
    Z = np.hstack([model.X[mi].astype(np.float64), np.ones((mi.size, 1))])
    A = Z.T @ Z + np.diag([cfg.reg] * model.X.shape[1] + [cfg.reg_bias])
    t = vals - model.means[mi] - model.bi[mi]
    Zall = np.hstack([model.X.astype(np.float64), np.ones((len(model.movies), 1))])
    enjoy_sd = model._enjoy(np.array([u]), penalty=False)[0].std()
    full = Zall @ np.linalg.solve(A, Z.T @ t)
    for r in range(mi.size):
        t_out = t.copy()
        t_out[r] = 0.0
        out = Zall @ np.linalg.solve(A, Z.T @ t_out)
        D[r] += cfg.blend_enjoy * ((full - full.mean()) - (out - out.mean()))[targets] / enjoy_sd
    return mi, D


def test_the_named_movie_is_the_liked_rating_contributing_most_to_the_pick():
    model, _, (users, movies, scores) = fitted()
    member = users[0]
    mine = users == member
    model.fold_in(member, movies[mine], scores[mine])  # the member's row is the ridge solve
    u = model.users.get(member)
    recs = model.recommend(member, n=20, min_support=0)
    targets = model.movies.lookup(np.array([r.movie_id for r in recs]))
    got = pick_reasons(model, u, targets, min_weight=0.1)
    mi, D = _leave_one_out(model, u, targets)
    vals = model._rated(u)[1]
    liked = vals >= vals.mean() - 1e-9
    assert not liked.all()  # the rule below has disliked ratings to leave out
    named = 0
    for t in range(targets.size):
        best = np.flatnonzero(liked)[np.argmax(D[liked, t])]
        # named: the liked rating contributing most, when it reaches 0.1 alone, or when the
        # ratings together reach 0.1 and it gives at least 5% of that (`SHARE_OF_SUPPORT`)
        together = D[:, t].sum()
        alone = D[best, t] - 0.1
        share = min(together - 0.1, D[best, t] - 0.05 * together, D[best, t] - 1e-3)
        if liked.sum() < 6:  # the rule for members with many liked ratings (`TOGETHER_MIN_LIKED`)
            share = -1.0
        if max(alone, share) >= 1e-6:
            assert got.movie_id[t] == model.movies.ids[mi[best]], t
            assert abs(got.weight[t] - D[best, t]) < 1e-4
            named += 1
        elif max(alone, share) <= -1e-6:
            assert got.movie_id[t] == -1 and KINDS[got.kind[t]] != "rating"
        if got.movie_id[t] >= 0:  # never a movie rated below the member's average
            j = np.flatnonzero(model.movies.ids[mi] == got.movie_id[t])[0]
            assert liked[j]
    assert named >= 3


def _two_clusters(seed=0):
    """Members of cluster A rate A movies (ids 1-30), members of B rate B movies (101-130);
    ratings 3-5 within each cluster. Member 999 rated A's 1 and B's 101 5 of 5, one movie of
    each 2 and two more 3: only the two 5s are at or above their average (3.33)."""
    rng = np.random.default_rng(seed)
    rows = []
    for cluster, base in ((0, 1), (1, 101)):
        for m in range(25):
            member = 1000 * (cluster + 1) + m
            seen = rng.choice(30, size=12, replace=False)
            seen = np.union1d(seen, [0, 1, 2, 3])  # the cluster's classics: everyone saw them
            for k in seen.tolist():
                rows.append((member, base + k, float(rng.integers(3, 6))))
    for movie, score in ((1, 5.0), (101, 5.0), (2, 2.0), (102, 2.0), (3, 3.0), (103, 3.0)):
        rows.append((999, movie, score))
    users, movies, scores = (np.array(c) for c in zip(*rows, strict=True))
    return users.astype(np.int64), movies.astype(np.int64), scores.astype(np.float64)


def test_a_member_who_loves_one_movie_in_each_taste_cluster_gets_reasons_from_both():
    users, movies, scores = _two_clusters()
    model = CFModel(ModelConfig(features=4, scale=CFG.scale, maxiter=60, reg=2.0,
                                pick_lift_full=0.0))  # EASE at full weight, no hold-out
    model.fit(users, movies, scores)
    recs = model.recommend(999, n=10, min_support=0)
    got = model.reasons(999, [r.movie_id for r in recs], 0.1)
    assert set(got.movie_id[got.movie_id >= 0].tolist()) == {1, 101}
    for rec, reason in zip(recs, got.movie_id.tolist(), strict=True):
        if reason >= 0:  # each pick's reason is from its own cluster
            assert (rec.movie_id > 100) == (reason > 100), (rec.movie_id, reason)
    # the blend's "will pick" part is what carries them: above its mean at every pick
    u = model.users.get(999)
    _, S = model._blend_parts(np.array([u]))["pick"]
    assert (zscore_rows(S)[0][model.movies.lookup(np.array([r.movie_id for r in recs]))]
            > 0).all()


def test_a_rating_model_without_features_never_claims_your_taste():
    """A small server's rating model can learn no features (the ridge optimum of its few
    ratings is zero factors): its part of the blend is then each movie's own baseline, the
    same for every member, so a pick it carries says "highly rated" ("rated"), never "members
    with your taste rate it highly" ("enjoy")."""
    users, movies, scores = _two_clusters()
    model = CFModel(ModelConfig(features=4, scale=CFG.scale, maxiter=60, reg=1e6,
                                blend_pick=0.0, pop_cold=0.0))
    model.fit(users, movies, scores)
    assert np.abs(model.X).max() < 1e-3  # the features collapsed
    recs = model.recommend(999, n=10, min_support=0)
    got = model.reasons(999, [r.movie_id for r in recs], 0.1)
    assert (got.movie_id == -1).all()
    assert [KINDS[k] for k in got.kind] == ["rated"] * len(recs)
    # nor anywhere down the ranking: features of ~1e-6 (what CG leaves of a zero optimum)
    # give a personal share of ~1e-12, no carrier even where all else is below average
    model.X = np.random.default_rng(0).normal(0, 1e-6, model.X.shape).astype(np.float32)
    mine = users == 999
    model.fold_in(999, movies[mine], scores[mine])
    every = model.reasons(999, model.movies.ids, 1e9)
    assert "enjoy" not in {KINDS[k] for k in every.carrier}
    # with features, the same member's picks carried by the rating model are their taste's
    model = CFModel(ModelConfig(features=4, scale=CFG.scale, maxiter=60, reg=2.0,
                                blend_pick=0.0, pop_cold=0.0))
    model.fit(users, movies, scores)
    recs = model.recommend(999, n=10, min_support=0)
    kinds = {KINDS[k] for k in model.reasons(999, [r.movie_id for r in recs], 1e9).kind}
    assert "enjoy" in kinds
    # a member the model does not know is served the baselines' list: "highly rated"
    assert [KINDS[k] for k in model.reasons(42, [recs[0].movie_id]).kind] == ["rated"]
