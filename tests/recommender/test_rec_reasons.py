"""Reasons (issue 23 item 4): each pick names the member's own rating that contributes most to
it in the ranking blend, only a movie rated at or above their average; without such support
the pick says which part of the blend carried it. Stretch picks (item 3) are marked."""

from dataclasses import replace

import numpy as np
import pytest

from recommender import CFModel
from recommender.implicit import zscore_rows
from recommender.reasons import KINDS, contributions, pick_reasons
from tests.recommender.test_rec_model import CFG, fitted


def _member(model, users, movies, scores):
    member = users[0]
    mine = dict(zip(movies[users == member].tolist(), scores[users == member].tolist(),
                    strict=True))
    # a fold-in makes the member's row exactly the ridge solve the decomposition uses
    model.fold_in(member, list(mine), list(mine.values()))
    return member, mine


def test_contributions_decompose_each_part_of_the_blend_exactly():
    model, _, data = fitted()
    member, _ = _member(model, *data)
    u = model.users.get(member)
    targets = np.arange(len(model.movies))
    cfg = model.config
    # the "will pick" part alone: the rated movies' contributions sum to its z-score
    model.config = replace(cfg, blend_enjoy=0.0)
    _, _, C, parts = contributions(model, u, targets)
    np.testing.assert_allclose(C.sum(axis=0), parts["pick"], rtol=1e-4, atol=1e-6)
    # the rating model alone: they sum to the z-score minus the movies' own baseline; the
    # part is split into that personal share ("enjoy") and the baseline ("rated")
    model.config = replace(cfg, blend_pick=0.0)
    _, _, C, parts = contributions(model, u, targets)
    w, S = model._blend_parts(np.array([u]))["enjoy"]
    base = model.means.astype(np.float64) + model.bi
    baseline = w * (base - base.mean()) / S.std()
    np.testing.assert_allclose(C.sum(axis=0), w * zscore_rows(S)[0] - baseline, rtol=1e-3,
                               atol=1e-4)
    np.testing.assert_allclose(parts["enjoy"], C.sum(axis=0), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(parts["rated"], baseline, rtol=1e-3, atol=1e-4)
    # both parts: contributions add
    model.config = cfg
    _, _, C_both, _ = contributions(model, u, targets)
    model.config = replace(cfg, blend_enjoy=0.0)
    _, _, C_pick, _ = contributions(model, u, targets)
    model.config = replace(cfg, blend_pick=0.0)
    _, _, C_enjoy, _ = contributions(model, u, targets)
    np.testing.assert_allclose(C_both, C_pick + C_enjoy, rtol=1e-6, atol=1e-9)


def test_explain_names_the_liked_rating_contributing_most_to_each_pick():
    model, _, data = fitted()
    member, mine = _member(model, *data)
    mean = np.mean(list(mine.values()))
    u = model.users.get(member)
    recs = model.recommend(member, n=10, min_support=0)
    named = 0
    for rec in recs:
        i = model.movies.get(rec.movie_id)
        ids, _, C, _ = contributions(model, u, np.array([i]))
        out = model.explain(member, rec.movie_id, top=100)
        assert all(w > 0 for _, _, w in out)
        assert all(mine[m] == pytest.approx(r) and mine[m] >= mean for m, r, _ in out)
        assert [w for _, _, w in out] == sorted((w for _, _, w in out), reverse=True)
        liked = [(c, m) for m, c in zip(ids.tolist(), C[:, 0].tolist(), strict=True)
                 if mine[m] >= mean and c > 0]
        if liked:
            assert out[0][0] == max(liked)[1]
            assert model.explain(member, rec.movie_id, top=1)[0] == out[0]
            named += 1
    assert named  # (variety across a page is the page rules' job: tests/service)
    assert model.explain(42, recs[0].movie_id) == []


def test_pick_reasons_name_liked_ratings_or_what_carried_the_pick():
    model, _, data = fitted()
    member, mine = _member(model, *data)
    mean = np.mean(list(mine.values()))
    u = model.users.get(member)
    recs = model.recommend(member, n=15, min_support=0)
    targets = model.movies.lookup(np.array([r.movie_id for r in recs]))
    got = pick_reasons(model, u, targets, min_weight=0.1)
    named = got.movie_id >= 0
    assert named.any()
    _, _, C, _ = contributions(model, u, targets)
    together = C.sum(axis=0)
    for t in np.flatnonzero(named):
        m, r, w = got.movie_id[t], got.rating[t], got.weight[t]
        assert mine[int(m)] >= mean and r == pytest.approx(mine[int(m)])
        # strong alone, or the largest share (>= 5%) of what the ratings carry together
        assert w >= 0.1 or (together[t] >= 0.1 and w >= 0.05 * together[t]), (w, together[t])
    # a threshold nothing reaches: every pick says which blend part carried it
    none = pick_reasons(model, u, targets, min_weight=1e9)
    assert (none.movie_id == -1).all() and np.isnan(none.rating).all()
    parts = {name: model.part_weight(w) * zscore_rows(S)[0] for name, (w, S)
             in model._blend_parts(np.array([u])).items() if name in KINDS}
    # the rating model's part carries as its personal share or as the movie's baseline
    _, _, _, split = contributions(model, u, np.arange(len(model.movies)))
    parts["rated"] = parts["enjoy"] - split["enjoy"]
    parts["enjoy"] = split["enjoy"]
    def carrier(t):  # the largest part, if it is above its average at the pick
        top = max(parts, key=lambda p: parts[p][t])
        return top if parts[top][t] > 0 else "rating"  # "rating" with no movie: no reason

    for t, kind in zip(targets, none.kind, strict=True):
        assert KINDS[kind] == carrier(t)
    # every pick knows its carrier, also when a rating is named (the page may say it instead)
    assert [KINDS[k] for k in got.carrier] == [carrier(t) for t in targets]
    # movies no part lifts have no carrier, so no reason
    unlifted = np.flatnonzero(np.max(np.vstack(list(parts.values())), axis=0) <= 0)
    assert unlifted.size
    assert (pick_reasons(model, u, unlifted, min_weight=1e9).kind == 0).all()
    np.testing.assert_array_equal(got.carrier, none.carrier)
    # the public wrapper agrees, and an unknown member gets no reasons
    public = model.reasons(member, np.array([r.movie_id for r in recs]), 0.1)
    np.testing.assert_array_equal(public.movie_id, got.movie_id)
    assert (model.reasons(42, [recs[0].movie_id]).movie_id == -1).all()


def test_a_member_who_only_disliked_gets_no_disliked_reason():
    model, _, (users, movies, _) = fitted()
    member = users[0]
    rated = movies[users == member]
    low = np.full(rated.size, 1.0)
    low[0] = 2.0  # the average is ~1: only the 2 is "at or above" it
    model.fold_in(member, rated, low)
    u = model.users.get(member)
    recs = model.recommend(member, n=10, min_support=0)
    got = pick_reasons(model, u, model.movies.lookup(np.array([r.movie_id for r in recs])))
    assert set(got.movie_id[got.movie_id >= 0].tolist()) <= {int(rated[0])}


def test_picks_predicted_below_the_members_average_are_marked_stretch():
    model, _, (users, movies, scores) = fitted()
    member = users[0]
    u = model.users.get(member)
    floor = model.member_mean(u)
    recs = model.recommend(member, n=40, min_support=0)
    assert recs
    for rec in recs:
        units = rec.predicted / model.config.unit
        assert rec.stretch == (model._predict_units(np.array([u]), np.array(
            [model.movies.get(rec.movie_id)]))[0] < floor - 1e-9), (rec, units)
    assert not any(r.stretch for r in model.popular(10))
    fresh = CFModel(CFG)
    fresh.fit(users, movies, scores)
    assert fresh.member_mean(fresh.users.get(member)) == pytest.approx(
        np.mean(scores[users == member]) / CFG.unit)
