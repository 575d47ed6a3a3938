"""The /recommend pictures: the typographic card (one line per pick with its score bar) and
the poster grid, drawn like every picture (`charts`: the card's look, `Rendered`, the size
cap). Posters are decoded only when their header declares a sane size."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.text import Text

from bot.i18n import _, number
from bot.render.charts import (
    MUTED,
    SCORE_CMAP,
    TEXT,
    Rendered,
    _clip,
    _extents,
    _figure,
    _png,
    _renderer,
)

# Pixels one poster may have (a w342 poster has 175,000; w780 912,000): checked from the header
# before decoding, so a small file that declares a huge picture is never expanded.
MAX_POSTER_PIXELS = 2_000_000


# --------------------------------------------------------------------------- /recommend card
@dataclass
class CardLine:
    """One pick on the typographic card."""

    rank: int
    title: str
    detail: str  # genres, a reason
    score: float  # predicted (or typical) rating, 1-10


CARD_WIDTH = 7.0  # inches; the card's x axis is in inches from the left
CARD_BAR_LEFT = 5.6  # where the score bars start
CARD_BAR_LONGEST = 0.84  # a 10's bar
CARD_GAP = 0.12  # kept clear between a text and the bars


def draw_picks_card(title: str, lines: Sequence[CardLine], note: str = "") -> Rendered:
    """The page's picks set as type: rank, title, a muted detail line and a score bar
    (viridis by score, with the number written next to it). One axes in inch-like row units
    holds everything (cheaper than an axes per bar). Every text is measured by the renderer
    and shortened with "…" until it ends before the bars (or the card's edge): a long title
    never runs under its score bar. `Rendered.extents` has the texts' and bars' boxes."""
    rows = max(len(lines), 1)
    height = 0.75 + 0.48 * rows + (0.3 if note else 0.0)
    fig = _figure(CARD_WIDTH, height)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_axis_off()
    ax.set_xlim(0, CARD_WIDTH)
    ax.set_ylim(height, 0)  # y grows downwards, in inches from the top
    edge = CARD_WIDTH - 0.2
    _fitted(ax.text(0.2, 0.42, title, fontsize=13, fontweight="bold", color=TEXT,
                    va="center", gid="text"), edge)
    cmap, norm = colormaps[SCORE_CMAP], Normalize(1, 10)
    scores = np.array([line.score for line in lines], dtype=float)
    tops = 0.85 + 0.48 * np.arange(len(lines))
    before_bars = CARD_BAR_LEFT - CARD_GAP
    for top, line in zip(tops, lines, strict=True):
        ax.text(0.2, top, f"{line.rank}.", fontsize=12, fontweight="bold", color=MUTED,
                va="top", gid="text")
        _fitted(ax.text(0.62, top, line.title, fontsize=10.5, fontweight="bold",
                        color=TEXT, va="top", gid="text"), before_bars)
        _fitted(ax.text(0.62, top + 0.2, line.detail, fontsize=8, color=MUTED, va="top",
                        gid="text"), before_bars)
        _fitted(ax.text(CARD_BAR_LEFT + CARD_BAR_LONGEST + 0.06, top + 0.16,
                        number(line.score, digits=1), fontsize=9, color=TEXT, va="center",
                        gid="text"),
                edge + 0.15)
    widths = CARD_BAR_LONGEST * np.clip(scores, 0.0, 10.0) / 10
    bars = ax.barh(tops + 0.16, widths, left=CARD_BAR_LEFT, height=0.16,
                   color=[cmap(norm(v)) for v in scores], edgecolor=TEXT, linewidth=0.4)
    for bar in bars:
        bar.set_gid("bar")
    if note:
        _fitted(ax.text(0.2, height - 0.2, note, fontsize=7.5, color=MUTED,
                        style="italic", va="center", gid="text"), edge)
    return _png(fig, Rendered(b"", 0, 0, extents=_extents(fig), plotted={
        "scores": np.array([b.get_width() for b in bars]) * 10 / CARD_BAR_LONGEST}))


def _fitted(text: Text, right: float) -> Text:
    """Shorten `text` (ending it with "…") until its box, measured by the renderer, ends
    left of `right` (in the axes' data units, which run left to right)."""
    ax = text.axes
    assert ax is not None
    figure = text.get_figure(root=True)
    assert isinstance(figure, Figure)
    renderer = _renderer(figure)
    limit = float(ax.transData.transform((right, 0.0))[0])
    full = text.get_text()

    def width_ok() -> bool:
        return bool(text.get_window_extent(renderer).x1 <= limit)

    if width_ok():
        return text
    start = float(text.get_window_extent(renderer).x0)
    extent = float(text.get_window_extent(renderer).x1) - start
    keep = max(0, min(len(full) - 1, int(len(full) * (limit - start) / max(extent, 1.0))))
    text.set_text(_cut(full, keep))
    while keep > 0 and not width_ok():  # the estimate was long: one character at a time
        keep -= 1
        text.set_text(_cut(full, keep))
    while keep + 1 < len(full) and width_ok():  # it was short: grow while it fits
        text.set_text(_cut(full, keep + 1))
        if not width_ok():
            text.set_text(_cut(full, keep))
            break
        keep += 1
    return text


def _cut(text: str, keep: int) -> str:
    return text[:keep].rstrip() + "…"


def decode_poster(blob: bytes) -> np.ndarray | None:
    """A poster's pixels (RGB, uint8), or None when it is not a PNG/JPEG Pillow can read or
    has more than `MAX_POSTER_PIXELS` pixels. The size comes from the header (`Image.open`
    reads nothing more) and is checked before any pixel is decoded: a small file can declare
    a huge picture (a 29 KB PNG of 20,000 x 20,000 pixels decodes to over 1 GB)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(blob), formats=("PNG", "JPEG")) as image:
            width, height = image.size
            if width < 1 or height < 1 or width * height > MAX_POSTER_PIXELS:
                return None
            return np.asarray(image.convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def draw_poster_grid(title: str, posters: Sequence[tuple[str, bytes]]) -> Rendered:
    """Posters (PNG or JPEG bytes) in a grid of up to 5 columns, each captioned. The seam for
    /recommend once posters exist (see `bot.service.pictures.PosterSource`). A poster that
    cannot be read or is over `MAX_POSTER_PIXELS` is left out: its place keeps the caption
    (`plotted["refused"]` lists the places, for tests)."""
    columns = min(5, max(1, len(posters)))
    rows = -(-len(posters) // columns) if posters else 1
    fig = _figure(1.6 * columns + 0.2, 2.75 * rows + 0.5)
    fig.suptitle(title, x=0.02, ha="left", fontsize=12, fontweight="bold", color=TEXT)
    refused = []
    for n, (caption, blob) in enumerate(posters):
        ax = fig.add_subplot(rows, columns, n + 1)
        ax.set_axis_off()
        pixels = decode_poster(blob)
        if pixels is None:
            refused.append(n)
            ax.text(0.5, 0.5, _("no poster"), ha="center", va="center", fontsize=8, color=MUTED,
                    transform=ax.transAxes)
        else:
            ax.imshow(pixels)
        ax.set_title(_clip(caption, 22), fontsize=7.5, color=TEXT, y=-0.12)
    return _png(fig, Rendered(b"", 0, 0, plotted={"refused": np.array(refused, dtype=int)}))
