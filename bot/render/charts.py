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
from typing import NamedTuple

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Annotation, Text
from matplotlib.transforms import Bbox

from bot.i18n import _, number

MAX_PNG_BYTES = 500_000
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


class Label(NamedTuple):
    """A label as drawn on a map: its text (as shown, clipped), the labelled point (data
    coordinates) and its kind: "member", "pick" (a top pick) or "title" (a well-known title)."""

    text: str
    x: float
    y: float
    kind: str = "title"


class Extent(NamedTuple):
    """Where an artist landed on the picture, in pixels at `DPI` (origin bottom left): its
    role (the artist's gid: "text", "bar", "label-pick", ...), its text ("" for shapes)."""

    role: str
    text: str
    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Extent) -> bool:
        return (self.x0 < other.x1 and other.x0 < self.x1
                and self.y0 < other.y1 and other.y0 < self.y1)


@dataclass
class Rendered:
    """A drawn picture: PNG bytes, its pixel size and what was plotted (for tests and alt
    text): the data read back from the artists, the labels drawn and the extents of the
    tagged artists (texts, bars, labels) measured by the renderer."""

    png: bytes
    width: int
    height: int
    plotted: dict[str, np.ndarray] = field(default_factory=dict)
    labels: list[Label] = field(default_factory=list)
    extents: list[Extent] = field(default_factory=list)

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


def _renderer(fig: Figure) -> RendererAgg:
    """The Agg renderer of the figure's canvas (measures text as the PNG will show it)."""
    canvas = fig.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    return canvas.get_renderer()


def _extents(fig: Figure) -> list[Extent]:
    """The window extents of every artist given a gid (texts: the text's own box, without
    an annotation's leader line), measured by the figure's renderer at `DPI`."""
    renderer = _renderer(fig)
    found = []
    for artist in fig.findobj(lambda a: a.get_gid() is not None and a.get_visible()):
        if isinstance(artist, Annotation):
            artist.update_positions(renderer)
        if isinstance(artist, Text):
            box = Text.get_window_extent(artist, renderer)
            text = artist.get_text()
        else:
            box = artist.get_window_extent(renderer)
            text = ""
        found.append(Extent(str(artist.get_gid()), text, float(box.x0), float(box.y0),
                            float(box.x1), float(box.y1)))
    return found


# --------------------------------------------------------------------------- taste map
MAP_LABEL_CHARS = 32  # a map label's longest text (clipped with "…")
LABEL_PAD = 3.0  # pixels around a label's text kept clear (its background box)
PICK_HALF = 10.0  # half the size of a top pick's star, pixels at DPI
MEMBER_HALF = 9.0  # half the size of the member's diamond
POINT_HALF = 5.0  # half the size of a rated point
RINGS = (30.0, 48.0, 70.0, 96.0, 128.0, 166.0, 210.0, 260.0, 320.0)  # leader-line lengths
RING_ANGLES = 16
GRID_STEP = 12.0  # pixels between the last-resort positions


@dataclass
class TasteMap:
    """What the taste map shows; every array is already in the map's 2-D coordinates.

    Labels: the member ("you") and every top pick are always labelled (`pick_labels`, one per
    row of `picks`, is each pick's title); the well-known `labels` are optional, placed in
    order where they fit, at most `max_labels` of them."""

    title: str
    movies: np.ndarray  # (n, 2): every movie on the map
    rated: np.ndarray  # (r, 2): the member's rated movies
    rated_scores: np.ndarray  # (r,): their scores, 1-10
    picks: np.ndarray  # (p, 2): the member's top picks
    labels: Sequence[tuple[str, float, float]]  # well-known titles, most important first
    member: np.ndarray | None = None  # (2,): the member in the same space
    member_name: str = "you"
    others: np.ndarray | None = None  # (m, 2): other members (only where ratings are visible)
    axis_notes: tuple[str, str] = ("", "")
    max_labels: int = 12
    pick_labels: Sequence[str] = ()  # the top picks' titles, in the order of `picks`


LABEL_STYLES: dict[str, dict[str, object]] = {
    "member": {"fontsize": 9, "fontweight": "bold",
               "bbox": {"boxstyle": "round,pad=0.15", "fc": BACKGROUND, "ec": "none",
                        "alpha": 0.9}},
    "pick": {"fontsize": 8, "fontweight": "bold",
             "bbox": {"boxstyle": "round,pad=0.2", "fc": BACKGROUND,
                      "ec": OKABE_ITO["vermillion"], "lw": 0.9, "alpha": 0.92}},
    "title": {"fontsize": 7.5,
              "bbox": {"boxstyle": "round,pad=0.15", "fc": BACKGROUND, "ec": "none",
                       "alpha": 0.85}},
}


def _segment_hits(a: np.ndarray, b: np.ndarray, box: Bbox) -> bool:
    """Whether the segment a-b passes through `box` (Liang-Barsky clipping)."""
    t0, t1 = 0.0, 1.0
    d = b - a
    for p, q in ((-d[0], a[0] - box.x0), (d[0], box.x1 - a[0]),
                 (-d[1], a[1] - box.y0), (d[1], box.y1 - a[1])):
        if abs(p) < 1e-12:
            if q < 0:
                return False
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return False
    return True


class _LabelPlacer:
    """Places labels on a map without overlaps, in pixels measured by the renderer.

    Every placed label's box, every leader line and the big markers (stars, the member's
    diamond) are obstacles for the labels that follow. A required label tries the eight
    places touching its point, then places on rings further out joined to the point by a
    leader line, then any free place in the plot, and when the plot is full, the place
    that overlaps least: it is always drawn. An optional label tries only the eight touching
    places and is left out when none is free. Among free places of the same distance, the
    one covering the fewest other points wins."""

    def __init__(self, ax: Axes, fig: Figure, crowd: np.ndarray,
                 markers: Sequence[tuple[np.ndarray, float]]) -> None:
        self.ax, self.fig = ax, fig
        self.renderer = _renderer(fig)
        self.bounds = ax.get_window_extent(self.renderer).shrunk(0.995, 0.995)
        self.crowd = crowd  # (n, 2) pixel positions of points a label should rather not hide
        self.boxes: list[Bbox] = [Bbox.from_bounds(x - h, y - h, 2 * h, 2 * h)
                                  for (x, y), h in markers]
        self.segments: list[tuple[np.ndarray, np.ndarray]] = []

    def _size(self, text: str, style: dict[str, object]) -> tuple[float, float]:
        probe = self.ax.text(0, 0, text, fontsize=style["fontsize"],
                             fontweight=style.get("fontweight", "normal"))
        box = probe.get_window_extent(self.renderer)
        probe.remove()
        return box.width + 2 * LABEL_PAD, box.height + 2 * LABEL_PAD

    def _tiers(self, p: np.ndarray, w: float, h: float, gap: float, required: bool,
               standoff: bool) -> list[list[np.ndarray]]:
        """Candidate centres, nearest tier first (`standoff`: none touching the point)."""
        x, y = p
        dx, dy = gap + w / 2, gap + h / 2
        touching = [np.array(c) for c in (
            (x + dx, y), (x - dx, y), (x, y + dy), (x, y - dy),
            (x + 0.7 * gap + w / 2, y + 0.7 * gap + h / 2),
            (x - 0.7 * gap - w / 2, y + 0.7 * gap + h / 2),
            (x + 0.7 * gap + w / 2, y - 0.7 * gap - h / 2),
            (x - 0.7 * gap - w / 2, y - 0.7 * gap - h / 2))]
        tiers = [] if standoff else [touching]
        if not required:
            return tiers
        angles = np.linspace(0, 2 * np.pi, RING_ANGLES, endpoint=False)
        for radius in RINGS:
            tiers.append([np.array((x + np.cos(a) * (radius + w / 2),
                                    y + np.sin(a) * (radius + h / 2))) for a in angles])
        b = self.bounds
        xs = np.arange(b.x0 + w / 2, b.x1 - w / 2 + 1e-9, GRID_STEP)
        ys = np.arange(b.y0 + h / 2, b.y1 - h / 2 + 1e-9, GRID_STEP)
        grid = [np.array((gx, gy)) for gx in xs for gy in ys]
        grid.sort(key=lambda c: float(np.hypot(*(c - p))))
        tiers.append(grid)
        return tiers

    def _conflicts(self, p: np.ndarray, box: Bbox,
                   leader: tuple[np.ndarray, np.ndarray] | None) -> int:
        """How many obstacles the label box (and its leader line) would overlap; a place
        outside the plot counts as many."""
        count = 0
        b = self.bounds
        if box.x0 < b.x0 or box.x1 > b.x1 or box.y0 < b.y0 or box.y1 > b.y1:
            count += 1000
        for other in self.boxes:
            if box.overlaps(other):
                count += 10  # text over text or a marker: worse than a line across a label
            elif (leader is not None and not other.contains(*p)  # (a line starts on its
                  and _segment_hits(*leader, other)):            # point, in any marker there)
                count += 1
        for a, c in self.segments:
            if _segment_hits(a, c, box):
                count += 1
        return count

    def _cover(self, box: Bbox) -> int:
        if not len(self.crowd):
            return 0
        inside = ((self.crowd[:, 0] >= box.x0) & (self.crowd[:, 0] <= box.x1)
                  & (self.crowd[:, 1] >= box.y0) & (self.crowd[:, 1] <= box.y1))
        return int(inside.sum())

    def place(self, text: str, xy: tuple[float, float], kind: str, half: float,
              required: bool, standoff: bool = False) -> tuple[Annotation | None, int]:
        """Draw the label at its best place; returns it (None: an optional label that did
        not fit) and how badly its place conflicts with others (0: not at all)."""
        style = LABEL_STYLES[kind]
        p = np.asarray(self.ax.transData.transform(xy), dtype=float)
        w, h = self._size(text, style)
        gap = half + 2.0
        best: tuple[int, np.ndarray, Bbox, bool] | None = None  # the fallback: least bad
        chosen = None
        for tier_no, tier in enumerate(self._tiers(p, w, h, gap, required, standoff)):
            free = []
            led = tier_no > 0 or standoff
            for centre in tier:
                box = Bbox.from_bounds(centre[0] - w / 2, centre[1] - h / 2, w, h)
                leader = (p, np.clip(p, [box.x0, box.y0], [box.x1, box.y1])) if led else None
                bad = self._conflicts(p, box, leader)
                if bad == 0:
                    free.append((self._cover(box), centre, box, led))
                elif best is None or bad < best[0]:
                    best = (bad, centre, box, led)
            if free:
                chosen = min(free, key=lambda f: f[0])[1:]
                break
        conflicts = 0
        if chosen is None:
            if not required or best is None:
                return None, 0
            conflicts, chosen = best[0], best[1:]
        centre, box, led = chosen
        offset = (centre - p) * 72.0 / self.fig.dpi  # points: right at any saved resolution
        artist = self.ax.annotate(
            text, xy, xytext=(float(offset[0]), float(offset[1])), textcoords="offset points",
            ha="center", va="center", color=TEXT, zorder=6, gid=f"label-{kind}",
            fontsize=style["fontsize"], fontweight=style.get("fontweight", "normal"),
            bbox=style["bbox"],
            arrowprops=({"arrowstyle": "-", "color": MUTED, "lw": 0.8, "shrinkA": 0,
                         "shrinkB": half * 72.0 / self.fig.dpi} if led else None))
        self.boxes.append(box)
        if led:
            self.segments.append((p, np.clip(p, [box.x0, box.y0], [box.x1, box.y1])))
        return artist, conflicts


def _label_map(ax: Axes, fig: Figure, data: TasteMap) -> list[Label]:
    """Label the member and every top pick (always), then the well-known titles that fit;
    returns the labels as drawn (read back from the artists)."""
    crowd_parts = [data.rated.reshape(-1, 2)]
    if data.others is not None:
        crowd_parts.append(data.others.reshape(-1, 2))
    if len(data.movies) <= 2000:
        crowd_parts.append(data.movies.reshape(-1, 2))
    crowd = np.vstack(crowd_parts) if crowd_parts else np.zeros((0, 2))
    to_px = ax.transData.transform
    markers: list[tuple[np.ndarray, float]] = [(to_px(p), PICK_HALF)
                                               for p in data.picks.reshape(-1, 2)]
    if data.member is not None:
        markers.append((to_px(data.member.reshape(2)), MEMBER_HALF))
    pixels = to_px(crowd) if len(crowd) else crowd
    required: list[tuple[str, np.ndarray, str, float]] = []
    if data.member is not None:
        required.append((data.member_name, data.member.reshape(2), "member", MEMBER_HALF))
    required += [(title, xy, "pick", PICK_HALF)
                 for title, xy in zip(data.pick_labels, data.picks.reshape(-1, 2), strict=False)]
    # First attempt: labels touch their points where they can. When that leaves a label in
    # conflict (a crowd of picks walled in by its neighbours' labels), every label stands off
    # on a leader line instead, which keeps lanes open; the attempt with fewer conflicts stays.
    attempt: tuple[int, _LabelPlacer, list[tuple[Annotation, Label]]] | None = None
    for standoff in (False, True):
        placer = _LabelPlacer(ax, fig, pixels, markers)
        drawn: list[tuple[Annotation, Label]] = []
        conflicts = 0
        for text, xy, kind, half in required:
            x, y = float(xy[0]), float(xy[1])
            artist, bad = placer.place(_clip(text, MAP_LABEL_CHARS), (x, y), kind, half,
                                       True, standoff)
            assert artist is not None  # required labels are always drawn
            conflicts += bad
            drawn.append((artist, Label(artist.get_text(), x, y, kind)))
        if attempt is None or conflicts < attempt[0]:
            if attempt is not None:
                for artist, _label in attempt[2]:
                    artist.remove()
            attempt = (conflicts, placer, drawn)
        else:
            for artist, _label in drawn:
                artist.remove()
        if attempt[0] == 0:
            break
    assert attempt is not None
    _conflicts, placer, drawn = attempt
    taken = {label.text for _a, label in drawn}
    optional = 0
    for text, x, y in data.labels:
        if optional >= data.max_labels:
            break
        shown = _clip(text, MAP_LABEL_CHARS)
        if shown in taken:
            continue  # a top pick that is also well known: labelled already
        artist, _bad = placer.place(shown, (float(x), float(y)), "title", POINT_HALF, False)
        if artist is not None:
            optional += 1
            taken.add(shown)
            drawn.append((artist, Label(artist.get_text(), float(x), float(y), "title")))
    return [label for artist, label in drawn if artist.figure is not None]


def draw_taste_map(data: TasteMap) -> Rendered:
    """The server's movies as points, the member's rated ones coloured by score, their top
    picks as stars, the member as a diamond; the member and every top pick labelled (with a
    leader line when the label had to move away), then a few well-known titles where they
    fit (`_LabelPlacer`). `Rendered.labels` are the labels as drawn."""
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
                            alpha=0.5, linewidths=0, label=_("movies here"), zorder=1)
    others = None
    if data.others is not None and len(data.others):
        others = ax.scatter(data.others[:, 0], data.others[:, 1], s=22, marker="+",
                            c=OKABE_ITO["sky"], linewidths=0.9, label=_("other members"),
                            zorder=2)
    norm = Normalize(1, 10)
    rated = ax.scatter(data.rated[:, 0], data.rated[:, 1], s=46, c=data.rated_scores,
                       cmap=SCORE_CMAP, norm=norm, edgecolors=TEXT, linewidths=0.5,
                       label=_("rated, by score"), zorder=3)
    picks = ax.scatter(data.picks[:, 0], data.picks[:, 1], s=190, marker="*",
                       c=OKABE_ITO["vermillion"], edgecolors=TEXT, linewidths=0.6,
                       label=_("top picks"), zorder=4)
    member_xy = np.zeros((0, 2))
    if data.member is not None:
        member_xy = data.member.reshape(1, 2)
        ax.scatter(member_xy[:, 0], member_xy[:, 1], s=150, marker="D", c=OKABE_ITO["black"],
                   edgecolors="white", linewidths=1.2, label=data.member_name, zorder=5)
    colorbar = fig.colorbar(rated, ax=ax, cax=fig.add_axes((0.82, 0.5, 0.025, 0.4)))
    colorbar.set_label(_("score"), color=MUTED, fontsize=8)
    colorbar.ax.tick_params(colors=MUTED, labelsize=8)
    colorbar.set_ticks([1, 4, 7, 10])
    handles = [
        Line2D([], [], marker="o", ls="", color="#a0a7b0", label=_("movies here")),
        Line2D([], [], marker="o", ls="", mfc=OKABE_ITO["green"], mec=TEXT,
               label=_("rated, by score")),
        Line2D([], [], marker="*", ls="", ms=12, mfc=OKABE_ITO["vermillion"], mec=TEXT,
               label=_("top picks")),
    ]
    if data.member is not None:
        handles.append(Line2D([], [], marker="D", ls="", mfc="black", mec="white",
                              label=_clip(data.member_name, 18)))  # (inside the card)
    if others is not None:
        handles.append(Line2D([], [], marker="+", ls="", color=OKABE_ITO["sky"],
                              label=_("other members")))
    fig.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.795, 0.08), fontsize=8,
               frameon=False, labelcolor=TEXT)
    labels = _label_map(ax, fig, data)
    rendered = Rendered(b"", 0, 0, labels=labels, extents=_extents(fig), plotted={
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
    ax.set_xlabel(_("score"), fontsize=8)
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
    left.set_xlabel(_("score"), fontsize=8)
    left.set_title(_("how you score"), loc="left", fontsize=9)
    left.yaxis.get_major_locator().set_params(integer=True)  # type: ignore[call-arg]
    right = fig.add_axes((0.62, 0.15, 0.35, 0.66))
    _style(right)
    right.set_title(_("genres you rate highest"), loc="left", fontsize=9)
    shown = list(genres)[:6]
    names = [f"{name} ({n})" for name, _mean, n in shown][::-1]
    means = np.array([mean for _name, mean, _n in shown][::-1], dtype=float)
    gbars = right.barh(np.arange(len(shown)), means,
                       color=[cmap(norm(m)) for m in means], edgecolor=TEXT, linewidth=0.4)
    right.set_yticks(np.arange(len(shown)), names, fontsize=8, color=TEXT)
    right.set_xlim(0, 10)
    right.set_xlabel(_("average score"), fontsize=8)
    for bar, mean in zip(gbars, means, strict=True):
        right.text(min(bar.get_width() + 0.15, 9.2), bar.get_y() + bar.get_height() / 2,
                   number(mean, digits=1), va="center", fontsize=8, color=TEXT)
    if not shown:
        right.text(5, 0.5, _("rate two movies of a genre to see it here"), ha="center",
                   fontsize=8, color=MUTED, transform=right.transData)
        right.set_yticks([])
    return _png(fig, Rendered(b"", 0, 0, plotted={
        "counts": np.array([b.get_height() for b in bars]),
        "genre_means": np.array([b.get_width() for b in gbars])[::-1],
    }))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
