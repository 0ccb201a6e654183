"""``weakly_bound``: a bound method that does not keep its object alive.

A request's objects (its loaders, upstream session, executor and every upstream
answer they cache) should be freed by reference counting the moment the request
ends. A bound method stored on an object its own instance owns closes a reference
cycle instead (``Loaders`` -> DataLoader -> ``Loaders._load_threads`` -> ``Loaders``),
and a cycle is freed only by the garbage collector, with everything it reaches:
a few hundred objects per request, left for the middle generation, whose
collections then stopped the process for 0.2-0.35 s at a time under load
(BENCHMARKS.md, "Pauses"). ``tests/schema/test_cycles.py`` keeps a chat operation
free of cyclic garbage.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

__all__ = ["weakly_bound"]

P = ParamSpec("P")
R = TypeVar("R")


def weakly_bound(method: Callable[P, R]) -> Callable[P, R]:
    """``method`` (bound), holding its object weakly: the owner outlives every call."""
    ref: weakref.WeakMethod[Any] = weakref.WeakMethod(method)

    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        bound = ref()
        if bound is None:
            raise ReferenceError("called after its object was freed")
        result: R = bound(*args, **kwargs)
        return result

    return call
