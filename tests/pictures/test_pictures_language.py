"""Picture labels in the reader's language (issue 27 item 1): the drawing process speaks the
language of the interaction that asked (a context variable does not cross into another process
by itself), and the picture cache keeps one picture per language."""

from __future__ import annotations

import os

from bot import i18n
from bot.i18n import speaking
from bot.render.pool import DRAWING, worker_pid
from bot.service.cache import LRUCache
from bot.service.pictures import _InLanguage


def test_the_drawing_process_draws_in_the_callers_language() -> None:
    assert DRAWING.draw(worker_pid) != os.getpid()  # really another process
    with speaking("de"):
        assert DRAWING.draw(i18n._, "score") == "Wertung"
        assert DRAWING.draw(i18n._, "how you score") == "wie du bewertest"
    with speaking("fr"):
        assert DRAWING.draw(i18n._, "no poster") == "pas d'affiche"
    assert DRAWING.draw(i18n._, "score") == "score"  # outside an interaction: English


def test_the_picture_cache_keeps_a_picture_per_language() -> None:
    cache = _InLanguage(LRUCache(8))
    german, english = object(), object()
    with speaking("de"):
        cache.put(("taste", 7), german)  # type: ignore[arg-type]
    assert cache.get(("taste", 7)) is None  # an English reader does not get the German one
    cache.put(("taste", 7), english)  # type: ignore[arg-type]
    with speaking("de"):
        assert cache.get(("taste", 7)) is german
    assert cache.get(("taste", 7)) is english
    assert len(cache) == 2 and all(key[1] == 7 for key in cache)


def test_numbers_drawn_on_pictures_use_the_readers_format(monkeypatch) -> None:
    """The card's predicted scores and the summary's genre averages: "7,5" for a German
    reader (every text the drawing puts on the canvas is recorded)."""
    import numpy as np
    from matplotlib.axes import Axes

    from bot.render import CardLine, draw_picks_card, draw_ratings_summary

    drawn: list[str] = []
    original = Axes.text

    def text(self, x, y, s, *args, **kwargs):
        drawn.append(str(s))
        return original(self, x, y, s, *args, **kwargs)

    monkeypatch.setattr(Axes, "text", text)
    with speaking("de"):
        draw_picks_card("Deine Tipps", [CardLine(1, "Heat (1995)", "Krimi", 7.5)])
        draw_ratings_summary("Deine 4 Bewertungen", np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1]),
                             [("Drama", 8.25, 2)])
    assert "7,5" in drawn and ("8,2" in drawn or "8,3" in drawn), drawn
    assert not any(text in drawn for text in ("7.5", "8.2", "8.3"))
