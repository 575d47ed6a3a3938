"""One-line explanations of start-up failures a person running the bot can fix."""

from __future__ import annotations


def user_facing_error(error: BaseException) -> str | None:
    """The line to print for a known, fixable failure; None for a real bug (show the trace)."""
    import discord

    from bot.storage import StorageError

    if isinstance(error, discord.LoginFailure):
        return ("Discord rejected the bot token: copy a fresh one from the Developer Portal "
                "(Bot > Reset Token) into DISCORD_TOKEN or [discord] token.")
    if isinstance(error, discord.PrivilegedIntentsRequired):
        return ("Discord refused the bot's gateway intents (close code 4014): this bot asks "
                "only for Guilds and Voice States, which need no approval; if you changed "
                "bot_intents(), turn the matching switches on in the Developer Portal "
                "(Bot > Privileged Gateway Intents).")
    if isinstance(error, discord.ConnectionClosed) and error.code == 4011:
        return ("Discord requires sharding for this many servers (close code 4011): set "
                "[sharding] shard_count (README 'Scaling out').")
    if isinstance(error, discord.ConnectionClosed) and error.code == 4010:
        return ("Discord refused a shard id (close code 4010): every cluster needs the same "
                "[sharding] shard_count and clusters, and cluster_id below clusters.")
    from redis.exceptions import ConnectionError as RedisUnreachable

    if isinstance(error, RedisUnreachable):  # the cluster's locks, the refit queue
        return f"Cannot reach Redis ([redis] url or MOVIEBOT_REDIS_URL): {error}"
    if isinstance(error, StorageError):
        return f"Database error: {error}"
    if isinstance(error, PermissionError):
        return f"Permission denied: {error.filename or error}"
    return None
