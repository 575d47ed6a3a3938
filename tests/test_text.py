"""`cogs.ui.text.safe`: escape first, then shorten, so the escaped text fits its limit (issue 13,
row 7: a 200-character markdown title became a 406-character embed title)."""

from __future__ import annotations

import discord
import pytest

from bot.domain.models import Movie
from cogs.ui.text import choice_label, movie_label, safe

MARKDOWN = "*_~`|>\\"


@pytest.mark.parametrize("limit", [1, 2, 5, 80, 100, 256])
@pytest.mark.parametrize("text", [MARKDOWN * 60, "@everyone " * 40, "x" * 500,
                                  "**Ab**_c_~~d~~`e`||f||>" * 20, "Война и мир " * 30])
def test_escaped_text_fits_and_stays_escaped(text, limit):
    out = safe(text, limit)
    assert len(out) <= limit
    assert "@everyone" not in out.replace("@\u200beveryone", "")
    full = discord.utils.escape_mentions(discord.utils.escape_markdown(text.strip()))
    kept = out.removesuffix("…")
    if "@" not in text:  # ("@eve…" is a harmless prefix of "@everyone", not escaped)
        assert full.startswith(kept)  # the escape of a prefix: no escape cut in half
    assert out == full or out.endswith("…")


def test_short_text_is_only_escaped():
    assert safe("**Heat**") == r"\*\*Heat\*\*"
    assert safe("Heat", 4) == "Heat"
    assert safe("Heats", 4) == "Hea…"


def test_labels_fit_discord_limits():
    movie = Movie(1, MARKDOWN * 50, 1999, ())
    assert len(movie_label(movie, 256)) <= 256
    assert len(choice_label(movie)) <= 100
