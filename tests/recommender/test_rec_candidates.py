"""Candidates from the taste prior and the evidence weights of the ranking blend (issue 23,
items 1-2): every movie the prior knows is a candidate, scored through the prior's factors and
item-item weights; the prior's weight shrinks where the guild's own data says enough, and a
member with few ratings leans on what the guild watches."""

from __future__ import annotations

import numpy as np
import pytest

from recommender import CFModel, ModelConfig
from recommender.prior import build_prior

K = 3
OFFSET = 100_000  # catalog id = prior key + OFFSET


@pytest.fixture(scope="module")
def prior():
    """A small public dataset with genre-like blocks: members of taste t rate (and like) the
    movies of block t; keys 0-59, three blocks of 20 movies."""
    rng = np.random.default_rng(0)
    users, movies, scores = [], [], []
    for u in range(240):
        t = u % 3
        block = np.arange(20) + 20 * t
        seen = rng.choice(block, 12, replace=False)
        other = rng.choice(np.setdiff1d(np.arange(60), block), 2, replace=False)
        for m in seen:
            users.append(u)
            movies.append(m)
            scores.append(4.5 if m % 20 < 15 else 4.0)
        for m in other:
            users.append(u)
            movies.append(m)
            scores.append(1.5)
    p = build_prior(np.array(users), np.array(movies), np.array(scores, dtype=float),
                    features=K, reg=2.0, max_iterations=60)
    return p.for_movies(p.keys + OFFSET, p.keys)


def small_guild():
    """Two members who rated a few block-0 movies (keys 0-4): movies 5-59 nobody rated."""
    users = np.array([1, 1, 1, 2, 2, 2])
    movies = np.array([0, 1, 2, 2, 3, 4]) + OFFSET
    scores = np.array([9.0, 8, 9, 8, 9, 9])
    return users, movies, scores


def test_every_prior_movie_is_a_candidate_scored_by_the_prior(prior):
    model = CFModel(ModelConfig())
    model.fit(*small_guild(), prior=prior)
    np.testing.assert_array_equal(model.movies.ids, prior.movie_ids)
    unrated = model.support_counts == 0
    assert unrated.sum() == 55
    # a prior-only movie sits where the prior puts it: its factors and baseline
    rows = prior.lookup(model.movies.ids[unrated])
    np.testing.assert_allclose(model.X[unrated], prior.factors[rows], atol=1e-6)
    np.testing.assert_allclose(model.bi[unrated], 0.0)
    np.testing.assert_allclose(model.means[unrated],
                               model.global_mean + prior.offsets[rows], atol=1e-5)
    # the first member's picks: block-0 movies nobody in the guild rated, marked by support 0
    recs = model.recommend(1, n=5)
    assert len(recs) == 5
    assert all(r.support == 0 for r in recs if r.movie_id - OFFSET >= 5)
    assert sum((r.movie_id - OFFSET) < 20 for r in recs) >= 4
    assert not {r.movie_id for r in recs} & {OFFSET, OFFSET + 1, OFFSET + 2}


def test_first_rating_gives_personal_picks_from_the_prior(prior):
    """A brand-new guild: one member, one rating. The picks follow that rating's taste block
    (not the same list as for a member who loved another block)."""
    model = CFModel(ModelConfig())
    model.fit([7], [OFFSET + 45], [10.0], prior=prior)  # block 2
    recs = model.recommend(7, n=5)
    assert len(recs) == 5 and all(r.support == 0 for r in recs)
    # one rating of 10 is no "own average" yet: nothing below it counts as a stretch
    assert not any(r.stretch for r in recs)
    assert sum(40 <= r.movie_id - OFFSET < 60 for r in recs) >= 4
    model.fold_in(8, [OFFSET + 5], [10.0])  # a second newcomer who loved a block-0 movie
    recs8 = model.recommend(8, n=5)
    assert sum((r.movie_id - OFFSET) < 20 for r in recs8) >= 4
    # a group of newcomers gets movies none of them rated
    group = model.recommend_group([7, 8], n=4)
    assert len(group) == 4
    assert not {r.movie_id for r in group} & {OFFSET + 45, OFFSET + 5}


def test_prior_candidates_off_keeps_the_guilds_movies(prior):
    model = CFModel(ModelConfig(prior_candidates=False))
    model.fit(*small_guild(), prior=prior)
    np.testing.assert_array_equal(model.movies.ids, OFFSET + np.arange(5))


def test_similar_reaches_movies_nobody_in_the_guild_rated(prior):
    model = CFModel(ModelConfig())
    model.fit(*small_guild(), prior=prior)
    near = model.similar(OFFSET + 30, n=5)  # a movie nobody in the guild rated
    assert near and all(20 <= m - OFFSET < 40 for m, _ in near)


def test_top_lists_only_movies_the_guild_rated(prior):
    model = CFModel(ModelConfig())
    model.fit(*small_guild(), prior=prior)
    top = model.popular(10, rated_only=True)
    assert top and all(r.support > 0 for r in top)
    assert any(r.support == 0 for r in model.popular(10))


def test_prior_weight_shrinks_with_the_guilds_own_evidence(prior):
    model = CFModel(ModelConfig(prior_evidence=10.0, blend_prior_pick=2.0))
    users = np.repeat(np.arange(30), 2)
    movies = OFFSET + np.where(np.arange(60) % 2 == 0, 0, 1 + np.arange(60) % 4)
    model.fit(users, movies, np.full(60, 8.0), prior=prior)
    w = model.prior_weights()
    i0, i9 = model.movies.get(OFFSET), model.movies.get(OFFSET + 9)
    assert model.support_counts[i0] == 30 and model.support_counts[i9] == 0
    assert w[i9] == pytest.approx(2.0)  # nobody here rated it: the prior's full weight
    assert w[i0] == pytest.approx(2.0 * 10 / 40)
    assert np.all(np.diff(w[np.argsort(model.support_counts)]) <= 1e-12)
    fixed = CFModel(ModelConfig(prior_evidence=float("inf")))
    fixed.fit(users, movies, np.full(60, 8.0), prior=prior)
    np.testing.assert_allclose(fixed.prior_weights(), fixed.config.blend_prior_pick)
    off = CFModel(ModelConfig(prior_evidence=0.0))
    off.fit(users, movies, np.full(60, 8.0), prior=prior)
    assert "prior" not in off._blend_parts(np.array([0]))


def test_popularity_weight_fades_as_a_member_rates_more():
    rng = np.random.default_rng(3)
    users = np.repeat(np.arange(40), 8)
    pop = np.arange(30, dtype=float)[::-1] + 1
    movies = np.concatenate([rng.choice(30, 8, replace=False, p=pop / pop.sum())
                             for _ in range(40)])
    model = CFModel(ModelConfig(pop_cold=2.0, pop_cold_ratings=3.0, pop_cold_power=1.0))
    model.fit(users, movies, rng.integers(5, 11, users.size).astype(float))
    model.fold_in(100, [29], [9.0])
    model.fold_in(101, list(range(20, 29)), [9.0] * 9)
    w = model.popularity_weights(model.users.lookup([100, 101, 0]))
    assert w[0] == pytest.approx(2.0 * 3 / 4)
    assert w[1] == pytest.approx(2.0 * 3 / 12)
    assert w[0] > w[2] > w[1]
    # with one rating and a strong cold-start weight the list is the guild's most-rated
    strong = CFModel(ModelConfig(pop_cold=50.0, pop_cold_ratings=3.0, pop_cold_power=1.0))
    strong.fit(users, movies, rng.integers(5, 11, users.size).astype(float))
    strong.fold_in(100, [29], [9.0])
    counts = np.bincount(movies, minlength=30)
    most = [int(m) for m in np.argsort(-counts, kind="stable") if m != 29][:3]
    assert {r.movie_id for r in strong.recommend(100, n=3, min_support=0)} == set(most)


def test_inner_split_holds_out_a_tenth_of_each_members_ratings():
    from recommender.baselines import inner_split

    users = np.repeat(np.arange(6), [1, 2, 10, 20, 30, 5])
    movies = np.arange(users.size)
    (_, tm, _), (su, sm, _) = inner_split(users, movies, np.ones(users.size), seed=3)
    assert sorted(np.concatenate([tm, sm]).tolist()) == movies.tolist()  # a partition
    held = np.bincount(su, minlength=6)
    np.testing.assert_array_equal(held, [0, 1, 1, 2, 3, 1])  # >= 1, never a lone rating


def test_prior_weight_follows_what_the_guilds_held_out_ratings_say_of_the_prior(prior):
    """Where the held-out choice set ``prior_strength`` to 0 (the prior's baselines and places
    add nothing the guild's own ratings lack, as when it learned from those very ratings), the
    prior's item-item part keeps ``prior_pick_unhelpful`` of its weight; at strength 1 (a prior
    from other people: every guild simulation) all of it; in proportion between."""
    users = np.repeat(np.arange(30), 2)
    movies = OFFSET + np.where(np.arange(60) % 2 == 0, 0, 1 + np.arange(60) % 4)

    def weights(**kwargs) -> np.ndarray:
        model = CFModel(ModelConfig(prior_evidence=float("inf"), blend_prior_pick=2.0,
                                    **kwargs))
        model.fit(users, movies, np.full(60, 8.0), prior=prior)
        return model.prior_weights()

    np.testing.assert_allclose(weights(prior_strength=1.0), 2.0)
    share = ModelConfig().prior_pick_unhelpful
    np.testing.assert_allclose(weights(prior_strength=0.0), 2.0 * share)
    np.testing.assert_allclose(weights(prior_strength=0.0, prior_pick_unhelpful=0.2), 0.4)
    np.testing.assert_allclose(weights(prior_strength=0.5, prior_pick_unhelpful=0.2), 1.2)
    np.testing.assert_allclose(weights(prior_strength=0.0, prior_pick_unhelpful=1.0), 2.0)
