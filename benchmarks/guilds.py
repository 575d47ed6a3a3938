"""Small servers: personal picks vs popularity on guilds sampled from ml-latest-small.

    python benchmarks/guilds.py [--data DIR] [--sizes 10 30 100 200] [--draws 3] [--seed 0]
                                [--no-surprise] [--set blend_enjoy=0.5 ...]
                                [--given-n 1 3 5 10] [--given-n-size 100]
                                [--compare taste_reg=inf ...] [--no-features]

For each size, ``--draws`` guilds of that many members are sampled from the dataset. Each
member keeps 10-100 of their ratings (uniform, capped by what they have); 80% of each member's
kept ratings are the guild's (what went through /rate), 20% are held out. Ratings are doubled
onto the bot's 1-10 scale; relevant = held-out rating >= 8/10 (>= 4 of 5 stars). For each
member with a relevant held-out movie, every movie seen in the guild's training ratings that
the member did not rate is ranked (``recommender.metrics``).

The taste prior is built (``recommender.prior.build_prior``) from the ratings of the users NOT
in the guild, so nothing a guild member rated leaks into it; the guild's catalog ids are
MovieLens ids, linked to themselves.

Trust figures (what a member reads; ``--no-trust`` skips them), for ours with and without the
prior, on the first page the bot serves (ranking, reasons, page rules): the share of shown
picks predicted below the member's own average (and the share marked stretch), the share of
held-out hits rated 1-2 of 5 vs MostPop's, 5-star hits vs MostPop's, distinct "because you
rated" movies in a list of 10 (members with 6+ ratings), and shown number minus real score on
the hits (calibration: mean and MAE).

Columns: ours with the prior, ours without (both the bot's fit path, ``tuning.fit_guild``,
with the worker's genre/decade features of the movies rated in the guild unless
``--no-features``, ranked by ``CFModel.rank_scores`` like /recommend), the same two with the
``--compare`` overrides instead of ``--set``'s when given (same draws and prior: a before/after
side by side), MostPop (the guild's most-rated movies the
member has not rated), damped mean (the bot's ``popular``), Surprise SVD and KNNBaseline
(item-based, pearson_baseline). precision@10, nDCG@10, coverage@10 (share of the ranked movies
that appear in any member's top 10) and fit seconds, as mean [min-max] over the draws; the
prior's build time is listed once per size. Targets: with the prior precision@10 >= 1.8x
MostPop at every size; without >= 1.3x from 30 members up. "x MostPop" is the ratio of the
mean precisions (a 10-member draw can have MostPop at 0); "draws" is the per-draw range where
MostPop > 0. Small guilds have few relevant held-out ratings, so they get more draws
(10 members: 3x ``--draws``, 30 members: 2x).

    python benchmarks/guilds.py --prior-scaling 5e6 [--movies 30000]

builds a taste prior from that many synthetic ratings instead (long-tail member activity,
Zipf-like movie popularity; the shape of MovieLens) and prints build seconds, peak RSS and the
stored size: the check that an ml-32m-sized prior (32M ratings, 87k movies) builds on this
machine in minutes with bounded memory.

Cold start, "given n" (``--given-n``): in ``--given-n-size``-member guilds drawn the same way, a
quarter of the members (at least 2) are newcomers who keep only n random ratings in the
guild; the rest of their ratings are the test set (the others keep all of theirs). P@10 of
the newcomers' lists vs MostPop's, with and without the prior, ``--draws`` draws per n. What
a newcomer with one rating is served is the blend of ``rank_scores`` (``min_ratings_for_personal``
is 1), whose popularity part carries members with few ratings (``ModelConfig.pop_cold``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recommender import ModelConfig
from recommender.data import load_ratings
from recommender.evaluate import evaluated_features
from recommender.metrics import ranking_metrics, rmse
from recommender.prior import build_prior
from recommender.tuning import fit_guild

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared/data/ml-latest-small"
SCALE = (1.0, 10.0)
RELEVANT = 8.0


def sample_guild(users, movies, scores, size, rng):
    """(train, test) triples of one sampled guild, scores on 1-10."""
    ids = np.unique(users)
    members = rng.choice(ids, size=min(size, ids.size), replace=False)
    tr, te = [], []
    order = np.argsort(users, kind="stable")
    starts = np.searchsorted(users[order], members)
    ends = np.searchsorted(users[order], members, side="right")
    for a, b in zip(starts, ends, strict=True):
        rows = order[a:b]
        keep = rng.permutation(rows)[: min(rows.size, int(rng.integers(10, 101)))]
        n_test = max(1, round(0.2 * keep.size))
        te.append(keep[:n_test])
        tr.append(keep[n_test:])
    tr, te = np.concatenate(tr), np.concatenate(te)

    def pick(idx):
        return users[idx], movies[idx], np.clip(scores[idx] * 2.0, *SCALE)

    return members, pick(tr), pick(te)


def sample_given_n(users, movies, scores, size, n, rng, new_share=0.25):
    """Given-n cold start: a guild of ``size`` members (10-100 ratings each, all in train)
    where a ``new_share`` of them (at least 2) keep only ``n`` random ratings in train and the
    rest of theirs are the test set. (members, train, test) like ``sample_guild``."""
    ids = np.unique(users)
    members = rng.choice(ids, size=min(size, ids.size), replace=False)
    newcomers = set(rng.choice(members, size=max(2, round(new_share * members.size)),
                               replace=False).tolist())
    tr, te = [], []
    order = np.argsort(users, kind="stable")
    starts = np.searchsorted(users[order], members)
    ends = np.searchsorted(users[order], members, side="right")
    for member, a, b in zip(members, starts, ends, strict=True):
        rows = order[a:b]
        keep = rng.permutation(rows)[: min(rows.size, int(rng.integers(10, 101)))]
        if int(member) in newcomers and keep.size > n:
            tr.append(keep[:n])
            te.append(keep[n:])
        elif int(member) not in newcomers:
            tr.append(keep)
    tr, te = np.concatenate(tr), np.concatenate(te)

    def pick(idx):
        return users[idx], movies[idx], np.clip(scores[idx] * 2.0, *SCALE)

    return members, pick(tr), pick(te)


def evaluate_scorer(item_ids, score_batch, train, test) -> dict:
    r = ranking_metrics(item_ids, score_batch, (train[0], train[1]), test, RELEVANT)
    return {"p": r["precision_at_10"], "ndcg": r["ndcg_at_10"], "cov": r["coverage_at_10"]}


def surprise_scorer(name, train, seed=0, scale=SCALE):
    """Fit a Surprise model ("SVD", "SVD++", "KNN") on train triples; (item ids,
    score_batch, fit seconds). ``score_batch.algo`` is the fitted algorithm."""
    from surprise import SVD, Dataset, KNNBaseline, Reader, SVDpp

    reader = Reader(rating_scale=scale)
    raw = [(str(u), str(i), float(r), None)
           for u, i, r in zip(train[0].tolist(), train[1].tolist(), train[2].tolist(),
                              strict=True)]
    trainset = Dataset(reader).construct_trainset(raw)
    if name == "SVD":
        algo = SVD(random_state=seed)
    elif name == "SVD++":
        algo = SVDpp(random_state=seed)
    else:
        algo = KNNBaseline(sim_options={"name": "pearson_baseline", "user_based": False},
                           verbose=False)
    t0 = time.perf_counter()
    algo.fit(trainset)
    seconds = time.perf_counter() - t0
    item_raw = np.array([int(trainset.to_raw_iid(i)) for i in range(trainset.n_items)])
    order = np.argsort(item_raw)
    item_ids = item_raw[order]
    mu = trainset.global_mean
    if name == "KNN":
        bu, bi = algo.compute_baselines()
        bi = np.asarray(bi)
        sim = np.asarray(algo.sim)
        k = algo.k

    def inner_user(u):
        try:
            return trainset.to_inner_uid(str(int(u)))
        except ValueError:
            return None

    def score_batch(users):
        out = np.empty((len(users), item_ids.size))
        for row, u in enumerate(users):
            inner = inner_user(u)
            if name in ("SVD", "SVD++"):
                s = mu + np.asarray(algo.bi)
                if inner is not None:
                    pu = algo.pu[inner]
                    if name == "SVD++":
                        rated = [j for j, _ in trainset.ur[inner]]
                        pu = pu + np.asarray(algo.yj)[rated].sum(0) / np.sqrt(len(rated))
                    s = s + algo.bu[inner] + np.asarray(algo.qi) @ pu
            else:  # KNNBaseline, item-based: baseline + weighted residuals of k neighbours
                s = mu + bi + (bu[inner] if inner is not None else 0.0)
                if inner is not None and trainset.ur[inner]:
                    js = np.array([j for j, _ in trainset.ur[inner]])
                    res = np.array([r for _, r in trainset.ur[inner]]) - (mu + bu[inner] + bi[js])
                    S = sim[:, js]
                    kk = min(k, js.size)
                    top = np.argpartition(-S, kk - 1, axis=1)[:, :kk]
                    St = np.take_along_axis(S, top, axis=1)
                    St = np.where(St > 0, St, 0.0)
                    den = St.sum(axis=1)
                    num = (St * res[top]).sum(axis=1)
                    s = s + np.divide(num, den, out=np.zeros_like(num), where=den > 0)
            out[row] = s[order]
        return out

    score_batch.algo = algo
    return item_ids, score_batch, seconds


def run_guild(data, size, rng, args, overrides, given_n: int | None = None) -> dict[str, dict]:
    users, movies, scores = data
    if given_n is None:
        members, train, test = sample_guild(users, movies, scores, size, rng)
    else:
        members, train, test = sample_given_n(users, movies, scores, size, given_n, rng)
    out: dict[str, dict] = {}
    outside = ~np.isin(users, members)
    t0 = time.perf_counter()
    prior = build_prior(users[outside], movies[outside], scores[outside],
                        max_iterations=args.prior_iterations)
    prior_seconds = time.perf_counter() - t0
    gp = prior.for_movies(prior.keys, prior.keys)
    config = replace(ModelConfig(scale=SCALE), **overrides)
    runs = [("ours + prior", gp, config), ("ours (no prior)", None, config)]
    if args.compare is not None:  # the same draws and prior, another config: side by side
        before = replace(ModelConfig(scale=SCALE), **args.compare)
        runs += [("compare + prior", gp, before), ("compare (no prior)", None, before)]
    features = None
    if args.features is not None:  # as the worker: the features of the movies rated here
        ids, F = args.features
        here = np.isin(ids, train[1])
        features = (ids[here], F[here])
    for name, p, cfg in runs:
        t0 = time.perf_counter()
        model, _ = fit_guild(*train, cfg, tune_reg=True, prior=p, movie_features=features)
        seconds = time.perf_counter() - t0
        r = evaluate_scorer(model.movies.ids,
                            lambda us, m=model: m.rank_scores(m.users.lookup(us)), train, test)
        out[name] = dict(r, fit=seconds, rmse=rmse(model.predict(test[0], test[1]), test[2]))
        if args.titles is not None:  # the trust figures: what a member reads
            out[f"_trust {name}"] = trust_counts(model, train, test, args.titles,
                                                 page_rules=args.page_rules)
        if p is None and cfg is config:
            damped = evaluate_scorer(model.movies.ids,
                                     lambda us, m=model: m.rank_scores(np.full(len(us), -1)),
                                     train, test)
            out["damped mean (popular)"] = dict(damped, fit=seconds)
    items, counts = np.unique(train[1], return_counts=True)
    out["MostPop"] = dict(evaluate_scorer(
        items, lambda us: np.repeat(counts[None, :].astype(float), len(us), 0), train, test),
        fit=0.0)
    if not args.no_surprise and given_n is None:
        for name in ("SVD", "KNN"):
            item_ids, scorer, seconds = surprise_scorer(name, train, args.seed)
            out[f"surprise {'KNNBaseline' if name == 'KNN' else name}"] = dict(
                evaluate_scorer(item_ids, scorer, train, test), fit=seconds)
    out["_prior_seconds"] = {"fit": prior_seconds}
    return out


# ----------------------------------------------------------------- what a member reads
DISLIKED_AT_MOST = 4.0  # 1-2 stars of 5 on the bot's 1-10 scale
FIVE_STARS = 10.0


def movie_titles(data_dir: Path) -> dict[int, str]:
    """MovieLens id -> title without the year (franchise keys for the page rules)."""
    import csv

    path = data_dir / "movies.csv" if data_dir.is_dir() else data_dir.parent / "movies.csv"
    titles: dict[int, str] = {}
    if path.exists():
        with path.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                titles[int(row["movieId"])] = row["title"].rsplit(" (", 1)[0]
    return titles


def served_pool(model, member, rated, titles) -> tuple[list, list, list, bool]:
    """The ranked pool a /recommend page is taken from (``RecommendationService``: the ranking
    and each pick's reason): (recommendations, their ``Candidate``s, reason keys, whether the
    reason rules apply: from ``MIN_DISTINCT_REASONS`` ratings, as the service)."""
    from bot.service.service import MIN_REASON_POINTS
    from bot.service.shortlist import (
        MIN_DISTINCT_REASONS,
        Candidate,
        franchise_key,
        reason_key,
    )

    recs = model.recommend(member, n=100, exclude=np.asarray(sorted(rated), dtype=np.int64))
    ids = np.array([r.movie_id for r in recs], dtype=np.int64)
    reasons = model.reasons(member, ids, MIN_REASON_POINTS)
    keys = [reason_key(int(m), int(kd)) for m, kd in zip(reasons.movie_id, reasons.kind,
                                                         strict=True)]
    pool = [Candidate(int(r.movie_id), franchise_key(titles.get(r.movie_id, f"#{r.movie_id}")),
                      bool(r.stretch), keys[i], reason_key(-1, int(reasons.carrier[i])))
            for i, r in enumerate(recs)]
    return recs, pool, keys, len(rated) >= MIN_DISTINCT_REASONS


def served_page(model, member, rated, titles, k=10, pooled=None) -> tuple[list, object, object]:
    """The first /recommend page the bot serves (``RecommendationService``: the ranking, each
    pick's reason, then ``bot.service.shortlist.assemble_page``): (picks, their reasons, the
    reasons of the whole ranked pool the page was taken from)."""
    from bot.service.shortlist import assemble_page, page_reasons

    recs, pool, keys, vary = pooled or served_pool(model, member, rated, titles)
    chosen = assemble_page(pool, k, vary_reasons=vary)
    shown = page_reasons(pool, chosen, vary_reasons=vary)  # a movie named enough: its carrier
    return ([recs[i] for i in chosen], np.array(shown, dtype=np.int64),
            np.array(keys, dtype=np.int64))


# the page rules one at a time (--page-rules): name -> (pool change, assemble_page keywords);
# all on the same rankings, so the differences are the rules' alone. "window 0": the rules as
# before REASON_WINDOW; the plain windows (no fallback) were measured at bf86e19
PAGE_RULE_VARIANTS: dict[str, tuple[str, dict]] = {
    "before (no window)": ("", {"window": 0}),
    "no franchise rule": ("franchise", {"window": 0}),
    "no stretch limit": ("stretch", {"window": 0}),
    "no reason cap": ("", {"reason_cap": 10**6, "window": 0}),
    "no distinct minimum": ("", {"min_distinct": 0, "window": 0}),
    "no reason rules": ("", {"reason_cap": 10**6, "min_distinct": 0, "window": 0}),
    "no rules": ("franchise+stretch", {"reason_cap": 10**6, "min_distinct": 0, "window": 0}),
    "cap 3": ("", {"reason_cap": 3, "window": 0}),
    # the changed page when it still shows 6 (7) different reasons, else the page before
    "cap 3 while 6 reasons": ("adaptive 6", {"reason_cap": 3, "window": 0}),
    "window 20 while 6 reasons": ("", {"window": 20}),
    "window 30 while 7 reasons": ("adaptive 7", {"window": 30}),
    "now (window 30 while 6)": ("", {}),  # the shortlist's defaults
}


def page_rule_counts(pooled, held, k, out) -> None:
    """Add one member's counts under each ``PAGE_RULE_VARIANTS`` page: relevant held-out hits
    (4-5 of 5), shown picks, stretches shown, and distinct reasons on a full page (6+ ratings)."""
    from dataclasses import replace as dc_replace

    from bot.service.shortlist import assemble_page, page_reasons

    recs, pool, _, vary = pooled
    for name, (change, kw) in PAGE_RULE_VARIANTS.items():
        cands = pool
        if "franchise" in change:
            cands = [dc_replace(c, franchise=f"#{j}") for j, c in enumerate(cands)]
        if "stretch" in change:
            cands = [dc_replace(c, stretch=False) for c in cands]
        chosen = assemble_page(cands, k, vary_reasons=vary, **kw)
        shown = page_reasons(cands, chosen, vary_reasons=vary, reason_cap=kw.get("reason_cap"))
        if change.startswith("adaptive") and len({r for r in shown if r != -1}) < min(
                int(change.split()[1]), k):
            chosen = assemble_page(cands, k, vary_reasons=vary, window=0)
            shown = page_reasons(cands, chosen, vary_reasons=vary)
        row = out.setdefault(name, dict(relevant=0, shown=0, stretch=0, distinct=[]))
        row["shown"] += len(chosen)
        row["stretch"] += sum(bool(recs[i].stretch) for i in chosen)
        row["relevant"] += sum(held.get(recs[i].movie_id, 0) >= RELEVANT for i in chosen)
        if vary and len(chosen) >= k:
            row["distinct"].append(len({int(r) for r in shown if r != -1}))


def page_rules_summary(draws: list[dict]) -> list[str]:
    """Per variant over a size's draws: served page P@10 / MostPop's, distinct reasons."""
    mp = sum(d["mp_relevant"] for d in draws)
    lines = []
    for name in PAGE_RULE_VARIANTS:
        rows = [d["rules"][name] for d in draws]
        rel = sum(r["relevant"] for r in rows)
        shown = max(sum(r["shown"] for r in rows), 1)
        distinct = np.array([x for r in rows for x in r["distinct"]] or [0])
        lines.append(f"    {name:<22} served P@10 {rel / max(mp, 1):5.2f}x MostPop's "
                     f"({rel} relevant) | stretches {sum(r['stretch'] for r in rows) / shown:5.1%}"
                     f" | distinct reasons mean {distinct.mean():.2f}, >= 6 "
                     f"{(distinct >= 6).mean():.0%}")
    return lines


def trust_counts(model, train, test, titles, k=10, page_rules=False) -> dict:
    """The trust figures' raw counts for one guild (issue 23; recommender-anchors.md "What a
    member reads"), on the page the bot serves and on MostPop's list:

    - below: shown picks predicted below the member's own average rating (stretches included);
    - hits: shown picks the member rated in the held-out part; relevant: those rated 4-5 of
      5 (the served page's precision, over MostPop's); disliked: those rated 1-2 of 5; five:
      those rated 5 of 5 (the same for MostPop: mp_*);
    - distinct: different reasons in the list of 10 (issue 23 item 4: members with 6+ ratings
      in the guild, pages of a full 10): rated movies and the carriers named for picks no
      rating explains (``reasons.KINDS``); distinct_rated: the "because you rated" movies
      alone; carried: on those pages, how many picks each kind of reason names;
      pool_distinct: different reasons among the whole ranked pool (100) such a page is taken
      from (under 6: no page rule can show 6 true reasons); standing: picks on those pages that
      name a rating although the movie's own standing (popularity here, or its baseline: the
      parts the same for every member) adds more to the pick than all the member's ratings
      together (a true reason on a list the member's ratings barely shape);
    - err: shown number minus the held-out rating, on the hits (calibration);
    - rules (``page_rules``): the same members' pages under each ``PAGE_RULE_VARIANTS``."""
    out = dict(shown=0, below=0, stretch=0, hits=0, relevant=0, mp_relevant=0, disliked=0,
               five=0, mp_hits=0,
               mp_disliked=0, mp_five=0, distinct=[], distinct_rated=[], err=[],
               carried=[], pool_distinct=[], standing=0, named=0, rules={})
    items, counts = np.unique(train[1], return_counts=True)
    popular = items[np.lexsort((items, -counts))]
    tu, ti, ts = test
    for member in np.unique(tu):
        mine = train[0] == member
        if not mine.any() or not model.knows_user(member):
            continue
        rated = set(train[1][mine].tolist())
        mean = float(train[2][mine].mean())
        held = dict(zip(ti[tu == member].tolist(), ts[tu == member].tolist(), strict=True))
        pooled = served_pool(model, member, rated, titles)
        picks, reasons, pool = served_page(model, member, rated, titles, k, pooled)
        if page_rules:
            page_rule_counts(pooled, held, k, out["rules"])
        shown = np.array([p.predicted for p in picks])
        out["shown"] += len(picks)
        out["below"] += int((shown < mean - 1e-9).sum())
        out["stretch"] += sum(p.stretch for p in picks)
        if len(rated) >= 6 and len(picks) >= k:
            out["distinct"].append(len({int(r) for r in reasons if r != -1}))
            out["distinct_rated"].append(len({int(r) for r in reasons if r >= 0}))
            out["carried"].extend(int(r) for r in reasons)
            out["pool_distinct"].append(len({int(r) for r in pool if r != -1}))
            named, standing = rating_vs_standing(model, member, picks, reasons)
            out["named"] += named
            out["standing"] += standing
        for p in picks:
            if p.movie_id in held:
                truth = held[p.movie_id]
                out["hits"] += 1
                out["relevant"] += truth >= RELEVANT
                out["disliked"] += truth <= DISLIKED_AT_MOST
                out["five"] += truth >= FIVE_STARS
                out["err"].append(p.predicted - truth)
        mp = [int(m) for m in popular if int(m) not in rated][:k]
        for m in mp:
            if m in held:
                out["mp_hits"] += 1
                out["mp_relevant"] += held[m] >= RELEVANT
                out["mp_disliked"] += held[m] <= DISLIKED_AT_MOST
                out["mp_five"] += held[m] >= FIVE_STARS
    return out


def trust_summary(draws: list[dict]) -> str:
    """One line of the four trust figures over a size's draws (sums of the counts)."""
    tot = {key: ([x for d in draws for x in d[key]] if isinstance(draws[0][key], list)
                 else sum(d[key] for d in draws)) for key in draws[0] if key != "rules"}
    dis = tot["disliked"] / max(tot["hits"], 1)
    mp_dis = tot["mp_disliked"] / max(tot["mp_hits"], 1)
    err = np.array(tot["err"]) if tot["err"] else np.zeros(1)
    distinct = np.array(tot["distinct"]) if tot["distinct"] else np.zeros(1)
    rated = np.array(tot["distinct_rated"]) if tot["distinct_rated"] else np.zeros(1)
    pool = np.array(tot["pool_distinct"]) if tot["pool_distinct"] else np.zeros(1)
    return (f"served page P@10 {tot['relevant'] / max(tot['mp_relevant'], 1):.2f}x MostPop's | "
            f"below avg {tot['below'] / max(tot['shown'], 1):.1%} "
            f"(marked stretch {tot['stretch'] / max(tot['shown'], 1):.1%}) | "
            f"disliked hits {dis:.1%} vs MostPop {mp_dis:.1%} "
            f"({dis / mp_dis if mp_dis else float('nan'):.2f}x; {tot['disliked']}/{tot['hits']} "
            f"vs {tot['mp_disliked']}/{tot['mp_hits']}) | "
            f"5-star hits {tot['five']} vs {tot['mp_five']} "
            f"({tot['five'] / max(tot['mp_five'], 1):.2f}x) | "
            f"distinct reasons in 10: mean {distinct.mean():.1f}, share >= 6 "
            f"{(distinct >= 6).mean():.0%} (rated movies alone: mean {rated.mean():.1f}, "
            f">= 6 {(rated >= 6).mean():.0%}; picks by reason: {carried_shares(tot['carried'])}; "
            f"pools with < 6: {(pool < 6).mean():.0%}; named ratings outweighed by the movie's "
            f"standing: {tot['standing'] / max(tot['named'], 1):.0%}) | "
            f"shown - real on hits: mean {err.mean():+.2f}, MAE {np.abs(err).mean():.2f}")


def rating_vs_standing(model, member, picks, reasons) -> tuple[int, int]:
    """(picks naming a rated movie, those of them where the movie's own standing, the larger of
    the popularity part and the rating model's baseline share, adds more to the pick than the
    member's ratings all together; ``reasons.contributions``)."""
    from recommender.reasons import contributions

    u = model.users.get(member)
    targets = model.movies.lookup(np.array([p.movie_id for p in picks], dtype=np.int64))
    _, _, C, parts = contributions(model, u, targets)
    zero = np.zeros(targets.size)
    standing = np.maximum(parts.get("popularity", zero), parts.get("rated", zero))
    named = np.asarray(reasons) >= 0
    return int(named.sum()), int((named & (standing > C.sum(axis=0))).sum())


def carried_shares(keys: list[int]) -> str:
    """'rating 62%, pick 20%, ...': the share of the pages' picks each kind of reason names
    (``reason_key``: a rated movie's id, or -(2 + kind) for the carrier)."""
    from recommender.reasons import KINDS

    if not keys:
        return "-"
    a = np.array(keys)
    shares = [("rating", (a >= 0).mean())] + [
        (kind, (a == -(2 + k)).mean()) for k, kind in enumerate(KINDS) if k > 0]
    return ", ".join(f"{kind} {share:.0%}" for kind, share in shares if share)


def prior_scaling(n_ratings: int, n_movies: int, seed: int) -> None:
    import resource

    rng = np.random.default_rng(seed)
    n_users = max(100, n_ratings // 150)
    activity = rng.lognormal(0.0, 1.0, n_users)
    per_user = np.maximum(1, np.round(activity / activity.sum() * n_ratings)).astype(np.int64)
    pop = 1.0 / (np.arange(n_movies) + 10.0)
    users = np.repeat(np.arange(n_users, dtype=np.int64), per_user)
    movies = rng.choice(n_movies, size=users.size, p=pop / pop.sum()).astype(np.int64) * 3 + 1
    scores = np.clip(np.round(rng.normal(3.5, 1.0, users.size) * 2) / 2, 0.5, 5.0)
    scores = scores.astype(np.float32)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"synthetic: {users.size} ratings, {n_users} users, {n_movies} movies; "
          f"RSS before build {before:.0f} MB", flush=True)
    t0 = time.perf_counter()
    shown = [-1]

    def progress(done, total):
        if done * 10 // total != shown[0]:
            shown[0] = done * 10 // total
            print(f"  {done}/{total} {time.perf_counter() - t0:.0f} s", flush=True)

    prior = build_prior(users, movies, scores, progress=progress)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"build {seconds:.1f} s, peak RSS {peak:.0f} MB (+{peak - before:.0f} MB during the "
          f"build), stored {len(prior.to_bytes()) / 1e6:.1f} MB; {prior.info}")


def parse_overrides(pairs: list[str]) -> dict:
    """KEY=VALUE ModelConfig overrides, each value read as its field's type (a bool as
    true/false, 1/0, yes/no, on/off: ``bool("False")`` would be True)."""
    out = {}
    defaults = ModelConfig()
    for kv in pairs:
        key, sep, value = kv.partition("=")
        if not sep or not hasattr(defaults, key):
            raise SystemExit(f"--set/--compare: {kv!r} is not KEY=VALUE of a ModelConfig field")
        kind = type(getattr(defaults, key))
        if kind is bool:
            word = value.strip().lower()
            if word not in BOOL_WORDS:
                raise SystemExit(f"--set/--compare: {key} takes true or false, not {value!r}")
            out[key] = BOOL_WORDS[word]
        else:
            out[key] = kind(value)
    return out


BOOL_WORDS = {"true": True, "1": True, "yes": True, "on": True,
              "false": False, "0": False, "no": False, "off": False}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--sizes", type=int, nargs="*", default=[10, 30, 100, 200],
                   help="guild sizes (none: only the cold-start curve)")
    p.add_argument("--draws", type=int, default=5)
    p.add_argument("--seed", type=int, default=1,
                   help="draws; seed 0 drew the guilds the defaults were tuned on")
    p.add_argument("--no-surprise", action="store_true")
    p.add_argument("--prior-iterations", type=int, default=100)
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                   help="ModelConfig overrides for ours (tuning experiments)")
    p.add_argument("--given-n", type=int, nargs="*", default=[1, 3, 5, 10],
                   help="cold-start curve: newcomers keep this many ratings (none: skip)")
    p.add_argument("--given-n-size", type=int, default=100,
                   help="members of the guilds the cold-start curve is measured on")
    p.add_argument("--prior-scaling", type=float, metavar="RATINGS",
                   help="only time a prior build on this many synthetic ratings")
    p.add_argument("--movies", type=int, default=30_000, help="movies for --prior-scaling")
    p.add_argument("--compare", nargs="*", metavar="KEY=VALUE",
                   help="also run ours with these ModelConfig overrides (instead of --set's) "
                        "on the same draws and prior, as 'compare' (e.g. taste_reg=inf)")
    p.add_argument("--no-features", action="store_true",
                   help="fit without the genre/decade features the bot's worker uses")
    p.add_argument("--no-trust", action="store_true",
                   help="skip the trust figures (below-average share, disliked and 5-star "
                        "hits vs MostPop, distinct reasons, calibration)")
    p.add_argument("--page-rules", action="store_true",
                   help="with the trust figures: the served page's P@10 and distinct reasons "
                        "with each page rule off or changed, on the same rankings (counts)")
    args = p.parse_args(argv)
    args.titles = None if args.no_trust else movie_titles(args.data)
    if args.prior_scaling:
        prior_scaling(int(args.prior_scaling), args.movies, args.seed)
        return 0
    overrides = parse_overrides(args.set)
    if args.compare is not None:
        args.compare = parse_overrides(args.compare)
    path = args.data / "ratings.csv" if args.data.is_dir() else args.data
    args.features = evaluated_features(str(path), not args.no_features)
    r = load_ratings(path, "movielens-csv")
    data = (r.users, r.movies, r.scores)
    print(f"data={path} ratings={len(r)} sizes={args.sizes} draws={args.draws} "
          f"seed={args.seed} overrides={overrides} compare={args.compare} "
          f"features={'off' if args.features is None else 'genres/decades'}", flush=True)
    rng = np.random.default_rng(args.seed)
    summary = {}
    for size in args.sizes:
        # small guilds have few relevant held-out ratings: more draws keep the mean meaningful
        n_draws = args.draws * max(1, round(np.sqrt(100 / size)))  # 10: 3x, 30: 2x
        draws = [run_guild(data, size, rng, args, overrides) for _ in range(n_draws)]
        names = [n for n in draws[0] if not n.startswith("_")]
        mp = np.array([d["MostPop"]["p"] for d in draws])
        print(f"\n{size} members ({n_draws} draws; prior build "
              f"{np.mean([d['_prior_seconds']['fit'] for d in draws]):.1f} s)")
        print(f"{'model':<24}{'P@10 mean [range]':>24}{'x MostPop':>11}{'draws':>14}"
              f"{'nDCG@10':>9}{'cov@10':>8}{'fit s':>8}{'RMSE':>8}")
        for name in names:
            pv = np.array([d[name]["p"] for d in draws])
            ratio = pv.mean() / max(mp.mean(), 1e-12)  # ratio of means (a draw may have 0)
            ok = mp > 0
            per = pv[ok] / mp[ok]
            rng_txt = f"[{per.min():.2f}-{per.max():.2f}]" if per.size else "[-]"
            nd = np.mean([d[name]["ndcg"] for d in draws])
            cov = np.mean([d[name]["cov"] for d in draws])
            fit = np.mean([d[name]["fit"] for d in draws])
            err = np.mean([d[name].get("rmse", np.nan) for d in draws])  # on 1-10
            print(f"{name:<24}{pv.mean():>10.4f} [{pv.min():.3f}-{pv.max():.3f}]"
                  f"{ratio:>10.2f}x{rng_txt:>14}{nd:>9.4f}{cov:>8.3f}{fit:>8.3f}"
                  + (f"{err:>8.3f}" if np.isfinite(err) else f"{'-':>8}"))
            summary.setdefault(name, {})[size] = float(ratio)
        for key in [n for n in draws[0] if n.startswith("_trust ")]:
            print(f"  trust, {key[7:]}: {trust_summary([d[key] for d in draws])}")
            if args.page_rules:
                print("  page rules, each off or changed on the same rankings:")
                print("\n".join(page_rules_summary([d[key] for d in draws])))
        sys.stdout.flush()
    curve: dict[str, dict[int, float]] = {}
    for n in args.given_n:
        draws = [run_guild(data, args.given_n_size, rng, args, overrides, given_n=n)
                 for _ in range(args.draws)]
        mp = np.mean([d["MostPop"]["p"] for d in draws])
        names = [n for n in draws[0] if not n.startswith("_") and not n.startswith("surprise")]
        for name in names:
            curve.setdefault(name, {})[n] = float(
                np.mean([d[name]["p"] for d in draws]) / max(mp, 1e-12))
        print(f"given {n}: MostPop P@10 {mp:.4f}; " + ", ".join(
            f"{name} {by_n[n]:.2f}x" for name, by_n in curve.items()), flush=True)
    print("\nprecision@10 / MostPop's (ratio of the means over draws):")
    for name, by_size in summary.items():
        print(f"  {name:<24}" + "  ".join(f"{s}:{v:.2f}x" for s, v in by_size.items()))
    if curve:
        print(f"\ncold start, given n ({args.given_n_size}-member guilds, a quarter of them "
              f"newcomers keeping n ratings; {args.draws} draws each), P@10 / MostPop's:")
        for name, by_n in curve.items():
            print(f"  {name:<24}" + "  ".join(f"n={n}:{v:.2f}x" for n, v in by_n.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
