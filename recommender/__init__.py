"""Pure numpy/scipy collaborative filtering for one guild's ratings (no discord, no SQL).

See ``docs/architecture.md`` ("Recommender contract") and ``model.py`` for the model.
"""

from .index import count_distinct, distinct_ids
from .model import CFModel
from .prior import GuildPrior, TastePrior, build_prior
from .types import FitReport, ModelConfig, Recommendation

__all__ = ["CFModel", "FitReport", "GuildPrior", "ModelConfig", "Recommendation", "TastePrior",
           "build_prior", "count_distinct", "distinct_ids"]
