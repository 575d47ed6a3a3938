"""One schema migration: a version, what it does, and its SQL statements.

Both backends number their migrations alike (`sqlite.migrations`, `postgres.migrations`):
version N means the same schema on either.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]
