"""Evaluation CLI (both file formats, k-fold), ranking metrics, and ml-latest-small if present."""

import json
from pathlib import Path

import numpy as np
import pytest

from recommender import ModelConfig
from recommender.data import kfold, load_ratings
from recommender.evaluate import evaluate_split, main
from recommender.metrics import ranking_metrics

ML_SMALL = Path(__file__).resolve().parents[3] / "shared/data/ml-latest-small/ratings.csv"
KEYS = {"rmse", "mae", "precision_at_10", "ndcg_at_10", "fit_seconds", "n_train", "n_test"}


def _rows(seed=0, n_users=40, n_movies=30):
    rng = np.random.default_rng(seed)
    U, V = rng.normal(0, 0.7, (n_users, 2)), rng.normal(0, 0.7, (n_movies, 2))
    raw = 3.3 + U @ V.T + rng.normal(0, 0.3, (n_users, n_movies))
    u, m = np.nonzero(rng.random((n_users, n_movies)) < 0.5)
    return [(a + 1, b + 1, float(np.clip(np.round(raw[a, b]), 1, 5)), 880000000 + i)
            for i, (a, b) in enumerate(zip(u, m, strict=True))]


def _last_json(capsys):
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) >= 2  # human-readable lines first
    return json.loads(out[-1])


def test_cli_ml100k_train_test(tmp_path, capsys):
    rows = _rows()
    train, test = rows[::5] + rows[1::5] + rows[2::5] + rows[3::5], rows[4::5]
    for name, part in (("u1.base", train), ("u1.test", test)):
        (tmp_path / name).write_text("".join(f"{u}\t{m}\t{int(r)}\t{t}\n" for u, m, r, t in part))
    assert main(["--train", str(tmp_path / "u1.base"), "--test", str(tmp_path / "u1.test"),
                 "--format", "ml-100k", "--features", "3", "--reg", "2", "--maxiter", "30"]) == 0
    res = _last_json(capsys)
    assert res.keys() >= KEYS
    assert res["n_train"] == len(train) and res["n_test"] == len(test)
    assert 0 < res["rmse"] < 1.2 and 0 < res["mae"] <= res["rmse"]
    assert 0 <= res["precision_at_10"] <= 1 and 0 <= res["ndcg_at_10"] <= 1


def test_cli_movielens_csv_folds(tmp_path, capsys):
    path = tmp_path / "ratings.csv"
    path.write_text("userId,movieId,rating,timestamp\n"
                    + "".join(f"{u},{m},{r / 2 + 2:.1f},{t}\n" for u, m, r, t in _rows(1)))
    assert main(["--data", str(path), "--folds", "3", "--maxiter", "10"]) == 0
    res = _last_json(capsys)
    assert res.keys() >= KEYS and res["folds"] == 3 and res["format"] == "movielens-csv"
    assert res["n_train"] + res["n_test"] == len(_rows(1))


def test_kfold_partitions_every_rating_once():
    folds = kfold(103, 5, seed=1)
    tests = np.concatenate([te for _, te in folds])
    assert sorted(tests.tolist()) == list(range(103))
    assert all(np.intersect1d(tr, te).size == 0 and tr.size + te.size == 103 for tr, te in folds)
    assert [te.tolist() for _, te in folds] == [te.tolist() for _, te in kfold(103, 5, seed=1)]


def test_ranking_metrics_hand_computed():
    items = np.array([10, 20, 30, 40])
    scores = {1: [4.0, 3.0, 2.0, 1.0], 2: [1.0, 2.0, 3.0, 4.0]}
    train = (np.array([1]), np.array([10]))  # member 1 saw 10: rank 20, 30, 40
    test = (np.array([1, 1, 2, 2]), np.array([30, 20, 40, 10]), np.array([5.0, 2.0, 4.0, 4.5]))
    res = ranking_metrics(items, lambda us: np.array([scores[u] for u in us]), train, test,
                          threshold=4.0, k=2)
    # member 1: top-2 = [20, 30], relevant {30} -> P=0.5, DCG=1/log2(3), IDCG=1
    # member 2: top-2 = [40, 30], relevant {40, 10} -> P=0.5, DCG=1, IDCG=1+1/log2(3)
    assert res["precision_at_2"] == pytest.approx(0.5)
    expected = (1 / np.log2(3) + 1 / (1 + 1 / np.log2(3))) / 2
    assert res["ndcg_at_2"] == pytest.approx(expected)


@pytest.mark.skipif(not ML_SMALL.exists(), reason="ml-latest-small not available")
def test_ml_latest_small_one_fold():
    from threadpoolctl import threadpool_limits

    data = load_ratings(ML_SMALL)
    tr, te = kfold(len(data), 5, seed=0)[0]
    with threadpool_limits(limits=1):  # as the bot fits; oversubscribed BLAS threads crawl
        res = evaluate_split(data.take(tr), data.take(te), ModelConfig(scale=(0.5, 5.0)))
    # Surprise SVD scores ~0.87 RMSE and ~0.05 precision@10 on these folds; MostPop ~0.118
    assert res["rmse"] < 0.86
    assert res["precision_at_10"] > 1.5 * 0.118


def test_cli_prior_file_and_folder(tmp_path, capsys):
    from recommender.prior import build_prior

    rows = _rows(2, n_users=60, n_movies=40)
    folder = tmp_path / "ml"
    folder.mkdir()
    (folder / "ratings.csv").write_text(
        "userId,movieId,rating,timestamp\n"
        + "".join(f"{u},{m},{r / 2 + 2:.1f},{t}\n" for u, m, r, t in rows))
    (folder / "movies.csv").write_text("movieId,title,genres\n" + "".join(
        f"{m},Film Number {m} ({1950 + m}),{'Drama' if m % 2 else 'Comedy|Crime'}\n"
        for m in range(1, 41)))
    u = np.array([r[0] for r in rows])
    m = np.array([r[1] for r in rows])
    s = np.array([r[2] / 2 + 2 for r in rows])
    prior_file = tmp_path / "prior.npz"
    prior_file.write_bytes(build_prior(u + 1000, m, s, features=3).to_bytes())
    args = ["--data", str(folder / "ratings.csv"), "--folds", "2", "--features", "3"]
    assert main([*args, "--prior", str(prior_file), "--prior-movies", str(folder)]) == 0
    with_file = _last_json(capsys)
    assert main([*args, "--prior", str(folder), "--tune-reg"]) == 0
    with_folder = _last_json(capsys)
    for res in (with_file, with_folder):
        assert res.keys() >= KEYS and 0 < res["rmse"] < 1.5


def test_split_prior_leaves_test_pairs_out():
    from recommender.data import Ratings
    from recommender.evaluate import split_prior

    u = np.repeat(np.arange(30), 6)
    m = np.tile(np.arange(6), 30)
    s = np.where(m < 3, 4.5, 1.5).astype(float)
    test = Ratings(np.array([0, 1]), np.array([5, 5]), np.array([1.5, 1.5]))
    gp = split_prior((u, m, s), test)
    # movie 5 lost two of its 30 ratings: the prior saw 28
    assert gp.counts[gp.lookup([5])[0]] == 28 and gp.counts[gp.lookup([4])[0]] == 30


def _ml100k_and_prior(tmp_path):
    """An ML-100K-style folder whose item ids differ from the MovieLens-style prior's keys:
    item i is the prior's movie 100 + 7 * i (same title and year)."""
    films = [(i, f"Picture {chr(65 + i)} ({1960 + i})") for i in range(1, 13)]
    ml = tmp_path / "ml-latest"
    ml.mkdir()
    (ml / "movies.csv").write_text("movieId,title,genres\n" + "".join(
        f"{100 + 7 * i},{title},Drama\n" for i, title in films))
    rng = np.random.default_rng(4)
    lines = ["userId,movieId,rating,timestamp"]
    for user in range(1, 81):
        for i, _ in films:
            if rng.random() < 0.6:
                liked = (user % 2) == (i % 2)
                lines.append(f"{user},{100 + 7 * i},{4.5 if liked else 1.5},0")
    (ml / "ratings.csv").write_text("\n".join(lines) + "\n")
    k = tmp_path / "ml-100k"
    k.mkdir()
    flags = "|".join(["0"] * 8 + ["1"] + ["0"] * 10)  # Drama
    (k / "u.item").write_text("".join(
        f"{i}|{title}|01-Jan-{1960 + i}||http://x|{flags}\n" for i, title in films))
    rows = [(u, i, 5 if (u % 2) == (i % 2) else 1) for u in range(1, 31) for i, _ in films
            if (u * 7 + i) % 3]
    (k / "u.data").write_text("".join(f"{u}\t{i}\t{r}\t0\n" for u, i, r in rows))
    return k, ml


def test_prior_links_ml100k_items_by_title_not_by_number(tmp_path, capsys):
    from recommender.data import Ratings
    from recommender.evaluate import evaluated_features, prior_links, prior_source, split_prior

    k, ml = _ml100k_and_prior(tmp_path)
    ids, keys, same = prior_links(str(k / "u.data"), str(ml))
    assert not same and ids.size == 12
    assert dict(zip(ids.tolist(), keys.tolist(), strict=True)) == {
        i: 100 + 7 * i for i in range(1, 13)}
    assert "12 of 12 movies (12 by title)" in capsys.readouterr().out
    gp = split_prior(prior_source(str(ml)), Ratings(*(np.zeros(0),) * 3), (ids, keys, same))
    assert gp is not None
    np.testing.assert_array_equal(gp.movie_ids, np.arange(1, 13))
    # the prior's item 3 is "Picture C": its counts are that film's, not item 3's
    assert gp.counts[gp.lookup([3])[0]] > 0
    found = evaluated_features(str(k / "u.data"), True)
    assert found is not None and found[1].shape[0] == 12 and found[1][:, 7].all()  # Drama


def test_cli_prior_and_baselines_report_coverage_and_each_baseline(tmp_path, capsys):
    k, ml = _ml100k_and_prior(tmp_path)
    assert main(["--data", str(k / "u.data"), "--folds", "2", "--features", "3",
                 "--prior", str(ml), "--baselines"]) == 0
    res = _last_json(capsys)
    assert res.keys() >= KEYS | {"coverage_at_10", "ease_lambda"}
    for name in ("mostpop", "ease", "itemknn"):
        for key in ("precision_at_10", "ndcg_at_10", "coverage_at_10"):
            assert 0 <= res[f"{name}_{key}"] <= 1
    assert len(res["ease_lambda"]) == 2
