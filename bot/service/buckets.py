"""Per-member token buckets: a flood from one member costs only that member.

Each member has a bucket of `burst` tokens that refills at `per_second`; a request takes one
token, or is refused with the seconds until the next one. Two budgets (`[limits]` in the
config, `MemberBudgets.from_settings`):

* autocomplete: a refused autocomplete gets an empty list at once, with no database read (100
  autocompletes from one member used to queue everyone's commands behind them for ~27 s);
* commands that read a lot (`/movies search|info|top`, `/ratings`, `/recommend`, `/similar`,
  `/taste`, `/watchlist show`, page turns): a refused one gets "slow down, try again in N s".

Keyed by the member's user id across servers (one database serves them all), kept in memory
(per process), pruned of full buckets past `MAX_MEMBERS`. `burst = 0` turns a budget off.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.config import LimitSettings

MAX_MEMBERS = 50_000  # buckets kept before the full (idle) ones are dropped


class TokenBuckets:
    """One token bucket per key (see the module docstring)."""

    def __init__(self, burst: int, per_second: float, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = burst
        self.per_second = per_second
        self._clock = clock
        self._buckets: dict[int, tuple[float, float]] = {}  # key -> (tokens, as of when)
        self.refused = 0  # requests refused so far (tests, logs)

    @property
    def enabled(self) -> bool:
        return self.burst > 0 and self.per_second > 0

    def _tokens(self, key: int, now: float) -> float:
        tokens, stamp = self._buckets.get(key, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - stamp) * self.per_second)

    def take(self, key: int) -> float | None:
        """None if `key` may go ahead (a token is taken), else the seconds until it may."""
        if not self.enabled:
            return None
        now = self._clock()
        tokens = self._tokens(key, now)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            self.refused += 1
            return (1.0 - tokens) / self.per_second
        self._buckets[key] = (tokens - 1.0, now)
        if len(self._buckets) > MAX_MEMBERS:
            self._prune(now)
        return None

    def _prune(self, now: float) -> None:
        self._buckets = {k: v for k, v in self._buckets.items()
                         if self._tokens(k, now) < self.burst}


@dataclass
class MemberBudgets:
    """The per-member budgets the cogs consult before reading on a member's behalf."""

    autocomplete: TokenBuckets
    reads: TokenBuckets

    @classmethod
    def from_settings(cls, limits: LimitSettings) -> MemberBudgets:
        return cls(TokenBuckets(limits.autocomplete_burst, limits.autocomplete_per_second),
                   TokenBuckets(limits.command_burst, limits.command_per_second))

    @classmethod
    def unlimited(cls) -> MemberBudgets:
        return cls(TokenBuckets(0, 0.0), TokenBuckets(0, 0.0))

    def may_autocomplete(self, user_id: int) -> bool:
        return self.autocomplete.take(user_id) is None

    def read_wait(self, user_id: int) -> float | None:
        """None if the member may run a command that reads a lot, else seconds to wait."""
        return self.reads.take(user_id)
