"""Drawing the bot's pictures (PNG bytes) with matplotlib's Agg backend.

Pure functions of plain data (numpy arrays, strings): no Discord, no storage, no event loop.
`bot.service.pictures` decides *what* is drawn (privacy, projections, caching) and runs these
in its own worker thread; `charts` draws (`cards`: the /recommend card and poster grid).
See `charts` for the look (theme-neutral card, colour-blind-safe palette, size cap).
"""

from bot.render.mplconfig import ensure_mplconfigdir

ensure_mplconfigdir()  # before matplotlib is first imported (by charts, here)

from bot.render.cards import CardLine, draw_picks_card, draw_poster_grid  # noqa: E402
from bot.render.charts import (  # noqa: E402
    MAX_PNG_BYTES,
    Distribution,
    Rendered,
    TasteMap,
    draw_distribution,
    draw_ratings_summary,
    draw_taste_map,
)

__all__ = [
    "MAX_PNG_BYTES",
    "CardLine",
    "Distribution",
    "Rendered",
    "TasteMap",
    "draw_distribution",
    "draw_picks_card",
    "draw_poster_grid",
    "draw_ratings_summary",
    "draw_taste_map",
]
