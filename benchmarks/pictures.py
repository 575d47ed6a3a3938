"""Rendering cost of the bot's pictures: milliseconds and PNG bytes per picture.

    python benchmarks/pictures.py [--movies 10000] [--members 2000] [--ratings 150000]
                                  [--repeat 5]

Fits a `CFModel` on synthetic ratings (`--movies` movies, Zipf-like popularity, members with
a hidden taste so the factors have structure), then times what `PictureService` runs in its
pictures thread for each picture, from the model's arrays to PNG bytes: the taste map (PCA of
the movie factors + the member's points + drawing with labels), a movie's score distribution,
a /ratings summary and a /recommend card of 10 picks. Median and worst of `--repeat` draws,
after one warm-up draw (font cache), wall clock and CPU time (CPU time is what the picture
costs; wall time also shows how busy the machine was: the load average is printed).
Never run in CI.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.render import (  # noqa: E402
    CardLine,
    Distribution,
    TasteMap,
    draw_distribution,
    draw_picks_card,
    draw_ratings_summary,
    draw_taste_map,
)
from bot.service.pictures import member_scale, project, score_counts  # noqa: E402
from recommender import CFModel, ModelConfig  # noqa: E402


def synthetic_model(movies: int, members: int, ratings: int, seed: int = 0) -> CFModel:
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, movies + 1) ** 0.8
    popularity /= popularity.sum()
    users = rng.integers(0, members, ratings)
    items = rng.choice(movies, size=ratings, p=popularity)
    taste_u, taste_m = rng.normal(size=(members, 3)), rng.normal(size=(movies, 3))
    raw = 5.5 + 1.5 * np.einsum("ij,ij->i", taste_u[users], taste_m[items])
    scores = np.clip(np.rint(raw + rng.normal(0, 1, ratings)), 1, 10)
    model = CFModel(ModelConfig(features=10, reg=5.0, maxiter=20, seed=0, scale=(1.0, 10.0)))
    model.fit(users + 1, items + 1, scores)
    return model


def taste_map_work(model: CFModel, member: int) -> tuple[int, int]:
    """What PictureService.taste_map runs off the loop; returns (PNG bytes, labels kept)."""
    factors = np.asarray(model.X, dtype=np.float64)
    prefs = np.asarray(model.T, dtype=np.float64)
    projection = project(factors)
    row = int(model.users.lookup([member])[0])
    rated_rows, rated_vals = model._rated(row)  # private, benchmark only
    order = np.argsort(-np.asarray(model.support_counts), kind="stable")[:40]
    scale = member_scale(projection, prefs)
    coords = projection.coords
    drawn = draw_taste_map(TasteMap(
        title="Your taste map", movies=coords, rated=coords[rated_rows],
        rated_scores=np.clip(rated_vals * model.config.unit, 1, 10), picks=coords[order[-5:]],
        labels=[(f"Movie {int(model.movies.ids[i])} (1999)", *coords[i]) for i in order],
        member=projection.direction(prefs[row:row + 1])[0] * scale,
        others=projection.direction(prefs[:2000]) * scale))
    return drawn.size, len(drawn.labels)


def timed(label: str, work, repeat: int) -> None:
    work()  # warm-up: font cache, first canvas
    times, cpu, result = [], [], None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = work()
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    size = result[0] if isinstance(result, tuple) else result
    print(f"| {label} | {statistics.median(times):.0f} | {max(times):.0f} | "
          f"{statistics.median(cpu):.0f} | {size / 1000:.0f} KB |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--movies", type=int, default=10_000)
    parser.add_argument("--members", type=int, default=2_000)
    parser.add_argument("--ratings", type=int, default=150_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    start = time.perf_counter()
    model = synthetic_model(args.movies, args.members, args.ratings)
    print(f"fitted {len(model.movies):,} movies x {len(model.users):,} members "
          f"({args.ratings:,} ratings) in {time.perf_counter() - start:.1f} s; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    member = int(model.users.ids[0])
    rng = np.random.default_rng(1)
    counts = score_counts(rng.integers(1, 11, 300))
    print("| picture | median ms | worst ms | median CPU ms | PNG |")
    print("|---|---|---|---|---|")
    others = min(2000, len(model.users))
    timed(f"/taste map, {len(model.movies):,} movies + {others:,} members", lambda: taste_map_work(
        model, member), args.repeat)
    timed("/movies info distribution", lambda: draw_distribution(
        Distribution("Scores for Some Movie (1999)", counts, mine=8)).size, args.repeat)
    timed("/ratings summary", lambda: draw_ratings_summary(
        "Your 300 ratings", counts, [("Drama", 8.1, 40), ("Comedy", 7.2, 33),
                                     ("Horror", 4.0, 12)]).size, args.repeat)
    timed("/recommend card, 10 picks", lambda: draw_picks_card(
        "Your picks", [CardLine(n, f"Some Long Movie Title Number {n} (1999)",
                                "Drama, Romance · because you rated Heat (1995) 9/10", 8 - n / 3)
                       for n in range(1, 11)], note="Ranked by …").size, args.repeat)


if __name__ == "__main__":
    main()
