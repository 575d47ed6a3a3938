"""The log filter that keeps discord.py's gateway reconnects to one line each.

Apart from `bot.lifecycle` (which imports discord.py) because every command line installs it
(`bot.__main__.setup_logging`), `health` included, and it only needs discord.py once a
reconnect is actually logged.
"""

from __future__ import annotations

import logging


class OneLineReconnects(logging.Filter):
    """discord.py logs each gateway reconnect with a full traceback; keep one line (the cause
    is the network, which a traceback does not explain better)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.getMessage().startswith("Attempting a reconnect"):
            from bot.lifecycle import describe  # discord.py is loaded: it logged this

            error = record.exc_info[1]
            record.msg = f"{record.getMessage()} ({describe(error) if error else 'closed'})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True
