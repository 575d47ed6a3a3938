"""SQLite storage, guilds' saved models (blobs under the ratings-version guard)."""

from __future__ import annotations

import time

from ..models import SavedModel
from . import bulk
from .base import SqliteBase, _retry_busy


class SqliteSavedModels(SqliteBase):
    """Guilds' saved models (blobs under the ratings-version guard)."""

    async def save_model(self, guild_id: int, blob: bytes, *,
                         ratings_version: int | None = None, settings_key: str = "") -> bool:
        """Store the guild's serialised model (on the bulk connection), trained on ratings
        version `ratings_version` (None: the current one) with `settings_key`. A model of
        older ratings never replaces a newer one: returns False then."""
        if ratings_version is None:
            ratings_version, _count = await self.ratings_version(guild_id)
        cursor = await _retry_busy(
            self._bulk.execute, bulk.SAVE_MODEL_SQL,
            (guild_id, bytes(blob), time.time(), int(ratings_version), settings_key))
        saved = cursor.rowcount > 0
        await cursor.close()
        return saved

    async def delete_model(self, guild_id: int) -> None:
        """Forget the guild's saved model (a member was forgotten): an empty tombstone at the
        current ratings version, so a fit of older ratings still running cannot save the
        forgotten member back."""
        await self._write(bulk.FORGET_MODEL_SQL, (guild_id, time.time()))

    async def load_model(self, guild_id: int) -> bytes | None:
        state = await self.load_model_state(guild_id)
        return state.blob if state is not None else None

    async def load_model_state(self, guild_id: int) -> SavedModel | None:
        """The saved model with the ratings version and settings it was trained on."""
        row = await self._fetchone(bulk.MODEL_STATE_SQL, (guild_id,))
        if row is None:
            return None
        return SavedModel(bytes(row[0]) or None, int(row[1]), str(row[2]))
