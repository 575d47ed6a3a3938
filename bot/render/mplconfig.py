"""A writable folder for matplotlib's configuration and font cache, set before it is imported.

matplotlib keeps its font cache in `~/.config/matplotlib` (or `$XDG_CONFIG_HOME`/`_CACHE_HOME`)
and, when that is not writable (the container's user has a read-only home), warns at every
start and rebuilds the cache in a new temporary folder each time. `MPLCONFIGDIR` chooses the
folder: the Dockerfile sets it; elsewhere `ensure_mplconfigdir()` sets it, when it is unset and
the default folders cannot be written, to a private folder of this user's in the temporary
directory (kept across starts, so the cache is built once).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import MutableMapping
from pathlib import Path

ENV = "MPLCONFIGDIR"


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)


def _default_folders(environ: MutableMapping[str, str]) -> list[Path]:
    home = Path(environ.get("HOME") or Path.home())
    config = Path(environ.get("XDG_CONFIG_HOME") or home / ".config")
    cache = Path(environ.get("XDG_CACHE_HOME") or home / ".cache")
    return [config / "matplotlib", cache / "matplotlib"]


def _private_folder() -> Path:
    """`<tmp>/moviebot-matplotlib-<uid>`, ours and 0700; a fresh one if that name is taken by
    something else (another user, a symlink)."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    folder = Path(tempfile.gettempdir()) / f"moviebot-matplotlib-{uid}"
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    info = folder.lstat()
    if stat.S_ISDIR(info.st_mode) and info.st_uid == uid and os.access(folder, os.W_OK):
        return folder
    return Path(tempfile.mkdtemp(prefix="moviebot-matplotlib-"))


def ensure_mplconfigdir(environ: MutableMapping[str, str] | None = None) -> str | None:
    """Set MPLCONFIGDIR when it is unset and matplotlib's default folders are not writable;
    returns the folder set, or None when nothing was needed."""
    environ = os.environ if environ is None else environ
    if environ.get(ENV) or all(_writable(f) for f in _default_folders(environ)):
        return None
    try:
        folder = str(_private_folder())
    except OSError:
        return None  # matplotlib then makes its own temporary folder (and warns)
    environ[ENV] = folder
    return folder
