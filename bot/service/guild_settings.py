"""SettingsService: a guild's options (who may add movies, rating visibility, model tuning).

Only members with Manage Server may change them (checked from the interaction's permissions, not
only the command's default permissions, which a server can override). The settings, their
defaults and bounds are declared once (`bot.domain.guild_settings`), so a guild cannot make the
model unreasonably large or unstable; a change of a model parameter schedules a refit (the
write and the notification are one call).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.domain.errors import DomainError
from bot.domain.guild_settings import GUILD_SETTINGS, check_changes
from bot.domain.models import GuildSettings
from bot.i18n import _
from bot.service.errors import PermissionRequired
from bot.service.gate import Gate
from bot.service.service import RecommendationService
from bot.storage import Storage

# One set of ranges with the config file's [recommender] validation (bot.domain.tuning).
RANGES: dict[str, tuple[float, float]] = {
    setting.name: setting.bounds for setting in GUILD_SETTINGS if setting.bounds is not None}
MODEL_SETTINGS = frozenset(setting.name for setting in GUILD_SETTINGS if setting.refits)
# What `reset` puts back: the config default for the numbers, the built-in choice otherwise.
RESET_VALUES: dict[str, Any] = {setting.name: setting.default for setting in GUILD_SETTINGS}


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
            raise DomainError(_("Unknown setting to reset: {names}.").format(
                names=", ".join(unknown)))
        changes = check_changes(changes)
        changes = {**{name: RESET_VALUES[name] for name in reset}, **changes}
        async with self.gate.enter():
            if not changes:
                current = await self.storage.get_guild_settings(guild_id)
                return SettingsUpdate(current, False, await self._effective(guild_id))
            before = await self.storage.get_guild_settings(guild_id)
            try:
                current = await self.storage.update_guild_settings(guild_id, **changes)
            except ValueError as error:
                raise DomainError(_("That setting is not valid: {problem}.").format(
                    problem=error)) from error
            retraining = any(getattr(before, name) != getattr(current, name)
                             for name in MODEL_SETTINGS & changes.keys())
            if retraining:
                await self.recommendations.settings_changed(guild_id)
            return SettingsUpdate(current, retraining, await self._effective(guild_id))

    async def _effective(self, guild_id: int) -> dict[str, tuple[float, str]]:
        return await self.recommendations.effective_model_settings(guild_id)
