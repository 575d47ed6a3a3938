"""Cost and analytic gradient of the CF objective, checked against a dense reference."""

import numpy as np
import pytest

from recommender.index import RatingMatrix
from recommender.objective import Objective


def _problem(seed=0, n_movies=7, n_users=5, k=3, density=0.6):
    rng = np.random.default_rng(seed)
    mask = rng.random((n_movies, n_users)) < density
    mask[0, :] = True  # every member rated something
    mi, ui = np.nonzero(mask)
    y = rng.normal(0, 1, mi.size)
    rm = RatingMatrix(mi, ui, n_movies, n_users)
    obj = Objective(rm, rm.arrange(y), k, reg=0.7, reg_bias=0.3, dtype=np.float64)
    params = rng.normal(0, 0.5, obj.layout.size)
    return obj, params, mask, mi, ui, y


def test_cost_matches_dense_reference():
    obj, params, mask, mi, ui, y = _problem()
    X, T, bi, bu = obj.layout.unpack(params, np.float64)
    Y = np.zeros(mask.shape)
    Y[mi, ui] = y
    pred = X @ T.T + bi[:, None] + bu[None, :]
    expected = 0.5 * np.sum(((pred - Y) * mask) ** 2)
    expected += 0.5 * 0.7 * (np.sum(X**2) + np.sum(T**2))
    expected += 0.5 * 0.3 * (np.sum(bi**2) + np.sum(bu**2))
    cost, _ = obj(params)
    assert cost == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradient_matches_finite_differences(seed):
    obj, params, *_ = _problem(seed)
    _, grad = obj(params)
    eps = 1e-6
    numeric = np.empty_like(params)
    for j in range(params.size):
        step = np.zeros_like(params)
        step[j] = eps
        numeric[j] = (obj(params + step)[0] - obj(params - step)[0]) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6)


def test_float32_objective_close_to_float64():
    obj64, params, _mask, mi, ui, y = _problem(3, n_movies=30, n_users=20, k=4)
    rm32 = RatingMatrix(mi, ui, 30, 20)
    obj32 = Objective(rm32, rm32.arrange(y), 4, reg=0.7, reg_bias=0.3, dtype=np.float32)
    c64, g64 = obj64(params)
    c32, g32 = obj32(params)
    assert c32 == pytest.approx(c64, rel=1e-5)
    np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("chunk", [1, 3, 7, 1 << 14])
def test_chunked_residuals_match_dense_reference_for_any_block_size(chunk):
    """Blocks of whole movies, a movie with more ratings than the chunk, unsorted input."""
    rng = np.random.default_rng(5)
    n_movies, n_users, k = 9, 12, 3
    mask = rng.random((n_movies, n_users)) < 0.5
    mask[2, :] = True  # one movie rated by everyone: bigger than small chunks
    mi, ui = np.nonzero(mask)
    shuffle = rng.permutation(mi.size)
    mi, ui = mi[shuffle], ui[shuffle]
    y = rng.normal(0, 1, mi.size)
    rm = RatingMatrix(mi, ui, n_movies, n_users)
    assert rm.order is not None
    obj = Objective(rm, rm.arrange(y), k, reg=0.7, reg_bias=0.3, dtype=np.float64, chunk=chunk)
    params = rng.normal(0, 0.5, obj.layout.size)
    X, T, bi, bu = obj.layout.unpack(params, np.float64)
    expected = (np.einsum("ij,ij->i", X[mi], T[ui]) + bi[mi] + bu[ui] - y)[rm.order]
    np.testing.assert_allclose(obj.residuals(params), expected, rtol=1e-12, atol=1e-12)
    reference = Objective(rm, rm.arrange(y), k, reg=0.7, reg_bias=0.3, dtype=np.float64)
    cost, grad = obj(params)
    cost_ref, grad_ref = reference(params)
    assert cost == pytest.approx(cost_ref, rel=1e-12)
    np.testing.assert_allclose(grad, grad_ref, rtol=1e-10, atol=1e-12)


def test_presorted_input_is_used_without_copies():
    rng = np.random.default_rng(1)
    mask = rng.random((6, 8)) < 0.6
    mi, ui = (a.astype(np.int32) for a in np.nonzero(mask))  # row-major: sorted by movie
    rm = RatingMatrix(mi, ui, 6, 8)
    assert rm.order is None
    assert rm.user is ui
    # no reference to the movie column (implied by indptr): a fit frees it while training
    assert not any(np.shares_memory(v, mi) for v in vars(rm).values()
                   if isinstance(v, np.ndarray))
    assert np.shares_memory(rm.err_matrix(np.zeros(mi.size, np.float32)).indices, ui)


@pytest.mark.parametrize("size", [1, 3, 5, 11])
def test_member_blocks_give_the_same_cost_gradient_and_residuals(size):
    """Ratings ordered by member block (``member_block``), then movie: the same cost and
    gradient as one block, the residuals in ``block_order``; blocks of one member, blocks
    a movie's ratings span, a last block shorter than the others, members with no rating."""
    rng = np.random.default_rng(7)
    n_movies, n_users, k = 9, 13, 3
    mask = rng.random((n_movies, n_users)) < 0.5
    mask[4, :] = True
    mask[:, 6] = False  # a member with no rating
    mi, ui = np.nonzero(mask)
    shuffle = rng.permutation(mi.size)
    mi, ui = mi[shuffle], ui[shuffle]
    y = rng.normal(0, 1, mi.size)
    rm = RatingMatrix(mi, ui, n_movies, n_users)
    one = Objective(rm, rm.arrange(y), k, reg=0.7, reg_bias=0.3, dtype=np.float64,
                    member_block=0)
    blocked = Objective(rm, rm.arrange(y), k, reg=0.7, reg_bias=0.3, dtype=np.float64,
                        member_block=size, chunk=4)
    assert len(blocked.blocks) == -(-n_users // size) and len(one.blocks) == 1
    params = rng.normal(0, 0.5, one.layout.size)
    cost, grad = blocked(params)
    cost_one, grad_one = one(params)
    assert cost == pytest.approx(cost_one, rel=1e-12)
    np.testing.assert_allclose(grad, grad_one, rtol=1e-10, atol=1e-12)
    order = blocked.block_order(rm)
    assert order is not None and one.block_order(rm) is None
    np.testing.assert_allclose(blocked.residuals(params), one.residuals(params)[order],
                               rtol=1e-12, atol=1e-12)


def test_a_large_membership_is_blocked_by_default_and_a_small_one_is_not():
    """Blocks only where the members' rows outgrow a cache (``MEMBER_BLOCK_BYTES``) and the
    blocks' movie pointers stay cheap per rating (``BLOCK_POINTER_BYTES``)."""
    from recommender.objective import MEMBER_BLOCK_BYTES, member_block_size

    rng = np.random.default_rng(2)
    k = 10
    per_block = MEMBER_BLOCK_BYTES // ((k + 2) * 4)
    n_users, n_movies = 3 * per_block + 5, 50
    ui = rng.integers(0, n_users, 400_000)
    mi = rng.integers(0, n_movies, ui.size)
    rm = RatingMatrix(mi, ui, n_movies, n_users)
    assert member_block_size(rm, k, 4) == per_block
    small = RatingMatrix(mi % 7, ui % 100, 7, 100)
    assert member_block_size(small, k, 4) == 100  # one block
    sparse = RatingMatrix(mi, ui, 200_000, n_users)  # pointers would cost > 2 B a rating
    assert member_block_size(sparse, k, 4) == n_users


def test_a_fit_in_member_blocks_lands_where_one_block_does(monkeypatch):
    """The whole fit (``CFModel.fit``: CG on the objective) with members in blocks of a few
    rows gives the same model as one block (float32 sums in another order, so CG stops a
    hair apart: predictions within 0.01 on the 1-10 scale, the cost within 1e-4)."""
    import recommender.objective as objective
    from recommender import CFModel, ModelConfig

    rng = np.random.default_rng(3)
    users = rng.integers(0, 60, 1_500)
    movies = rng.integers(0, 40, users.size)
    scores = rng.integers(1, 11, users.size).astype(float)
    config = ModelConfig(scale=(1.0, 10.0), features=3, reg=2.0)
    one = CFModel(config)
    one.fit(users, movies, scores)
    monkeypatch.setattr(objective, "MEMBER_BLOCK_BYTES", 5 * 4 * 7)  # 7 members a block
    monkeypatch.setattr(objective, "BLOCK_POINTER_BYTES", 1e9)
    blocked = CFModel(config)
    blocked.fit(users, movies, scores)
    grid_u, grid_m = np.meshgrid(np.arange(60), np.arange(40))
    np.testing.assert_allclose(blocked.predict(grid_u.ravel(), grid_m.ravel()),
                               one.predict(grid_u.ravel(), grid_m.ravel()), atol=1e-2)
    assert blocked.report.cost == pytest.approx(one.report.cost, rel=1e-4)
    # the patched sizes did split this guild's 60 members into blocks of 7
    rm = RatingMatrix(movies, users, 40, 60)
    assert objective.member_block_size(rm, 3, 4) == 7
