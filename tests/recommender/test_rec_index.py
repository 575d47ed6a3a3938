"""Id maps and duplicate handling used by every fit: both lookup paths agree with a dict."""

import numpy as np
import pytest

from recommender.index import IdIndex, count_distinct, dedupe_last, distinct_ids, last_by_key


@pytest.mark.parametrize("ids", [
    np.array([5, 3, 9, 3, 7]),  # small range: direct table
    np.array([10**17 + 5, 10**18 - 1, 4 * 10**17, 10**17 + 5]),  # snowflakes: binary search
])
def test_lookup_matches_a_dict_for_known_and_unknown_ids(ids):
    index = IdIndex(ids)
    expected = {int(v): k for k, v in enumerate(np.unique(ids))}
    assert index.ids.tolist() == sorted(expected)
    probe = np.concatenate([ids, [0, -4, 2, 10**18, int(ids.max()) + 1]])
    got = index.lookup(probe)
    assert got.dtype == np.int64
    assert got.tolist() == [expected.get(int(v), -1) for v in probe]
    assert index.get(int(ids[0])) == expected[int(ids[0])]


def test_the_direct_table_is_used_only_for_a_dense_range():
    assert IdIndex(np.arange(1, 10_000))._table is not None
    assert IdIndex(np.array([1, 10**17]))._table is None
    assert IdIndex(np.array([-3, 5]))._table is None  # negative ids keep the binary search


def test_append_keeps_old_indexes_and_switches_path_when_the_range_grows():
    index = IdIndex(np.array([4, 2, 8]))
    assert index._table is not None
    assert index.append(10**17) == 3  # far away: back to the binary search
    assert index._table is None
    assert index.append(1) == 4  # out of sorted order: the sorter maps it back
    assert index.lookup([2, 4, 8, 10**17, 1, 3]).tolist() == [0, 1, 2, 3, 4, -1]


def test_last_by_key_keeps_the_last_of_each_key_in_key_order():
    keys = np.array([7, 3, 7, 1, 3, 7])
    assert last_by_key(keys).tolist() == [3, 4, 5]  # keys 1, 3, 7
    assert last_by_key(np.array([4, 2, 9])).tolist() == [1, 0, 2]  # all distinct
    assert last_by_key(np.zeros(0, np.int64)).tolist() == []
    assert dedupe_last(keys).tolist() == [3, 4, 5]
    assert dedupe_last(np.array([2, 2, 1])).tolist() == [1, 2]


@pytest.mark.parametrize("values", [
    np.array([7, 3, 7, 9, 3, 3]),  # small range: bincount and the direct table
    np.array([10**17 + 9, 5 * 10**17, 10**17 + 9, 2, 5 * 10**17]),  # snowflakes: one argsort
    np.array([2, 10**17 + 9, 10**17 + 9, 5 * 10**17, 5 * 10**17]),  # in order: no sort
    np.zeros(0, dtype=np.int64),
])
def test_indexed_gives_the_index_and_every_values_position(values):
    index, positions = IdIndex.indexed(values)
    assert index.ids.tolist() == sorted(set(values.tolist()))
    assert positions.dtype == np.int64
    assert positions.tolist() == index.lookup(values).tolist()
    assert index.ids[positions].tolist() == values.tolist()
    assert IdIndex(values).ids.tolist() == index.ids.tolist()


@pytest.mark.parametrize("values", [
    np.array([7, 3, 7, 9, 3, 3]),
    np.array([10**17 + 9, 5 * 10**17, 10**17 + 9, 2, 5 * 10**17]),
    np.zeros(0, dtype=np.int64),
])
def test_indexed_can_give_int32_positions(values):
    """A fit asks for int32 positions (issue 24 item 5: 4 bytes a rating, not 8 + a copy)."""
    _, positions = IdIndex.indexed(values, np.int32)
    assert positions.dtype == np.int32
    assert positions.tolist() == IdIndex.indexed(values)[1].tolist()


def test_last_by_key_packed_sort_agrees_with_the_argsort_path():
    """Keys that fit with a position in 63 bits go through one sort of packed values; keys
    that do not (negative, or too large) through the argsort: the same answer."""
    from recommender.index import _last_by_packed_key

    rng = np.random.default_rng(4)
    keys = rng.integers(0, 500, 5_000)
    expected = [int(np.flatnonzero(keys == k).max()) for k in np.unique(keys)]
    assert _last_by_packed_key(keys) is not None
    assert last_by_key(keys).tolist() == expected
    assert last_by_key(keys.astype(np.int32)).tolist() == expected
    big = keys.astype(np.int64) + (1 << 60)  # no room for a position: the argsort
    assert _last_by_packed_key(big) is None
    assert last_by_key(big).tolist() == expected
    assert _last_by_packed_key(keys - 10) is None  # negative keys: the argsort
    assert last_by_key(keys - 10).tolist() == expected
    distinct = rng.permutation(1_000)
    assert last_by_key(distinct).tolist() == np.argsort(distinct).tolist()


def test_stable_order_is_the_stable_argsort():
    from recommender.index import stable_order

    rng = np.random.default_rng(9)
    for keys in (rng.integers(0, 50, 3_000).astype(np.int32), rng.integers(0, 7, 10),
                 rng.integers(-5, 5, 100), rng.integers(0, 2**62, 100, dtype=np.int64),
                 np.zeros(0, np.int32), np.array([3])):
        np.testing.assert_array_equal(stable_order(keys), np.argsort(keys, kind="stable"))


def test_snowflakes_in_the_stores_order_are_indexed_without_a_sort(monkeypatch):
    """Both stores read a guild's ratings ordered by member id: the member column is indexed
    by one pass (issue 24 item 5: the argsort was 4.3 s of a 2x10^7 fit), the same result as
    the sorting path, and the sort is not called."""
    rng = np.random.default_rng(3)
    members = np.unique(rng.integers(10**17, 10**18, 500))
    values = np.sort(rng.choice(members, 20_000))
    shuffled = rng.permutation(values)
    index_sorted, positions_sorted = IdIndex.indexed(shuffled)

    def no_argsort(*args, **kwargs):
        raise AssertionError("argsort called on values already in order")

    monkeypatch.setattr(np, "argsort", no_argsort)
    index, positions = IdIndex.indexed(values, np.int32)
    assert positions.dtype == np.int32
    assert index.ids.tolist() == index_sorted.ids.tolist() == np.unique(values).tolist()
    assert index.ids[positions].tolist() == values.tolist()
    assert positions.tolist() == index_sorted.lookup(values).tolist()
    assert positions_sorted.tolist() == index.lookup(shuffled).tolist()


@pytest.mark.parametrize("values", [
    np.array([7, 3, 7, 9, 3, 3]),  # a small range: one bincount
    np.array([3, 3, 7, 7, 9]),
    np.array([10**17 + 9, 5 * 10**17, 10**17 + 9, 2]),  # snowflakes out of order: np.unique
    np.array([2, 10**17 + 9, 10**17 + 9, 5 * 10**17]),  # in order: one pass
    np.repeat(np.arange(3 * 10**17, 3 * 10**17 + 3 * 10**6, 1000), 400),  # over a chunk
    np.array([5]),
    np.zeros(0, dtype=np.int64),
])
def test_distinct_ids_and_their_count_agree_with_numpy(values):
    assert distinct_ids(values).tolist() == np.unique(values).tolist()
    assert count_distinct(values) == np.unique(values).size
