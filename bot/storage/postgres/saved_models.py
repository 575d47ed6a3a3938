"""PostgreSQL storage, guilds' saved models (blobs under the ratings-version guard)."""

from __future__ import annotations

import time

from ..models import SavedModel
from . import bulk as pg_bulk
from .base import PostgresBase


class PostgresSavedModels(PostgresBase):
    """Guilds' saved models (blobs under the ratings-version guard)."""

    async def save_model(self, guild_id: int, blob: bytes, *,
                         ratings_version: int | None = None, settings_key: str = "") -> bool:
        if ratings_version is None:
            ratings_version, _count = await self.ratings_version(guild_id)
        async with self._pool.acquire() as conn:
            return await pg_bulk.save_model(conn, guild_id, blob,
                                            ratings_version=int(ratings_version),
                                            settings_key=settings_key)

    async def delete_model(self, guild_id: int) -> None:
        await self._execute(pg_bulk.FORGET_MODEL_SQL, guild_id, time.time())

    async def load_model(self, guild_id: int) -> bytes | None:
        state = await self.load_model_state(guild_id)
        return state.blob if state is not None else None

    async def load_model_state(self, guild_id: int) -> SavedModel | None:
        async with self._pool.acquire() as conn:
            return await pg_bulk.load_model_state(conn, guild_id)
