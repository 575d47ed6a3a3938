"""Counts in words: "1 movie", "2 movies", "0 movies" (user-visible text and log lines)."""

from __future__ import annotations


def plural(count: int, singular: str, many: str | None = None) -> str:
    """`count` and the noun that agrees with it: `many` (default: singular + "s") unless 1."""
    noun = singular if count == 1 else (many if many is not None else singular + "s")
    return f"{count:,} {noun}" if abs(count) >= 10_000 else f"{count} {noun}"
