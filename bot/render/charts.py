"""The bot's pictures, drawn with matplotlib's object API on the Agg canvas (no pyplot, no GUI,
no global state: each call builds its own `Figure`, so calls are safe in a worker thread).

Why matplotlib rather than Pillow: the taste map is a scatter of up to tens of thousands of
points with a colour scale, a colour bar, a legend and labels placed without overlap (text
extents measured by the renderer); the charts need axes, bars and ticks. Pillow would mean
re-writing all of that by hand; matplotlib is the maintained standard for it (and brings
Pillow along for PNG/JPEG decoding of posters).

The look, for every picture:

* an opaque light card (`BACKGROUND`) with a thin grey frame and dark text: the same picture
  reads on Discord's dark theme (#313338) and light theme (#ffffff), where a transparent PNG
  with dark text would vanish on dark;
* colour-blind-safe colours: scores use viridis (perceptually uniform, readable in greyscale
  and with the common colour-vision deficiencies), marks use the Okabe-Ito palette, and every
  mark also differs by shape or hatch, never by colour alone;
* a fixed size in pixels (`figsize` x `dpi`), and PNG bytes under `MAX_PNG_BYTES` (the picture
  is redrawn at a lower resolution until it fits; Discord's attachment limit is far above).

Each function returns `Rendered`: the PNG, its size, and the data as plotted (read back from
the artists), so tests can check that a highlighted point is where the projection put it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import Bbox

MAX_PNG_BYTES = 500_000
# Pixels one poster may have (a w342 poster has 175,000; w780 912,000): checked from the header
# before decoding, so a small file that declares a huge picture is never expanded.
MAX_POSTER_PIXELS = 2_000_000
DPI = 100
BACKGROUND = "#f6f7f9"
FRAME = "#8c959f"
TEXT = "#1f2328"
MUTED = "#57606a"
# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common deficiency.
OKABE_ITO = {
    "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73", "yellow": "#F0E442",
    "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7", "black": "#000000",
}
SCORE_CMAP = "viridis"
SCORES = np.arange(1, 11)


@dataclass
class Rendered:
    """A drawn picture: PNG bytes, its pixel size and what was plotted (for tests)."""

    png: bytes
    width: int
    height: int
    plotted: dict[str, np.ndarray] = field(default_factory=dict)
    labels: list[tuple[str, float, float]] = field(default_factory=list)  # text, data x, y

    @property
    def size(self) -> int:
        return len(self.png)


def _figure(width_in: float, height_in: float) -> Figure:
    fig = Figure(figsize=(width_in, height_in), dpi=DPI, facecolor=BACKGROUND,
                 edgecolor=FRAME, linewidth=1.5)
    FigureCanvasAgg(fig)
    return fig


def _style(ax: Axes) -> None:
    ax.set_facecolor(BACKGROUND)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(FRAME)
    ax.tick_params(colors=MUTED, labelsize=8)
    ax.title.set_color(TEXT)
    ax.xaxis.label.set_color(MUTED)
    ax.yaxis.label.set_color(MUTED)


def _png(fig: Figure, rendered: Rendered) -> Rendered:
    """Fill in the PNG (redrawn at lower resolution until under MAX_PNG_BYTES)."""
    dpi = float(DPI)
    while True:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, facecolor=BACKGROUND, edgecolor=FRAME,
                    metadata={"Software": None})
        data = buf.getvalue()
        if len(data) < MAX_PNG_BYTES or dpi < 30:
            break
        dpi *= 0.8
    width, height = fig.get_size_inches() * dpi
    rendered.png, rendered.width, rendered.height = data, round(width), round(height)
    return rendered


def _empty() -> Rendered:
    return Rendered(b"", 0, 0)


# --------------------------------------------------------------------------- taste map
@dataclass
class TasteMap:
    """What the taste map shows; every array is already in the map's 2-D coordinates."""

    title: str
    movies: np.ndarray  # (n, 2): every movie on the map
    rated: np.ndarray  # (r, 2): the member's rated movies
    rated_scores: np.ndarray  # (r,): their scores, 1-10
    picks: np.ndarray  # (p, 2): the member's top picks
    labels: Sequence[tuple[str, float, float]]  # candidate labels, most important first
    member: np.ndarray | None = None  # (2,): the member in the same space
    member_name: str = "you"
    others: np.ndarray | None = None  # (m, 2): other members (only where ratings are visible)
    axis_notes: tuple[str, str] = ("", "")
    max_labels: int = 12


def _place_labels(ax: Axes, fig: Figure, candidates: Sequence[tuple[str, float, float]],
                  limit: int) -> list[tuple[str, float, float]]:
    """Label candidates in order, skipping any whose box would overlap a placed one (boxes
    measured by the renderer, in pixels, with a small margin)."""
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    placed: list[Bbox] = []
    kept: list[tuple[str, float, float]] = []
    axes_box = ax.get_window_extent(renderer)
    for text, x, y in candidates:
        if len(kept) >= limit:
            break
        artist = ax.annotate(text, (x, y), xytext=(4, 3), textcoords="offset points",
                             fontsize=7.5, color=TEXT,
                             bbox={"boxstyle": "round,pad=0.15", "fc": BACKGROUND,
                                   "ec": "none", "alpha": 0.8})
        box = artist.get_window_extent(renderer).expanded(1.08, 1.25)
        inside = (box.x0 >= axes_box.x0 and box.x1 <= axes_box.x1
                  and box.y0 >= axes_box.y0 and box.y1 <= axes_box.y1)
        if not inside or any(box.overlaps(other) for other in placed):
            artist.remove()
            continue
        placed.append(box)
        kept.append((text, float(x), float(y)))
    return kept


def draw_taste_map(data: TasteMap) -> Rendered:
    """The server's movies as points, the member's rated ones coloured by score, their top
    picks as stars, the member as a diamond, a few well-known titles labelled."""
    fig = _figure(8.0, 6.0)
    ax = fig.add_axes((0.05, 0.08, 0.74, 0.82))
    _style(ax)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(data.title, loc="left", fontsize=12, fontweight="bold", color=TEXT)
    ax.set_xlabel(data.axis_notes[0], fontsize=8)
    ax.set_ylabel(data.axis_notes[1], fontsize=8)
    everything = [data.movies, data.rated, data.picks]
    if data.member is not None:
        everything.append(data.member.reshape(1, 2))
    pts = np.vstack([a.reshape(-1, 2) for a in everything if a.size])
    if pts.size:
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        pad = np.maximum((hi - lo) * 0.06, 1e-3)
        ax.set_xlim(lo[0] - pad[0], hi[0] + pad[0])
        ax.set_ylim(lo[1] - pad[1], hi[1] + pad[1])
    small = 10.0 if len(data.movies) < 500 else 4.0
    background = ax.scatter(data.movies[:, 0], data.movies[:, 1], s=small, c="#a0a7b0",
                            alpha=0.5, linewidths=0, label="movies here", zorder=1)
    others = None
    if data.others is not None and len(data.others):
        others = ax.scatter(data.others[:, 0], data.others[:, 1], s=22, marker="+",
                            c=OKABE_ITO["sky"], linewidths=0.9, label="other members",
                            zorder=2)
    norm = Normalize(1, 10)
    rated = ax.scatter(data.rated[:, 0], data.rated[:, 1], s=46, c=data.rated_scores,
                       cmap=SCORE_CMAP, norm=norm, edgecolors=TEXT, linewidths=0.5,
                       label="rated, by score", zorder=3)
    picks = ax.scatter(data.picks[:, 0], data.picks[:, 1], s=190, marker="*",
                       c=OKABE_ITO["vermillion"], edgecolors=TEXT, linewidths=0.6,
                       label="top picks", zorder=4)
    member_xy = np.zeros((0, 2))
    if data.member is not None:
        member_xy = data.member.reshape(1, 2)
        ax.scatter(member_xy[:, 0], member_xy[:, 1], s=150, marker="D", c=OKABE_ITO["black"],
                   edgecolors="white", linewidths=1.2, label=data.member_name, zorder=5)
        ax.annotate(data.member_name, member_xy[0], xytext=(7, -12),
                    textcoords="offset points", fontsize=9, fontweight="bold", color=TEXT)
    colorbar = fig.colorbar(rated, ax=ax, cax=fig.add_axes((0.82, 0.5, 0.025, 0.4)))
    colorbar.set_label("score", color=MUTED, fontsize=8)
    colorbar.ax.tick_params(colors=MUTED, labelsize=8)
    colorbar.set_ticks([1, 4, 7, 10])
    handles = [
        Line2D([], [], marker="o", ls="", color="#a0a7b0", label="movies here"),
        Line2D([], [], marker="o", ls="", mfc=OKABE_ITO["green"], mec=TEXT,
               label="rated, by score"),
        Line2D([], [], marker="*", ls="", ms=12, mfc=OKABE_ITO["vermillion"], mec=TEXT,
               label="top picks"),
    ]
    if data.member is not None:
        handles.append(Line2D([], [], marker="D", ls="", mfc="black", mec="white",
                              label=data.member_name))
    if others is not None:
        handles.append(Line2D([], [], marker="+", ls="", color=OKABE_ITO["sky"],
                              label="other members"))
    fig.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.795, 0.08), fontsize=8,
               frameon=False, labelcolor=TEXT)
    labels = _place_labels(ax, fig, data.labels, data.max_labels)
    rendered = Rendered(b"", 0, 0, labels=labels, plotted={
        "movies": np.asarray(background.get_offsets()),
        "rated": np.asarray(rated.get_offsets()),
        "rated_scores": np.asarray(rated.get_array()),
        "picks": np.asarray(picks.get_offsets()),
        "member": member_xy,
        "others": (np.asarray(others.get_offsets()) if others is not None
                   else np.zeros((0, 2))),
    })
    return _png(fig, rendered)


# --------------------------------------------------------------------------- distribution
@dataclass
class Distribution:
    """Counts of each score 1-10 (`counts[0]` is score 1) and the member's own marks."""

    title: str
    counts: np.ndarray  # (10,)
    mine: int | None = None  # the member's score of this movie
    mine_counts: np.ndarray | None = None  # (10,) the member's own scores among `counts`
    mine_label: str = "yours"


def draw_distribution(data: Distribution) -> Rendered:
    """A small 1-10 bar chart; the member's score is a hatched orange bar with a note, their
    own ratings (for a list) are outlined bars in front."""
    fig = _figure(6.0, 2.6)
    ax = fig.add_axes((0.08, 0.17, 0.9, 0.68))
    _style(ax)
    counts = np.asarray(data.counts, dtype=float).reshape(10)
    colours = [OKABE_ITO["blue"]] * 10
    hatches = [""] * 10
    if data.mine is not None:
        colours[data.mine - 1] = OKABE_ITO["orange"]
        hatches[data.mine - 1] = "//"
    bars = ax.bar(SCORES, counts, width=0.75, color=colours, edgecolor=TEXT, linewidth=0.4)
    for bar, hatch in zip(bars, hatches, strict=True):
        bar.set_hatch(hatch)
    top = max(float(counts.max()), 1.0)
    plotted = {"counts": np.array([b.get_height() for b in bars]), "mine": np.zeros(0)}
    if data.mine is not None:
        ax.annotate(f"{data.mine_label}: {data.mine}", (data.mine, counts[data.mine - 1]),
                    xytext=(0, 4), textcoords="offset points", ha="center", fontsize=8,
                    fontweight="bold", color=TEXT)
        plotted["mine"] = np.array([data.mine])
    if data.mine_counts is not None:
        own = np.asarray(data.mine_counts, dtype=float).reshape(10)
        front = ax.bar(SCORES, own, width=0.4, color=OKABE_ITO["orange"], hatch="//",
                       edgecolor=TEXT, linewidth=0.6, label=data.mine_label)
        plotted["mine_counts"] = np.array([b.get_height() for b in front])
        ax.legend(fontsize=8, frameon=False, labelcolor=TEXT, loc="upper left")
    ax.set_ylim(0, top * 1.25)
    ax.set_xticks(SCORES)
    ax.set_xlim(0.4, 10.6)
    ax.set_xlabel("score", fontsize=8)
    ax.set_title(data.title, loc="left", fontsize=10, fontweight="bold")
    ax.yaxis.get_major_locator().set_params(integer=True)  # type: ignore[call-arg]
    return _png(fig, Rendered(b"", 0, 0, plotted=plotted))


# --------------------------------------------------------------------------- ratings summary
def draw_ratings_summary(title: str, counts: np.ndarray,
                         genres: Sequence[tuple[str, float, int]]) -> Rendered:
    """A member's score histogram next to the genres they rate highest (mean, count)."""
    fig = _figure(8.0, 3.6)
    fig.suptitle(title, x=0.02, ha="left", fontsize=12, fontweight="bold", color=TEXT)
    left = fig.add_axes((0.06, 0.15, 0.4, 0.66))
    _style(left)
    counts = np.asarray(counts, dtype=float).reshape(10)
    norm = Normalize(1, 10)
    cmap = colormaps[SCORE_CMAP]
    bars = left.bar(SCORES, counts, color=[cmap(norm(s)) for s in SCORES], edgecolor=TEXT,
                    linewidth=0.4, width=0.75)
    left.set_xticks(SCORES)
    left.set_xlabel("score", fontsize=8)
    left.set_title("how you score", loc="left", fontsize=9)
    left.yaxis.get_major_locator().set_params(integer=True)  # type: ignore[call-arg]
    right = fig.add_axes((0.62, 0.15, 0.35, 0.66))
    _style(right)
    right.set_title("genres you rate highest", loc="left", fontsize=9)
    shown = list(genres)[:6]
    names = [f"{name} ({n})" for name, _mean, n in shown][::-1]
    means = np.array([mean for _name, mean, _n in shown][::-1], dtype=float)
    gbars = right.barh(np.arange(len(shown)), means,
                       color=[cmap(norm(m)) for m in means], edgecolor=TEXT, linewidth=0.4)
    right.set_yticks(np.arange(len(shown)), names, fontsize=8, color=TEXT)
    right.set_xlim(0, 10)
    right.set_xlabel("average score", fontsize=8)
    for bar, mean in zip(gbars, means, strict=True):
        right.text(min(bar.get_width() + 0.15, 9.2), bar.get_y() + bar.get_height() / 2,
                   f"{mean:.1f}", va="center", fontsize=8, color=TEXT)
    if not shown:
        right.text(5, 0.5, "rate two movies of a genre to see it here", ha="center",
                   fontsize=8, color=MUTED, transform=right.transData)
        right.set_yticks([])
    return _png(fig, Rendered(b"", 0, 0, plotted={
        "counts": np.array([b.get_height() for b in bars]),
        "genre_means": np.array([b.get_width() for b in gbars])[::-1],
    }))


# --------------------------------------------------------------------------- /recommend card
@dataclass
class CardLine:
    """One pick on the typographic card."""

    rank: int
    title: str
    detail: str  # genres, a reason
    score: float  # predicted (or typical) rating, 1-10


def draw_picks_card(title: str, lines: Sequence[CardLine], note: str = "") -> Rendered:
    """The page's picks set as type: rank, title, a muted detail line and a score bar
    (viridis by score, with the number written next to it). One axes in inch-like row units
    holds everything (cheaper than an axes per bar)."""
    rows = max(len(lines), 1)
    height = 0.75 + 0.48 * rows + (0.3 if note else 0.0)
    fig = _figure(7.0, height)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_axis_off()
    ax.set_xlim(0, 7.0)
    ax.set_ylim(height, 0)  # y grows downwards, in inches from the top
    ax.text(0.2, 0.42, title, fontsize=13, fontweight="bold", color=TEXT, va="center")
    cmap, norm = colormaps[SCORE_CMAP], Normalize(1, 10)
    scores = np.array([line.score for line in lines], dtype=float)
    tops = 0.85 + 0.48 * np.arange(len(lines))
    for top, line in zip(tops, lines, strict=True):
        ax.text(0.2, top, f"{line.rank}.", fontsize=12, fontweight="bold", color=MUTED,
                va="top")
        ax.text(0.62, top, _clip(line.title, 58), fontsize=10.5, fontweight="bold",
                color=TEXT, va="top")
        ax.text(0.62, top + 0.2, _clip(line.detail, 86), fontsize=8, color=MUTED, va="top")
        ax.text(6.5, top + 0.16, f"{line.score:.1f}", fontsize=9, color=TEXT, va="center")
    bars = ax.barh(tops + 0.16, 0.84 * scores / 10, left=5.6, height=0.16,
                   color=[cmap(norm(v)) for v in scores], edgecolor=TEXT, linewidth=0.4)
    if note:
        ax.text(0.2, height - 0.2, _clip(note, 110), fontsize=7.5, color=MUTED,
                style="italic", va="center")
    return _png(fig, Rendered(b"", 0, 0, plotted={
        "scores": np.array([b.get_width() for b in bars]) * 10 / 0.84}))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


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
            ax.text(0.5, 0.5, "no poster", ha="center", va="center", fontsize=8, color=MUTED,
                    transform=ax.transAxes)
        else:
            ax.imshow(pixels)
        ax.set_title(_clip(caption, 22), fontsize=7.5, color=TEXT, y=-0.12)
    return _png(fig, Rendered(b"", 0, 0, plotted={"refused": np.array(refused, dtype=int)}))
