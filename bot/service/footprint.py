"""How many bytes a cached guild model holds of its own (for the memory-sized model cache).

`footprint(obj, shared=...)` walks an object graph the recommender builds (its models, indexes,
item-item matrices: objects of `recommender.*`, numpy arrays, SciPy sparse matrices and the
builtin containers holding them) and adds up the numpy buffers it reaches, each buffer once.
Whatever is reachable from `shared` (the taste prior every guild's model attaches, one copy per
process) is not counted. Anything else (modules, functions, discord.py objects) is not walked.
An estimate: Python object headers are not counted, only array memory, which is what grows with
a guild's size.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MAX_OBJECTS = 200_000  # stop walking past this many objects (a runaway graph): an estimate


def _owner(array: np.ndarray) -> np.ndarray:
    """The array that owns `array`'s memory (a view counts as its base)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def _walk(root: Any, seen: set[int], buffers: dict[int, int]) -> None:
    stack = [root]
    while stack and len(seen) < MAX_OBJECTS:
        obj = stack.pop()
        if obj is None or isinstance(obj, (str, bytes, int, float, bool, type)):
            continue
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            owner = _owner(obj)
            buffers[id(owner)] = owner.nbytes
            if obj.dtype.hasobject:
                stack.extend(obj.ravel().tolist())
            continue
        if isinstance(obj, dict):
            stack.extend(obj.values())
            continue
        if isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend(obj)
            continue
        module = type(obj).__module__ or ""
        if not module.startswith(("recommender", "scipy.sparse")):
            continue
        state = getattr(obj, "__dict__", None)
        if state is not None:
            stack.extend(state.values())
        for name in getattr(type(obj), "__slots__", ()):
            stack.append(getattr(obj, name, None))


def footprint(obj: Any, *, shared: Any = None) -> int:
    """Bytes of numpy memory reachable from `obj` and not from `shared` (see the docstring)."""
    excluded: dict[int, int] = {}
    seen: set[int] = set()
    if shared is not None:
        _walk(shared, seen, excluded)
    seen.discard(id(obj))
    buffers: dict[int, int] = {}
    _walk(obj, seen, buffers)
    return sum(size for key, size in buffers.items() if key not in excluded)


__all__ = ["footprint"]
