"""`python -m bot console`: try the real bot without Discord.

Starts the local Discord emulator, a demo server ("Demo Club") whose simulated members already
rated movies, and the real bot logged into it; then reads slash commands typed as in Discord and
prints the replies as text. Interactive at a terminal (line editing and history when `readline`
is available, Tab completes commands and member names, Ctrl-C cancels a waiting command or
quits); commands from stdin or `--script FILE` work the same way (each line is echoed, and the
line after one that opens a form answers the form's field), so it can be scripted and tested.
The console exits 0 at the end of its input or on `quit`. The /recommend cooldown is off unless
`--cooldown` is given, so a script can ask for picks back to back.

This package sits outside the runtime (`bot`, `cogs`, `recommender` never import it or the
emulator); it is the only code besides tests and benchmarks that imports `emulator`, and only
when a session starts. Modules by job:

- `app`: the subcommand's arguments (`register`) and the run loop (`run_console`)
- `demo`: the demo server and the simulated members' ratings
- `reader`: the line reader, readline history and completion, the terminal
- `options`: parsing `/command option:value` into the values Discord would send
- `session`: `Console`, which runs one typed line against the emulator
- `render`: printing the bot's replies, embeds and components as text
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .app import register, run_console

if TYPE_CHECKING:
    from .demo import seed_demo_ratings
    from .options import ConsoleError, OptionParser
    from .reader import LineReader
    from .session import Console

# Names imported on first use (PEP 562): `options` and `session` load discord.py, which the
# bot's `--help` (that imports `register`) must not pay for.
_LAZY = {"Console": ".session", "ConsoleError": ".options", "LineReader": ".reader",
         "OptionParser": ".options", "seed_demo_ratings": ".demo"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

__all__ = ["Console", "ConsoleError", "LineReader", "OptionParser", "register", "run_console",
           "seed_demo_ratings"]
