"""Batch sizes of the per-request DataLoaders, without touching the loaders' code.

Each ``DataLoader`` of the context's ``Loaders`` gets its batch function wrapped,
once per request: the wrapper reports the number of keys, then calls the original.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from strawberry.dataloader import DataLoader

__all__ = ["instrument_loaders"]

_MARK = "_gateway_observed"

BatchObserver = Callable[[str, int], None]


def _wrap(
    name: str,
    load: Callable[[list[Any]], Awaitable[Sequence[Any]]],
    observe: BatchObserver,
) -> Callable[[list[Any]], Awaitable[Sequence[Any]]]:
    async def load_observed(keys: list[Any]) -> Sequence[Any]:
        observe(name, len(keys))
        return await load(keys)

    setattr(load_observed, _MARK, True)
    return load_observed


def instrument_loaders(loaders: object, observe: BatchObserver) -> int:
    """Wrap every DataLoader attribute of ``loaders``; returns how many were wrapped.

    Idempotent: a loader already wrapped (several operations on one context) is
    left alone.
    """
    try:
        attributes = vars(loaders)
    except TypeError:
        return 0
    wrapped = 0
    for name, loader in attributes.items():
        if not isinstance(loader, DataLoader) or getattr(loader.load_fn, _MARK, False):
            continue
        loader.load_fn = _wrap(name, loader.load_fn, observe)
        wrapped += 1
    return wrapped
