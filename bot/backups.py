"""Where `python -m bot backup PATH` writes its copy.

PATH names the backup file, except when it names a folder: an existing folder, or any path
written with a trailing slash (`backups/`, created if missing). Then the copy is a new file
inside it, `moviebot-YYYY-MM-DD-HHMMSS.sqlite3` (UTC), never overwriting an earlier backup.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

PREFIX = "moviebot-"
SUFFIX = ".sqlite3"


def names_a_folder(text: str) -> bool:
    """Whether the PATH argument means "a new file inside this folder"."""
    separators = (os.sep, os.altsep) if os.altsep else (os.sep,)
    return text.endswith(separators) or Path(text).is_dir()


def backup_destination(text: str, now: datetime | None = None) -> Path:
    """The file a backup given PATH `text` is written to (see the module docstring)."""
    if not names_a_folder(text):
        return Path(text)
    folder = Path(text)
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%d-%H%M%S")
    candidate = folder / f"{PREFIX}{stamp}{SUFFIX}"
    number = 1
    while candidate.exists():  # two backups in the same second: both kept
        number += 1
        candidate = folder / f"{PREFIX}{stamp}-{number}{SUFFIX}"
    return candidate
