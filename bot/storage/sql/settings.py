"""Guild settings and one-off set-up steps, written once for both backends (a yes/no setting
is bound as a bool: PostgreSQL stores a boolean, SQLite 0/1)."""

from __future__ import annotations

import time
from typing import Any

from bot.domain.guild_settings import check_changes, settings_from_row

from ..models import GuildSettings
from .common import SETTINGS_COLUMNS
from .executor import SqlStorage


class SettingsQueries(SqlStorage):
    """Guild settings and set-up steps (see the contract for each method's meaning)."""

    async def get_guild_settings(self, guild_id: int) -> GuildSettings:
        row = await self._db.fetchone(
            f"SELECT {', '.join(SETTINGS_COLUMNS)} FROM guild_settings WHERE guild_id = $1",
            guild_id)
        return settings_from_row(guild_id, row)

    async def update_guild_settings(self, guild_id: int, **changes: Any) -> GuildSettings:
        values = check_changes(changes)
        if values:
            assignments = ", ".join(f"{key} = ${n}" for n, key in enumerate(values, start=2))
            async with self._db.transaction() as tx:
                await tx.execute(
                    "INSERT INTO guild_settings (guild_id) VALUES ($1) ON CONFLICT DO NOTHING",
                    guild_id)
                await tx.execute(f"UPDATE guild_settings SET {assignments} WHERE guild_id = $1",
                                 guild_id, *values.values())
        return await self.get_guild_settings(guild_id)

    async def setup_step_done(self, name: str) -> bool:
        return await self._db.fetchone(
            "SELECT 1 FROM setup_steps WHERE name = $1", name) is not None

    async def mark_setup_step(self, name: str) -> None:
        await self._db.execute("INSERT INTO setup_steps (name, done_at) VALUES ($1, $2) "
                               "ON CONFLICT DO NOTHING", name, time.time())
