"""SQLite storage, guild settings and one-off set-up steps."""

from __future__ import annotations

import time
from typing import Any

from bot.domain.guild_settings import settings_from_row

from ..models import GuildSettings
from ..sql.common import SETTINGS_COLUMNS, settings_changes
from .base import SqliteBase


class SqliteSettings(SqliteBase):
    """Guild settings and one-off set-up steps."""

    async def get_guild_settings(self, guild_id: int) -> GuildSettings:
        """The guild's settings (defaults when it never changed any)."""
        row = await self._fetchone(
            f"SELECT {', '.join(SETTINGS_COLUMNS)} FROM guild_settings WHERE guild_id = ?",
            (guild_id,),
        )
        return settings_from_row(guild_id, row)

    async def update_guild_settings(self, guild_id: int, **changes: Any) -> GuildSettings:
        """Change some settings (keyword names as in GuildSettings); returns the new settings.

        ValueError for an unknown name or a bad value; None resets a numeric setting to the
        config default.
        """
        values = settings_changes(changes)
        if values:
            assignments = ", ".join(f"{key} = ?" for key in values)
            async with self._transaction() as conn:
                await conn.execute(
                    "INSERT INTO guild_settings (guild_id) VALUES (?) ON CONFLICT DO NOTHING",
                    (guild_id,))
                await conn.execute(
                    f"UPDATE guild_settings SET {assignments} WHERE guild_id = ?",
                    (*values.values(), guild_id))
        return await self.get_guild_settings(guild_id)

    async def setup_step_done(self, name: str) -> bool:
        """Whether the one-off set-up step `name` (e.g. "starter_catalog") was done here."""
        row = await self._fetchone("SELECT 1 FROM setup_steps WHERE name = ?", (name,))
        return row is not None

    async def mark_setup_step(self, name: str) -> None:
        """Record the set-up step `name` as done (again: keeps the first time)."""
        await self._write("INSERT OR IGNORE INTO setup_steps (name, done_at) VALUES (?, ?)",
                          (name, time.time()))
