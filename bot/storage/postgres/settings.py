"""PostgreSQL storage, guild settings and one-off set-up steps."""

from __future__ import annotations

import time
from typing import Any

from bot.domain.guild_settings import check_changes, settings_from_row

from ..models import GuildSettings
from ..sql.common import SETTINGS_COLUMNS
from .base import PostgresBase


class PostgresSettings(PostgresBase):
    """Guild settings and one-off set-up steps."""

    async def get_guild_settings(self, guild_id: int) -> GuildSettings:
        row = await self._row(
            f"SELECT {', '.join(SETTINGS_COLUMNS)} FROM guild_settings "
            "WHERE guild_id = $1", guild_id)
        return settings_from_row(guild_id, row)

    async def update_guild_settings(self, guild_id: int, **changes: Any) -> GuildSettings:
        values = check_changes(changes)  # PostgreSQL keeps yes/no settings as booleans
        if values:
            assignments = ", ".join(f"{key} = ${n}" for n, key in enumerate(values, start=2))
            async with self._tx() as conn:
                await conn.execute(
                    "INSERT INTO guild_settings (guild_id) VALUES ($1) ON CONFLICT DO NOTHING",
                    guild_id)
                await conn.execute(
                    f"UPDATE guild_settings SET {assignments} WHERE guild_id = $1",
                    guild_id, *values.values())
        return await self.get_guild_settings(guild_id)

    async def setup_step_done(self, name: str) -> bool:
        return await self._row("SELECT 1 FROM setup_steps WHERE name = $1", name) is not None

    async def mark_setup_step(self, name: str) -> None:
        await self._execute("INSERT INTO setup_steps (name, done_at) VALUES ($1, $2) "
                            "ON CONFLICT DO NOTHING", name, time.time())
