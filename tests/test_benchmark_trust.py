"""benchmarks/guilds.py's trust figures (issue 23): counted on the page the bot serves, with
MostPop's list beside it, on a tiny synthetic guild (the real run is on demand)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from recommender import CFModel, ModelConfig

ROOT = Path(__file__).resolve().parents[1]


def _guilds():
    spec = importlib.util.spec_from_file_location("bench_guilds", ROOT / "benchmarks/guilds.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_guilds"] = module
    spec.loader.exec_module(module)
    return module


def test_trust_counts_follow_the_served_page_and_mostpop():
    guilds = _guilds()
    rng = np.random.default_rng(0)
    users, movies, scores = [], [], []
    for u in range(40):
        taste = u % 2
        for m in rng.choice(60, size=20, replace=False):
            users.append(u)
            movies.append(int(m))
            scores.append(float(np.clip(round(5.5 + (3 if (m % 2) == taste else -3)
                                              + rng.normal()), 1, 10)))
    users, movies, scores = (np.array(x) for x in (users, movies, scores))
    test_mask = rng.random(users.size) < 0.2
    train = (users[~test_mask], movies[~test_mask], scores[~test_mask])
    test = (users[test_mask], movies[test_mask], scores[test_mask])
    model = CFModel(ModelConfig(features=4, reg=2.0))
    model.fit(*train)
    titles = {m: f"Movie {m} of the set" for m in range(60)}
    counts = guilds.trust_counts(model, train, test, titles)
    assert counts["shown"] == 10 * len(set(test[0].tolist()) & set(train[0].tolist()))
    assert counts["below"] <= counts["shown"] // 10 + 1  # at most one stretch per page
    assert counts["stretch"] == counts["below"]
    assert 0 <= counts["disliked"] <= counts["hits"] and len(counts["err"]) == counts["hits"]
    assert counts["mp_hits"] > 0 and counts["distinct"]
    assert all(r <= d for r, d in zip(counts["distinct_rated"], counts["distinct"],
                                      strict=True))
    assert all(p >= d for p, d in zip(counts["pool_distinct"], counts["distinct"],
                                      strict=True))
    assert 0 <= counts["standing"] <= counts["named"] <= counts["shown"]
    assert len(counts["carried"]) == 10 * len(counts["distinct"])
    line = guilds.trust_summary([counts, counts])
    assert "below avg" in line and "5-star hits" in line and "MAE" in line
    assert "picks by reason: " in line and "pools with < 6" in line


def test_overrides_read_bools_as_words_and_refuse_unknown_keys():
    """`--set enjoy_without_prior=False` means off (``bool("False")`` is True)."""
    guilds = _guilds()
    assert guilds.parse_overrides(["enjoy_without_prior=False"]) == {"enjoy_without_prior": False}
    assert guilds.parse_overrides(["enjoy_without_prior=true", "taste_reg=inf"]) == {
        "enjoy_without_prior": True, "taste_reg": float("inf")}
    for bad in (["enjoy_without_prior=maybe"], ["no_such_knob=1"], ["taste_reg"]):
        with pytest.raises(SystemExit):
            guilds.parse_overrides(bad)
