"""Per-guild recommendation service: models trained off the event loop, cached, persisted."""

from bot.service.service import GROUP_STRATEGIES, Pick, Picks, RecommendationService

__all__ = ["GROUP_STRATEGIES", "Pick", "Picks", "RecommendationService"]
