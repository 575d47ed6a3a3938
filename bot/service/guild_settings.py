"""SettingsService: a guild's options (who may add movies, rating visibility, model tuning).

Only members with Manage Server may change them (checked from the interaction's permissions, not
only the command's default permissions, which a server can override). Values are bounded here
so a guild cannot make the model unreasonably large or unstable; a change of a model parameter
schedules a refit (the write and the notification are one call).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.domain.errors import DomainError
from bot.domain.models import GuildSettings
from bot.domain.tuning import TUNABLE_RANGES
from bot.service.errors import PermissionRequired
from bot.service.gate import Gate
from bot.service.service import RecommendationService
from bot.storage import Storage

ADD_MOVIE_PERMISSIONS = ("manage_guild", "everyone")
# One set of ranges with the config file's [recommender] validation (bot.domain.tuning).
RANGES: dict[str, tuple[float, float]] = dict(TUNABLE_RANGES)
MODEL_SETTINGS = frozenset({"features", "regularization"})


# What `reset` puts back: the config default for the numbers, the built-in choice otherwise.
RESET_VALUES: dict[str, Any] = {
    "add_movie_permission": "manage_guild",
    "ratings_visible": True,
    "min_ratings_for_personal": None,
    "features": None,
    "regularization": None,
}


@dataclass(frozen=True, slots=True)
class SettingsUpdate:
    settings: GuildSettings
    retraining: bool  # a model parameter changed: the model is refitted shortly
    # The model's effective values and their origin ("default", "auto" or "set"); see
    # RecommendationService.effective_model_settings.
    effective: dict[str, tuple[float, str]] = field(default_factory=dict)


class SettingsService:
    def __init__(self, storage: Storage, recommendations: RecommendationService,
                 gate: Gate) -> None:
        self.storage = storage
        self.recommendations = recommendations
        self.gate = gate

    async def get(self, guild_id: int) -> GuildSettings:
        async with self.gate.enter():
            return await self.storage.get_guild_settings(guild_id)

    async def update(self, guild_id: int, *, can_manage_guild: bool,
                     reset: tuple[str, ...] = (), **changes: Any) -> SettingsUpdate:
        """Apply `changes` (GuildSettings field names; None values are ignored), after putting
        the settings named in `reset` back to their defaults (RESET_VALUES)."""
        if not can_manage_guild:
            raise PermissionRequired("manage_guild", "change the server settings")
        changes = {k: v for k, v in changes.items() if v is not None}
        unknown = [name for name in reset if name not in RESET_VALUES]
        if unknown:
            raise DomainError(f"Unknown setting to reset: {', '.join(unknown)}.")
        for name, value in changes.items():
            if name in RANGES:
                low, high = RANGES[name]
                if isinstance(value, bool) or not low <= value <= high:
                    raise DomainError(f"`{name}` must be between {low:g} and {high:g}.")
            elif name == "add_movie_permission" and value not in ADD_MOVIE_PERMISSIONS:
                raise DomainError("Who can add movies must be moderators or everyone.")
        if "regularization" in changes:
            changes["regularization"] = float(changes["regularization"])
        changes = {**{name: RESET_VALUES[name] for name in reset}, **changes}
        async with self.gate.enter():
            if not changes:
                current = await self.storage.get_guild_settings(guild_id)
                return SettingsUpdate(current, False, await self._effective(guild_id))
            before = await self.storage.get_guild_settings(guild_id)
            try:
                current = await self.storage.update_guild_settings(guild_id, **changes)
            except ValueError as error:
                raise DomainError(f"That setting is not valid: {error}.") from error
            retraining = any(getattr(before, name) != getattr(current, name)
                             for name in MODEL_SETTINGS & changes.keys())
            if retraining:
                await self.recommendations.settings_changed(guild_id)
            return SettingsUpdate(current, retraining, await self._effective(guild_id))

    async def _effective(self, guild_id: int) -> dict[str, tuple[float, str]]:
        return await self.recommendations.effective_model_settings(guild_id)
