"""Shared UI helpers of the cogs: what several commands use to read an interaction and to
render (no commands here, no extension)."""
