"""Commands that read data refuse a database that is not there (only `run` and `console`
create one).

A `backup`, `purge`, `stats` or `prior status` run from the wrong folder, or with the wrong
`--config`, used to create an empty database and report success on it. `require_database`
raises `MissingDatabaseError`, which the entry point prints as one line (exit code 1).
"""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings


class MissingDatabaseError(Exception):
    """The database the settings name does not exist; the message is one line."""


def require_database(settings: Settings) -> Path:
    """The database path, or MissingDatabaseError when there is no file there."""
    from bot.about import database_server, is_url

    database = Path(settings.database)
    if database_server(settings) or str(database) == ":memory:" or is_url(database) \
            or database.is_file():
        return database  # a database server is checked when the command connects
    where = (f"from {settings.source}" if settings.source is not None and
             settings.database_from == "config" else
             "from MOVIEBOT_DATABASE" if settings.database_from == "environment" else
             "the default")
    raise MissingDatabaseError(
        f"No database at {database.expanduser().resolve()} ({where}): check --config, "
        "MOVIEBOT_DATABASE and the folder you run this from; only `python -m bot run` "
        "(or `console`) creates a new one.")
