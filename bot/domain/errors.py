"""`DomainError`: a value breaks a domain rule; its message is meant for a member."""

from __future__ import annotations


class DomainError(ValueError):
    """A value breaks a domain rule (score out of range, empty title, unknown genre...).

    A `ValueError`, so code that validated with `ValueError` before keeps working; the message
    is plain text a member can act on (the cogs escape nothing in it: it quotes no user text
    unless the caller made it safe)."""
