"""Text on the pictures never collides (issue 21 item 9): the /recommend card's texts end
before the score bars however long the titles, and the taste map labels the member and
every top pick, even crowded together, with an alt text naming exactly the labels drawn.

Boxes are the renderer's own measurements of the drawn artists (`Rendered.extents`)."""

from __future__ import annotations

import numpy as np

from bot.render import CardLine, Rendered, TasteMap, draw_picks_card, draw_taste_map
from bot.render.charts import MAP_LABEL_CHARS, Extent
from bot.service.pictures import ALT_LIMIT, draw_described_map, labels_named

LONG = ("The Extraordinarily Long and Winding Title of a Film That Goes On and On Without "
        "Ever Stopping, Part II: The Return of the Sequel (2004)")
WIDE = "W" * 150  # the widest letters, no spaces: nothing to wrap on


def _overlaps(a: list[Extent], b: list[Extent]) -> list[tuple[str, str]]:
    return [(x.text or x.role, y.text or y.role) for x in a for y in b
            if x is not y and x.overlaps(y)]


def test_a_card_of_very_long_titles_keeps_every_text_clear_of_the_bars() -> None:
    lines = [CardLine(n, LONG if n % 2 else WIDE, LONG + " because you rated " + WIDE,
                      float(11 - n)) for n in range(1, 11)]
    card = draw_picks_card(WIDE, lines, note=LONG * 3)
    texts = [e for e in card.extents if e.role == "text"]
    bars = [e for e in card.extents if e.role == "bar"]
    assert len(bars) == 10 and len(texts) == 1 + 4 * 10 + 1
    assert not _overlaps(texts, bars)
    assert not _overlaps(texts, texts)
    # Long texts were shortened with an ellipsis, and every text stays on the card.
    titles = [e.text for e in texts if e.text.startswith(("The Extra", "WWW"))]
    assert titles and all(t.endswith("…") for t in titles)
    assert all(e.x0 >= 0 and e.x1 <= card.width for e in texts)
    np.testing.assert_allclose(card.plotted["scores"], [float(11 - n) for n in range(1, 11)])


def test_short_titles_on_the_card_are_left_whole() -> None:
    card = draw_picks_card("Your picks", [CardLine(1, "Alien (1979)", "Horror", 8.0)])
    assert {e.text for e in card.extents} >= {"Your picks", "Alien (1979)", "Horror", "8.0"}


PICK_TITLES = ["Eternal Sunshine of the Spotless Mind (2004)", "Alien (1979)",
               "Star Wars: Episode IV - A New Hope (1977)", "The Shawshank Redemption (1994)",
               "Casablanca (1942)"]


def _crowded_map(**extra) -> TasteMap:
    rng = np.random.default_rng(0)
    movies = rng.normal(size=(400, 2))
    centre = np.array([0.1, 0.1])
    fields = dict(
        title="Your taste map", movies=movies, rated=movies[:40],
        rated_scores=np.arange(40) % 10 + 1.0,
        picks=centre + rng.normal(scale=0.01, size=(5, 2)),  # five stars on one spot
        pick_labels=PICK_TITLES,
        labels=[(f"Known title {i} (19{i:02d})", *movies[i]) for i in range(40)],
        member=centre + np.array([0.03, -0.02]))
    fields.update(extra)
    return TasteMap(**fields)


def _clipped(text: str) -> str:
    return text if len(text) <= MAP_LABEL_CHARS else text[: MAP_LABEL_CHARS - 1].rstrip() + "…"


def test_a_crowded_taste_map_labels_all_five_top_picks_and_the_member() -> None:
    drawn = draw_taste_map(_crowded_map())
    labels = [e for e in drawn.extents if e.role.startswith("label-")]
    pick_texts = [e.text for e in labels if e.role == "label-pick"]
    for title in PICK_TITLES:
        assert pick_texts.count(_clipped(title)) == 1, title
    assert [e.text for e in labels if e.role == "label-member"] == ["you"]
    # Nothing overlaps: every label's box is clear of every other's.
    assert not _overlaps(labels, labels)
    # What `Rendered.labels` reports is what the picture shows, kind by kind.
    assert sorted((label.kind, label.text) for label in drawn.labels) == sorted(
        (e.role.removeprefix("label-"), e.text) for e in labels)
    assert sum(label.kind == "title" for label in drawn.labels) >= 1  # room is left for some


def test_the_taste_map_alt_text_names_exactly_the_labels_drawn() -> None:
    data = _crowded_map()
    rendered, alt = draw_described_map(data, lambda r: f"A map. Labelled: {labels_named(r)}.")
    shown = {label.text for label in rendered.labels}
    assert all(text in alt for text in shown)
    left_out = [text for text, _x, _y in data.labels if text not in shown]
    assert left_out and not any(text in alt for text in left_out)
    assert all(_clipped(title) in shown for title in PICK_TITLES)


def test_an_alt_text_over_the_limit_gets_a_map_with_fewer_titles_not_a_cut_list() -> None:
    data = _crowded_map(max_labels=40)
    preamble = "x" * (ALT_LIMIT - 400)

    def describe(rendered: Rendered) -> str:
        return f"{preamble}. Labelled: {labels_named(rendered)}."

    rendered, alt = draw_described_map(data, describe)
    assert len(alt) <= ALT_LIMIT and alt.endswith(".") and not alt.endswith("….")
    shown = {label.text for label in rendered.labels}
    assert all(text in alt for text in shown)
    assert not any(text in alt for text, _x, _y in data.labels if text not in shown)
    assert all(_clipped(title) in shown for title in PICK_TITLES)
