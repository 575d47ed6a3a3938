"""The drawing functions (`bot.render`): real PNGs of the promised size, under the size cap,
with the plotted data where the caller put it; labels never overlap; the projection is the
PCA of the factors; a 10,000-movie map draws."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from bot.render import (
    MAX_PNG_BYTES,
    CardLine,
    Distribution,
    TasteMap,
    draw_distribution,
    draw_picks_card,
    draw_ratings_summary,
    draw_taste_map,
)
from bot.service.pictures import member_scale, project, score_counts


def _decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()  # decodes every pixel: a truncated PNG fails here
    assert image.format == "PNG"
    return image


def _map(n: int, seed: int = 0, **extra) -> TasteMap:
    rng = np.random.default_rng(seed)
    movies = rng.normal(size=(n, 2))
    fields = dict(title="Your taste map", movies=movies, rated=movies[:12],
                  rated_scores=np.arange(12) % 10 + 1.0, picks=movies[12:17],
                  labels=[(f"Movie {i} (1999)", *movies[i]) for i in range(30)],
                  member=np.array([0.2, -0.1]))
    fields.update(extra)
    return TasteMap(**fields)


def test_taste_map_is_a_png_of_the_promised_size_with_points_where_given() -> None:
    data = _map(300)
    drawn = draw_taste_map(data)
    image = _decode(drawn.png)
    assert image.size == (drawn.width, drawn.height) == (800, 600)
    assert drawn.size < MAX_PNG_BYTES
    np.testing.assert_allclose(drawn.plotted["rated"], data.rated)
    np.testing.assert_allclose(drawn.plotted["rated_scores"], data.rated_scores)
    np.testing.assert_allclose(drawn.plotted["picks"], data.picks)
    np.testing.assert_allclose(drawn.plotted["member"], [[0.2, -0.1]])
    assert drawn.plotted["others"].shape == (0, 2)
    # The card is opaque: readable on Discord's dark and light themes alike.
    assert image.convert("RGBA").getextrema()[3] == (255, 255)


def test_labels_that_would_overlap_are_left_out() -> None:
    crowded = [(f"Same place {i}", 0.0, 0.0) for i in range(12)]
    apart = [("Far left", -2.0, -2.0), ("Far right", 1.5, 1.5)]
    drawn = draw_taste_map(_map(50, labels=crowded + apart, max_labels=14))
    kept = [label.text for label in drawn.labels if label.kind == "title"]
    # The places touching one point are few: the first labels there take them, the rest
    # are left out, and no two drawn labels overlap.
    assert "Same place 0" in kept and 1 <= sum(t.startswith("Same place") for t in kept) < 12
    assert "Far left" in kept and "Far right" in kept
    boxes = [e for e in drawn.extents if e.role.startswith("label-")]
    assert not [(a.text, b.text) for a in boxes for b in boxes if a is not b and a.overlaps(b)]


def test_a_ten_thousand_movie_map_draws_under_the_cap() -> None:
    drawn = draw_taste_map(_map(10_000, others=np.random.default_rng(1).normal(size=(500, 2))))
    assert _decode(drawn.png).size == (800, 600)
    assert drawn.size < MAX_PNG_BYTES
    assert len(drawn.plotted["movies"]) == 10_000 and len(drawn.plotted["others"]) == 500


def test_distribution_marks_the_members_score() -> None:
    counts = np.array([0, 1, 0, 2, 3, 5, 4, 2, 1, 1])
    drawn = draw_distribution(Distribution("Scores", counts, mine=7))
    assert _decode(drawn.png).size == (600, 260)
    np.testing.assert_array_equal(drawn.plotted["counts"], counts)
    np.testing.assert_array_equal(drawn.plotted["mine"], [7])


def test_ratings_summary_and_card() -> None:
    summary = draw_ratings_summary("Your 9 ratings", np.arange(10) % 3,
                                   [("Drama", 8.5, 4), ("Horror", 3.0, 2)])
    assert _decode(summary.png).size == (800, 360)
    np.testing.assert_allclose(summary.plotted["genre_means"], [8.5, 3.0])
    card = draw_picks_card("Your picks", [CardLine(n, f"Film {n}", "Drama", 9.0 - n)
                                          for n in range(1, 6)], note="Ranked by …")
    image = _decode(card.png)
    assert image.size == (card.width, card.height) and image.size[0] == 700
    np.testing.assert_allclose(card.plotted["scores"], [8.0, 7.0, 6.0, 5.0, 4.0])


def test_projection_is_the_pca_of_the_factors() -> None:
    rng = np.random.default_rng(3)
    factors = rng.normal(size=(200, 6)) * np.array([5.0, 2.0, 1.0, 0.5, 0.2, 0.1])
    projection = project(factors)
    centred = factors - factors.mean(axis=0)
    covariance = centred.T @ centred
    _values, vectors = np.linalg.eigh(covariance)
    top = vectors[:, ::-1][:, :2]
    # Same axes up to sign, fixed so each axis' largest loading is positive.
    for axis in range(2):
        a, b = projection.axes[:, axis], top[:, axis]
        assert np.isclose(abs(a @ b), 1.0)
        assert a[np.abs(a).argmax()] > 0
    np.testing.assert_allclose(projection.coords, centred @ projection.axes)
    assert projection.explained[0] > projection.explained[1] > 0
    assert project(factors).coords.tobytes() == projection.coords.tobytes()  # deterministic
    # Members are scaled so their median distance from the centre is the movies'.
    prefs = rng.normal(size=(30, 6)) * 0.01
    scale = member_scale(projection, prefs)
    members = np.linalg.norm(projection.direction(prefs) * scale, axis=1)
    assert np.isclose(np.median(members), np.median(np.linalg.norm(projection.coords, axis=1)))


def test_score_counts() -> None:
    np.testing.assert_array_equal(score_counts(np.array([1, 10, 10, 5.0])),
                                  [1, 0, 0, 0, 1, 0, 0, 0, 0, 2])


def test_degenerate_factors_fall_back_to_the_ratings_own_components() -> None:
    from bot.service.pictures import informative, ratings_factors

    assert not informative(np.full((50, 10), 1e-9)) and informative(np.eye(10))
    # Two camps rate two groups of movies oppositely: the stand-in factors split them.
    movies, users = np.arange(1, 9), np.arange(100, 110)
    r_m, r_u, r_s = [], [], []
    for u in users:
        camp = u < 105
        for m in movies:
            r_m.append(m)
            r_u.append(u)
            r_s.append(9.0 if (m <= 4) == camp else 2.0)
    factors, prefs = ratings_factors(movies, users, np.array(r_m), np.array(r_u),
                                     np.array(r_s))
    assert factors.shape[0] == 8 and prefs.shape[0] == 10 and informative(factors)
    first = project(factors).coords[:, 0]
    assert np.all(np.sign(first[:4]) == np.sign(first[0]))
    assert np.all(np.sign(first[4:]) == -np.sign(first[0]))
    # Members of a camp lie toward that camp's movies.
    direction = project(factors).direction(prefs)[:, 0]
    assert np.sign(direction[0]) == np.sign(first[0]) and np.sign(direction[9]) == -np.sign(
        first[0])
    # A movie nobody rated sits at the centre (zeros), not at a random place.
    factors2, _ = ratings_factors(np.arange(1, 10), users, np.array(r_m), np.array(r_u),
                                  np.array(r_s))
    np.testing.assert_allclose(factors2[8], 0.0)


async def test_picks_card_becomes_a_poster_grid_when_every_pick_has_a_poster() -> None:
    """The seam for TMDB posters: a PosterSource with a poster for every pick gets a grid;
    one missing poster keeps the typographic card."""
    from bot.domain.models import Movie
    from bot.service.gate import Gate
    from bot.service.pictures import PictureService

    poster = io.BytesIO()
    Image.new("RGB", (60, 90), (200, 120, 40)).save(poster, format="PNG")
    movies = [Movie(i, f"Film {i}", 2000 + i) for i in range(1, 4)]

    class Posters:
        def __init__(self, ids: set[int]) -> None:
            self.ids = ids

        async def posters(self, wanted):
            return {m.id: poster.getvalue() for m in wanted if m.id in self.ids}

    lines = [CardLine(m.id, m.label, "Drama", 7.0) for m in movies]
    grid = await PictureService(None, None, Gate(), posters=Posters({1, 2, 3})).picks_card(
        "Your picks", lines, movies)
    card = await PictureService(None, None, Gate(), posters=Posters({1, 2})).picks_card(
        "Your picks", lines, movies)
    assert grid.alt.startswith("Posters of your picks") and "scores" not in grid.rendered.plotted
    assert card.alt.startswith("Your picks, as a card")
    np.testing.assert_allclose(card.rendered.plotted["scores"], [7.0, 7.0, 7.0])
    assert _decode(grid.png).size == (grid.rendered.width, grid.rendered.height)
