"""Memory of the big-fit path (issue 24 item 5: <= 60 bytes a rating at 2x10^7 ratings).

The item-item model and its evidence held the fit's memory peak (88 bytes a rating at 2x10^6
ratings, ``benchmarks/scale.py --breakdown``): int64 copies of every pair, a COO matrix of all
ratings, a float64 uniform per rating. With the pairs ``CFModel.fit`` hands over (distinct,
sorted by movie, int32) they now build only the selected movies' rows and the sampled
members' rows, with the same results. Allocation sizes are counted (tracemalloc), not timed.
"""

from __future__ import annotations

import tracemalloc

import numpy as np

from recommender.implicit import ItemItem, gram, pick_lift


def movie_sorted_pairs(n_users=3000, n_movies=2000, n=300_000, seed=0):
    """Distinct (member, movie) pairs, Zipf-like popularity, sorted by movie then member."""
    rng = np.random.default_rng(seed)
    users = rng.integers(0, n_users, n)
    movies = np.minimum(rng.zipf(1.2, n) - 1, n_movies - 1)
    code = np.unique(movies.astype(np.int64) * n_users + users)
    return (code % n_users).astype(np.int32), (code // n_users).astype(np.int32), n_users, n_movies


def traced_peak(fn):
    tracemalloc.start()
    try:
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def test_the_gram_of_sorted_pairs_equals_the_general_one():
    users, movies, nu, nm = movie_sorted_pairs(n=50_000)
    sel = np.array([0, 1, 2, 5, 40, 300])
    sorted_path = gram(users, movies, nu, sel, nm, distinct=True)
    general = gram(users.astype(np.int64), movies.astype(np.int64), nu, sel, nm)
    np.testing.assert_array_equal(sorted_path, general)
    drop = np.arange(0, users.size, 7)
    keep = np.ones(users.size, dtype=bool)
    keep[drop] = False
    np.testing.assert_array_equal(gram(users, movies, nu, sel, nm, distinct=True, drop=drop),
                                  gram(users[keep], movies[keep], nu, sel, nm))


def test_item_item_and_its_evidence_stay_small_per_rating():
    users, movies, nu, nm = movie_sorted_pairs()
    n = users.size
    ii, peak = traced_peak(lambda: ItemItem.fit(users, movies, nu, nm, lam=400.0,
                                                max_items=300, topk=50, distinct=True))
    fixed = 2 * 300 * 300 * 4 + 4 * 300 * 50 * 12  # the dense gram/inverse and top-k rows
    assert (peak - fixed) / n < 14  # 10.7; was 20.5 (int64 positions, a COO of the pairs)
    assert ii.W.nnz > 0
    lift, peak = traced_peak(lambda: pick_lift(users, movies, nu, nm, lam=400.0,
                                               max_items=300, topk=50))
    assert lift is not None and lift > 0
    assert (peak - fixed) / n < 20  # 15.5; was 58.7 (int64 copies, a uniform per rating)


def test_the_evidence_does_not_depend_on_how_the_pairs_were_held_out():
    """Holding ratings out by position (``drop``) gives the EASE of the copies it replaced."""
    users, movies, nu, nm = movie_sorted_pairs(n=60_000)
    drop = np.arange(3, users.size, 11)
    keep = np.ones(users.size, dtype=bool)
    keep[drop] = False
    a = ItemItem.fit(users, movies, nu, nm, lam=400.0, max_items=200, topk=30, distinct=True,
                     drop=drop)
    b = ItemItem.fit(users[keep], movies[keep], nu, nm, lam=400.0, max_items=200, topk=30,
                     distinct=True)
    assert (a.W != b.W).nnz == 0 and (a.co != b.co).nnz == 0
    np.testing.assert_array_equal(a.counts, b.counts)
    shuffled = np.random.default_rng(1).permutation(users.size)  # unsorted: the copying path
    c = ItemItem.fit(users[shuffled], movies[shuffled], nu, nm, lam=400.0, max_items=200,
                     topk=30, distinct=True, drop=np.flatnonzero(~keep[shuffled]))
    assert abs(c.W - b.W).max() < 1e-5


def test_training_holds_no_residual_copy_and_no_movie_column():
    """While CG runs, the fit holds the member column, the ratings and one error buffer (4
    bytes a rating each): the targets are the ratings minus the movie means added inside the
    objective (no residual array), and the movie column is handed to training and rebuilt
    from the counts after (issue 24 item 5). Counted with tracemalloc when CG starts."""
    import recommender.train as train
    from recommender import CFModel, ModelConfig

    users, movies, _, _ = movie_sorted_pairs(n_users=4000, n_movies=1500, n=400_000, seed=2)
    n = users.size
    users = users.astype(np.int64) + 10**17
    movies = movies.astype(np.int64)
    scores = (np.random.default_rng(0).integers(1, 11, n)).astype(np.float32)
    seen: dict[str, int] = {}
    real = train._minimise

    def watching(*args, **kwargs):
        seen["live"] = tracemalloc.get_traced_memory()[0]
        return real(*args, **kwargs)

    train._minimise = watching
    tracemalloc.start()
    try:
        model = CFModel(ModelConfig(features=4, max_iterations=3))
        model.fit(users, movies, scores, rank_model=False)
    finally:
        tracemalloc.stop()
        train._minimise = real
    assert model.report.n_ratings == n
    # ui, the ratings, the error buffer: 12 bytes a rating, plus per-member and per-movie
    # arrays and the chunk buffers (~9 here): 20.9; was 31.2 (a residual copy, the movie
    # column, int64 positions)
    assert seen["live"] / n < 24
