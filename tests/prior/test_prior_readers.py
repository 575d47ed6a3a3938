"""Reading MovieLens folders and zips for the prior: layouts, blocks, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from prior_dataset import ratings_csv, ratings_rows, write_folder, write_zip

from bot.prior.readers import PriorSourceError, open_dataset, read_movies, read_ratings

DATA = Path("/work/shared/data/ml-latest-small")


def expected_columns(rows):
    users = np.array([r[0] for r in rows], dtype=np.int64)
    movies = np.array([r[1] for r in rows], dtype=np.int64)
    scores = np.array([r[2] for r in rows], dtype=np.float32)
    return users, movies, scores


@pytest.mark.parametrize("kind", ["folder", "zip"])
@pytest.mark.parametrize("block_bytes", [64, 1 << 24])  # many blocks (cut mid-line) or one
def test_ratings_match_the_file_whatever_the_block_size(tmp_path, kind, block_bytes):
    path = write_folder(tmp_path) if kind == "folder" else write_zip(tmp_path)
    dataset = open_dataset(path)
    assert (dataset.name, dataset.kind) == ("ml-test", "movielens")
    seen: list[int] = []
    ratings = read_ratings(dataset, seen.append, block_bytes=block_bytes)
    users, movies, scores = expected_columns(ratings_rows())
    np.testing.assert_array_equal(ratings.user_keys, users)
    np.testing.assert_array_equal(ratings.movie_keys, movies)
    np.testing.assert_array_equal(ratings.scores, scores)  # stars, as in the file
    assert ratings.user_keys.dtype == np.int64 and ratings.scores.dtype == np.float32
    assert seen[-1] == dataset.size("ratings.csv")
    assert seen == sorted(seen)
    if block_bytes == 64:
        assert len(seen) > 10


def test_files_come_from_one_folder(tmp_path):
    (tmp_path / "movies.csv").write_text("movieId,title,genres\n")  # a stray, no ratings
    write_folder(tmp_path, "ml-b")
    write_folder(tmp_path, "ml-a")
    (tmp_path / "ml-a" / "ratings.csv").unlink()  # incomplete: skipped
    dataset = open_dataset(tmp_path)
    assert dataset.name == "ml-b"
    assert {Path(p).parent.name for p in dataset.members.values()} == {"ml-b"}


def test_a_file_of_the_dataset_means_its_folder(tmp_path):
    folder = write_folder(tmp_path)
    assert open_dataset(folder / "ratings.csv").location == folder


def test_crlf_and_out_of_range_stars(tmp_path):
    folder = write_folder(tmp_path)
    rows = [(1, 1, 4.5, 1), (1, 2, 0.0, 2), (2, 1, 7.0, 3), (2, 2, 0.5, 4)]
    (folder / "ratings.csv").write_text(ratings_csv(rows, newline="\r\n"))
    ratings = read_ratings(open_dataset(folder), block_bytes=16)
    assert ratings.scores.tolist() == [4.5, 0.5]
    assert ratings.skipped == 2


def test_ml100k_layout(tmp_path):
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    (folder / "u.data").write_text("196\t242\t3\t881250949\n186\t302\t3\t891717742\n")
    flags = "|0" * 19
    (folder / "u.item").write_bytes(
        ("242|Kolya (1996)|24-Jan-1997||http://x" + flags + "\n"
         "302|L.A. Confidential (1997)|01-Jan-1997||http://x" + flags + "\n"
         "267|unknown||||" + "|0" * 18 + "0\n"
         "303|Ulee's Gold|01-Jan-1997||http://x" + flags + "\n").encode("latin-1"))
    dataset = open_dataset(folder)
    assert dataset.kind == "ml-100k"
    ratings = read_ratings(dataset)
    assert ratings.movie_keys.tolist() == [242, 302]
    assert ratings.scores.tolist() == [3.0, 3.0]
    movies = {m.key: m for m in read_movies(dataset)}
    assert set(movies) == {242, 302, 303}
    assert movies[303].year == 1997  # from the release date


@pytest.mark.parametrize(("setup", "message"), [
    (lambda p: p / "missing", "does not exist"),
    (lambda p: (p / "x.txt").write_text("hello") and p / "x.txt", "neither a folder nor a zip"),
    (lambda p: p, "has no MovieLens ratings"),
])
def test_not_a_dataset_is_one_clear_error(tmp_path, setup, message):
    with pytest.raises(PriorSourceError, match=message):
        open_dataset(setup(tmp_path))


def test_garbage_in_ratings_is_a_clear_error(tmp_path):
    folder = write_folder(tmp_path)
    (folder / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,two,3.0,4\n")
    with pytest.raises(PriorSourceError, match="not a ratings file"):
        read_ratings(open_dataset(folder))


@pytest.mark.skipif(not (DATA / "ratings.csv").exists(), reason="ml-latest-small is absent")
def test_ml_latest_small_reads_every_rating():
    dataset = open_dataset(DATA)
    ratings = read_ratings(dataset)
    assert len(ratings) == 100836 and ratings.skipped == 0
    assert float(ratings.scores.min()) == 0.5 and float(ratings.scores.max()) == 5.0
    assert len(read_movies(dataset)) == 9742
