"""gateway.gc_tuning: the start-up heap frozen, the young threshold raised, the rest kept."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from gateway.gc_tuning import MIDDLE_THRESHOLD, YOUNG_THRESHOLD, tune_for_serving


@pytest.fixture
def restore_gc() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    yield before
    gc.unfreeze()
    gc.set_threshold(*before)


def test_freezes_the_heap_and_raises_the_young_and_middle_thresholds(
    restore_gc: tuple[int, int, int],
) -> None:
    gc.unfreeze()
    survivor: list[object] = [object()]  # a list is always tracked by the collector
    tune_for_serving()
    assert gc.get_freeze_count() > 0
    assert gc.is_tracked(survivor)
    assert all(o is not survivor for o in gc.get_objects())  # frozen: no generation scans it
    assert gc.get_threshold() == (YOUNG_THRESHOLD, MIDDLE_THRESHOLD, restore_gc[2])
    assert restore_gc[0] < YOUNG_THRESHOLD
    assert restore_gc[1] < MIDDLE_THRESHOLD


def test_garbage_made_after_start_up_is_still_collected(restore_gc: tuple[int, int, int]) -> None:
    tune_for_serving()

    class Node:
        partner: object = None

    a, b = Node(), Node()
    a.partner, b.partner = b, a  # a cycle: only the collector frees it
    del a, b
    assert gc.collect() >= 2
