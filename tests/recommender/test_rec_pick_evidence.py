"""The guild's "will pick" part counts as much as it beats chance (issue 23: a blend weighted
by evidence): members who rate at random get the rating model's order; members whose choices
follow their taste keep the full weight. The measured weight survives a save and load."""

import numpy as np

from recommender import CFModel, ModelConfig
from recommender.implicit import pick_lift

CFG = ModelConfig(features=4, reg=2.0)


def _guild(structured: bool, seed: int = 0):
    """40 members x 120 movies, 30 ratings each; with structure, members of one of four
    groups choose mostly among their group's 30 movies; else uniformly at random."""
    rng = np.random.default_rng(seed)
    users, movies, scores = [], [], []
    for u in range(40):
        group = u % 4
        if structured:
            own = np.arange(group * 30, group * 30 + 30)
            rest = np.setdiff1d(np.arange(120), own)
            chosen = np.concatenate([rng.choice(own, 24, replace=False),
                                     rng.choice(rest, 6, replace=False)])
        else:
            chosen = rng.choice(120, 30, replace=False)
        for m in chosen:
            users.append(u)
            movies.append(int(m))
            scores.append(float(rng.integers(1, 11)))
    return np.array(users), np.array(movies), np.array(scores)


def test_lift_is_about_one_at_random_and_far_above_with_taste():
    for structured, low, high in ((False, 0.0, 1.6), (True, 2.5, 100.0)):
        users, movies, _ = _guild(structured)
        lift = pick_lift(users, movies, 40, 120, lam=400, max_items=1000, topk=100)
        assert lift is not None and low <= lift <= high, (structured, lift)
    # too few ratings to hold out: no verdict
    assert pick_lift(np.array([0, 1]), np.array([0, 1]), 2, 2, lam=400, max_items=10,
                     topk=5) is None


def test_the_pick_part_weight_follows_the_evidence_and_is_saved():
    random_model = CFModel(CFG)
    random_model.fit(*_guild(False))
    taste_model = CFModel(CFG)
    taste_model.fit(*_guild(True))
    assert random_model.pick_evidence < 0.5
    assert taste_model.pick_evidence == 1.0
    u = random_model.users.get(0)
    parts = random_model._blend_parts(np.array([u]))
    assert parts.get("pick", (0.0, None))[0] == CFG.blend_pick * random_model.pick_evidence
    back = CFModel.from_bytes(random_model.to_bytes())
    assert back.pick_evidence == random_model.pick_evidence
    off = CFModel(ModelConfig(features=4, reg=2.0, pick_lift_full=0.0))
    off.fit(*_guild(False))
    assert off.pick_evidence == 1.0


def test_the_evidence_reuses_the_guild_eases_co_rating_counts(monkeypatch):
    """The EASE that measures the evidence takes its co-rating counts from the guild's own
    EASE minus the held-out ratings' share (issue 24 item 5: one pass over every rating
    less): the same lift to the last bit, one gram product per fit instead of two."""
    import recommender.implicit as implicit

    rng = np.random.default_rng(5)
    nu, nm, n = 500, 3000, 40_000
    code = np.unique(rng.integers(0, nm, n) * nu + rng.integers(0, nu, n))
    # zipf-like: a few movies rated by many
    movies = (code // nu % nm).astype(np.int32)
    users = (code % nu).astype(np.int32)
    alone = pick_lift(users, movies, nu, nm, lam=400, max_items=500, topk=100)
    calls = []
    real_gram = implicit.gram
    monkeypatch.setattr(implicit, "gram", lambda *a, **k: calls.append(1) or real_gram(*a, **k))
    sample = implicit.LiftSample.draw(users, nu)
    share = implicit.GramShare(sample.selection(movies, nm, 500))
    implicit.ItemItem.fit(users, movies, nu, nm, lam=400, max_items=2000, topk=100,
                          distinct=True, share=share)
    assert share.block is not None and len(calls) == 1
    shared = pick_lift(users, movies, nu, nm, lam=400, max_items=500, topk=100,
                       sample=sample, share=share)
    assert len(calls) == 1  # no second pass over the ratings
    assert shared == alone
    # the whole fit: one gram product, the same evidence as measured alone
    users_ids, movie_ids, scores = _guild(True)
    calls.clear()
    model = CFModel(CFG)
    model.fit(users_ids, movie_ids, scores)
    assert len(calls) == 1
    ui = model.users.lookup(users_ids).astype(np.int32)
    mi = model.movies.lookup(movie_ids).astype(np.int32)
    order = np.lexsort((ui, mi))
    lift = pick_lift(ui[order], mi[order], len(model.users), len(model.movies), lam=CFG.ease_lambda,
                     max_items=min(CFG.ease_items, CFG.pick_lift_items), topk=CFG.ease_topk,
                     seed=CFG.seed)
    expected = float(np.clip((lift - 1.0) / (CFG.pick_lift_full - 1.0), 0.0, 1.0))
    assert model.pick_evidence == expected


def test_a_block_outside_the_guild_ease_falls_back_to_its_own_pass():
    """Movies the guild's EASE did not solve for: no block, and the evidence's EASE counts
    its own co-ratings (the same lift)."""
    from recommender.implicit import GramShare, ItemItem, LiftSample

    users, movies, _ = _guild(True)
    users, movies = users.astype(np.int32), movies.astype(np.int32)
    order = np.lexsort((users, movies))
    users, movies = users[order], movies[order]
    sample = LiftSample.draw(users, 40)
    share = GramShare(sample.selection(movies, 120, 100))
    ItemItem.fit(users, movies, 40, 120, lam=400, max_items=50, topk=100, distinct=True,
                 share=share)
    assert share.block is None
    assert (pick_lift(users, movies, 40, 120, lam=400, max_items=100, topk=100,
                      sample=sample, share=share)
            == pick_lift(users, movies, 40, 120, lam=400, max_items=100, topk=100))
