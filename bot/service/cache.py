"""A bounded least-recently-used map (guild id -> guild model state).

Bounded by count (`capacity`) or, given `max_bytes` and a `weigh` function, by memory: then the
`capacity` most recently used entries are always kept and older ones stay while every entry's
weight together fits in `max_bytes`. A model cache sized by count alone held 64 models for
2,000 guilds whatever their size, so most look-ups of small guilds (a few kilobytes each)
loaded a saved model again: 1,600 loads a minute in benchmarks/many_guilds.py (issue 24).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LRUCache(Generic[K, V]):
    """The least recently used entry goes first, through `on_evict` (see the docstring)."""

    def __init__(self, capacity: int, on_evict: Callable[[K, V], None] | None = None, *,
                 max_bytes: int | None = None,
                 weigh: Callable[[V], int] | None = None) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        if (max_bytes is None) != (weigh is None):
            raise ValueError("max_bytes and weigh go together")
        self.capacity = capacity
        self.max_bytes = max_bytes
        self._weigh = weigh
        self._items: OrderedDict[K, V] = OrderedDict()
        self._weights: dict[K, int] = {}
        self.bytes = 0  # the entries' weights together (0 when bounded by count)
        self._on_evict = on_evict
        self.hits = 0  # look-ups found (the metrics endpoint reports them)
        self.misses = 0
        self.evictions = 0

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
            self.hits += 1
        else:
            self.misses += 1
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        self._set_weight(key, value)
        self._shrink()

    def reweigh(self, key: K) -> None:
        """The entry's value changed size (e.g. a guild's model was loaded or refitted):
        weigh it again and evict what no longer fits."""
        value = self._items.get(key)
        if value is not None and self._weigh is not None:
            self._set_weight(key, value)
            self._shrink()

    def _set_weight(self, key: K, value: V) -> None:
        if self._weigh is None:
            return
        weight = max(0, int(self._weigh(value)))
        self.bytes += weight - self._weights.get(key, 0)
        self._weights[key] = weight

    def _over(self) -> bool:
        if len(self._items) <= self.capacity:
            return False
        return self.max_bytes is None or self.bytes > self.max_bytes

    def _shrink(self) -> None:
        while self._over():
            old_key, old_value = self._items.popitem(last=False)
            self.bytes -= self._weights.pop(old_key, 0)
            self.evictions += 1
            if self._on_evict is not None:
                self._on_evict(old_key, old_value)

    def pop(self, key: K) -> V | None:
        self.bytes -= self._weights.pop(key, 0)
        return self._items.pop(key, None)

    def values(self) -> list[V]:
        return list(self._items.values())

    def __iter__(self) -> Iterator[K]:
        """The keys, least recently used first (iterate over a copy to pop while looping)."""
        return iter(list(self._items))

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)
