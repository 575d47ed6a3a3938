"""Model tuning a guild may override: the one set of ranges for the config and `/settings`.

`[recommender]` in the config file (`bot.config`), the settings service
(`bot.service.guild_settings.RANGES`) and the `/settings` options (`cogs.settings`) all read
these bounds, so a value the config accepts is one `/settings` accepts, and the other way round.
They are narrow on purpose: a guild (or a config) cannot make a model unreasonably large or
unstable (no regularisation at all over-fits a small server's ratings).
"""

from __future__ import annotations

MIN_RATINGS_RANGE: tuple[int, int] = (1, 50)
FEATURES_RANGE: tuple[int, int] = (2, 50)
REGULARIZATION_RANGE: tuple[float, float] = (0.01, 100.0)

TUNABLE_RANGES: dict[str, tuple[float, float]] = {
    "min_ratings_for_personal": MIN_RATINGS_RANGE,
    "features": FEATURES_RANGE,
    "regularization": REGULARIZATION_RANGE,
}
