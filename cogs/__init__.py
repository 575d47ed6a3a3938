"""Slash commands. Each module is a discord.py extension with one thin cog; shared helpers
(text safety, movie lookup, pagination, checks) live in the modules without `setup`."""
