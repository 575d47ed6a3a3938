"""The watchlist's one limit: how many movies a member may keep on it in one server.

Storage enforces it on every write that adds to a watchlist (`/watchlist add`, `/import`, a
movie night's winner), inside the write's transaction, so no path and no race goes past it.
"""

from __future__ import annotations

MAX_WATCHLIST = 5_000
"""Movies one member may keep on their watchlist in one server."""
