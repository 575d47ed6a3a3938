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
