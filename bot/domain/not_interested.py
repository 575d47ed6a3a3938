"""The "Not interested" list's one limit: how many movies a member may hide in one server.

Storage keeps at most this many per member and guild: hiding one more forgets the oldest
(it comes back to the member's picks), so no path grows the table without bound.
"""

from __future__ import annotations

MAX_NOT_INTERESTED = 5_000
"""Movies one member may keep hidden from their picks in one server."""
