"""Seen movies as a signal (issue 25 item 2): movies a member watched on a linked media account
without rating them join the item-item parts' input row with weight ``seen_weight`` (below a
rating's), shape the member's picks even when they rated nothing, and are never listed."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from recommender import CFModel, ModelConfig

ANIMATION = np.arange(1000, 1040)  # two taste blocks of 40 movies
DRAMA = np.arange(2000, 2040)
CFG = ModelConfig(features=3, reg=2.0, scale=(1.0, 10.0), maxiter=40)


def _guild(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """30 members: each watches (and rates) 20 movies of one block and 2 of the other, half
    of them in each block."""
    rng = np.random.default_rng(seed)
    users, movies, scores = [], [], []
    for member in range(1, 31):
        own, other = (ANIMATION, DRAMA) if member % 2 == 0 else (DRAMA, ANIMATION)
        for m in rng.choice(own, 20, replace=False):
            users.append(member)
            movies.append(int(m))
            scores.append(float(rng.integers(7, 11)))
        for m in rng.choice(other, 2, replace=False):
            users.append(member)
            movies.append(int(m))
            scores.append(float(rng.integers(3, 7)))
    return np.array(users), np.array(movies), np.array(scores)


def _fitted(config: ModelConfig = CFG) -> CFModel:
    model = CFModel(config)
    model.fit(*_guild())
    return model


def test_a_member_with_only_seen_movies_gets_picks_shaped_by_them() -> None:
    model = _fitted()
    newcomer = 999  # rated nothing: unknown to the model
    cold = [r.movie_id for r in model.recommend(newcomer, n=10, min_support=0)]
    assert sum(m in ANIMATION for m in cold) <= 7  # the popularity ranking: both blocks
    seen = ANIMATION[:20]  # 20 watched, none rated
    picks = [r.movie_id for r in model.recommend(newcomer, n=10, min_support=0, seen=seen)]
    assert len(picks) == 10
    assert not set(picks) & set(seen.tolist())  # never recommended back
    assert sum(m in ANIMATION for m in picks) >= 9  # the seen block's neighbours
    # the same in a group of one, and a reason names what carried the picks
    group = model.recommend_group([newcomer], n=10, min_support=0, exclude=seen, seen=[seen])
    assert sum(r.movie_id in ANIMATION for r in group) >= 9
    reasons = model.reasons(newcomer, np.array(picks), seen=seen)
    assert (reasons.movie_id == -1).all()  # a seen movie is never named like a rating
    assert {int(k) for k in reasons.kind} <= {1, 2, 3, 4}


def test_seen_movies_pull_less_than_ratings_and_add_to_a_members_ratings() -> None:
    model = _fitted()
    member = 2  # an animation member
    u = np.array([model.users.get(member)])
    pick = model.blend.pick
    rated = pick.rated_matrix(model, u)
    extra = DRAMA[:3]
    with_seen = pick.rated_matrix(model, u, [extra])
    added = (with_seen - rated).toarray()[0]
    cols = model.movies.lookup(extra)
    assert np.allclose(added[cols], CFG.seen_weight)
    assert added.sum() == CFG.seen_weight * 3  # nothing else changed
    assert 0 < CFG.seen_weight < 1  # weaker than a movie rated at the member's average
    # a rated movie given again as seen is not counted twice
    rated_ids = model.movies.ids[model._rated(int(u[0]))[0]]
    assert (pick.rated_matrix(model, u, [rated_ids]) != rated).nnz == 0
    # drama the member watched lifts drama in their ranking
    base = model.rank_scores(u, 0)[0]
    lifted = model.rank_scores(u, 0, [DRAMA[:8]])[0]
    rest = model.movies.lookup(DRAMA[8:])
    anim = model.movies.lookup(ANIMATION)
    assert (lifted[rest].mean() - lifted[anim].mean()) > (base[rest].mean() - base[anim].mean())
    listed = [r.movie_id for r in model.recommend(member, n=40, min_support=0, seen=DRAMA[:8])]
    assert not set(listed) & set(DRAMA[:8].tolist())


def test_seen_weight_zero_turns_the_signal_off() -> None:
    model = _fitted(replace(CFG, seen_weight=0.0))
    newcomer = 999
    u = np.array([-1])
    cold = model.blend.pick.rated_matrix(model, u, [ANIMATION[:5]])
    assert cold.nnz == 0
    picks = [r.movie_id for r in model.recommend(newcomer, n=10, min_support=0,
                                                 seen=ANIMATION[:5])]
    assert not set(picks) & set(ANIMATION[:5].tolist())
